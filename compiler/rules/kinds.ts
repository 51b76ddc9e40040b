/**
 * What a derivative rule is: the shape of the entries of the rule tables (./rules.ts for
 * scalars and arrays, ./tensor.ts for the runtime's tensor operations), and the helpers
 * both tables build their entries with.
 */
import { add, call, type Ex } from "../ir/expr.ts";
import type { ValueType } from "../ir/ir.ts";

export interface VjpArgs {
  /** The operation's inputs, as they appear in the emitted code. */
  readonly args: readonly Ex[];
  /** The operation's output (reading it makes the forward pass keep it). */
  readonly out: Ex;
  /** The upstream gradient: the adjoint of `out`. */
  readonly dout: Ex;
  /** The inputs' types (a tensor op may take a tensor or a number in one position). */
  readonly types: readonly ValueType[];
  /** What the rule's `shared` expression was stored in, when it has one. */
  readonly shared?: Ex;
}

/** What a tangent rule is given: the inputs, the output and the inputs' tangents. */
export interface JvpArgs {
  readonly args: readonly Ex[];
  readonly out: Ex;
  /** The inputs' tangents as they appear in the emitted code (`x_dot`); null where the tangent is zero. */
  readonly dots: readonly (Ex | null)[];
  readonly types: readonly ValueType[];
}

/** What an input position accepts; `static` inputs (an axis, labels) get no gradient. */
export type ArgKind = "number" | "boolean" | "tensor" | "tensor|number" | "array" | "static";

/**
 * A gradient for one element of an array input: `dx[at] += grad`, or with `set`,
 * `dx[at] = grad` (an element write hands its gradient on and the old element had none).
 */
export interface ElementGrad {
  readonly at: Ex;
  readonly grad: Ex;
  readonly set?: boolean;
}

export type RuleKind =
  | "linear"        // add, sub, neg: gradients pass through, scaled by constants
  | "bilinear"      // mul: each input's gradient is the other input times dout
  | "elementary"    // a smooth function of its inputs
  | "uses-output"   // a smooth function whose derivative is cheapest from its output
  | "routing"       // max, min, relu: the gradient goes to the chosen input
  | "zero"          // floor, round, sign, ...: piecewise constant, zero gradient
  | "logic";        // comparisons and boolean operators: no gradient, boolean result

/**
 * What computing a value again costs, which decides where a value is kept in a variable and
 * where it is computed again (transforms/context.ts `isRematerialised`, transforms/tape.ts):
 * - "free": a comparison, an element or a length, written out wherever it is read;
 * - "arithmetic": `+`, `-`, `*`, negation on numbers, also written out where it is read when
 *   no derivative flows through it (index arithmetic: `x[i + 1]`);
 * - "cheap": worth redoing in a loop's backward body rather than saving (`a / b`, `x ** 2`);
 * - "expensive" (what a rule without `cost` is): saved for the backward pass.
 */
export type Cost = "free" | "arithmetic" | "cheap" | "expensive";

const COSTS: readonly Cost[] = ["free", "arithmetic", "cheap", "expensive"];

/** Whether a cost is at most another: `atMost(costOf(op), "cheap")`. */
export function atMost(cost: Cost, limit: Cost): boolean {
  return COSTS.indexOf(cost) <= COSTS.indexOf(limit);
}

export interface Rule {
  readonly kind: RuleKind;
  /** Number of inputs, or "variadic" for two or more. */
  readonly arity: number | "variadic";
  /** How many trailing inputs may be left out (an optional axis). */
  readonly optional?: number;
  /** What each input accepts; absent: numbers (booleans for `logic` rules). */
  readonly signature?: readonly ArgKind[];
  /** Name hint for a temporary holding the result. */
  readonly hint: string;
  readonly result: "number" | "boolean" | "tensor" | "array";
  /**
   * For an element write: the statement it is (`a[i] = v`, `a[i] += v`, `a[i] -= v`,
   * `a.push(v)`). Its inputs are the array, the index and the value; the result is the
   * same array, written in place.
   */
  readonly write?: "=" | "+=" | "-=" | "push";
  /** The forward expression, given the inputs and the callee as spelled in the source. */
  forward(args: readonly Ex[], callee: string): Ex;
  /** One gradient contribution per input (null: none); absent for "zero" and "logic" rules. */
  vjp?(p: VjpArgs): readonly (Ex | ElementGrad | null)[];
  /**
   * Forward mode: the tangent of the output, given the inputs' tangents (`x_dot`; null where
   * an input's tangent is zero), or null when it is zero. For an element write, the tangent
   * of the value written, which goes into the array's tangent the way the value goes into
   * the array. Present wherever `vjp` is (and for the zero rules: null).
   */
  jvp?(p: JvpArgs, callee: string): Ex | null;
  /**
   * A computation the contributions share, done once: the backward pass stores it in a
   * variable and `vjp` reads it as `shared` (a backward function returning one gradient
   * per input as a tuple is called once, not once per input).
   */
  shared?(p: VjpArgs): Ex;
  /**
   * What recomputing the result costs (absent: "expensive"); a function when it depends on
   * which inputs are constants (`x ** 2` is cheap, `x ** y` is not).
   */
  readonly cost?: Cost | ((constant: readonly boolean[]) => Cost);
  /** Input ranges where the rule is smooth, for the table-driven tests. */
  readonly domain: readonly (readonly [number, number])[];
}

export const ANY: [number, number] = [-3, 3];
export const POSITIVE: [number, number] = [0.2, 4];
export const UNIT: [number, number] = [-0.9, 0.9];

export const callForward = (args: readonly Ex[], callee: string) => call(callee, ...args);

/** The sum of some tangent terms, leaving out the zero ones (null); null when all are. */
export function sumOf(terms: readonly (Ex | null)[], plus: (a: Ex, b: Ex) => Ex = add): Ex | null {
  return terms.reduce<Ex | null>((acc, t) => (t === null ? acc : acc === null ? t : plus(acc, t)), null);
}
