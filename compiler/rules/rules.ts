/**
 * The derivative-rule table: one entry per primitive the compiler knows.
 *
 * Each entry says how the forward operation is written and what its vector-Jacobian
 * product is: given the inputs `x`, `y`, ..., the output `out` and the upstream gradient
 * `dout`, one contribution per input ("local gradient × upstream gradient"), or `null`
 * where the input gets no gradient. Rules are written with the expression builders of
 * ../ir/expr.ts, in the notation of the emitted code. Adding a Math function is adding
 * one entry here.
 */
import {
  type BinaryOp, type Ex,
  add, call, cmp, cond, div, mul, neg, not, num, pow, sub,
} from "../ir/expr.ts";

export interface VjpArgs {
  /** The operation's inputs, as they appear in the emitted code. */
  readonly args: readonly Ex[];
  /** The operation's output (reading it makes the forward pass keep it). */
  readonly out: Ex;
  /** The upstream gradient: the adjoint of `out`. */
  readonly dout: Ex;
}

export type RuleKind =
  | "linear"        // add, sub, neg: gradients pass through, scaled by constants
  | "bilinear"      // mul: each input's gradient is the other input times dout
  | "elementary"    // a smooth function of its inputs
  | "uses-output"   // a smooth function whose derivative is cheapest from its output
  | "routing"       // max, min, relu: the gradient goes to the chosen input
  | "zero"          // floor, round, sign, ...: piecewise constant, zero gradient
  | "logic";        // comparisons and boolean operators: no gradient, boolean result

export interface Rule {
  readonly kind: RuleKind;
  /** Number of inputs, or "variadic" for two or more. */
  readonly arity: number | "variadic";
  /** Name hint for a temporary holding the result. */
  readonly hint: string;
  readonly result: "number" | "boolean";
  /** The forward expression, given the inputs and the callee as spelled in the source. */
  forward(args: readonly Ex[], callee: string): Ex;
  /** One gradient contribution per input (null: none); absent for "zero" and "logic" rules. */
  vjp?(p: VjpArgs): readonly (Ex | null)[];
  /** Input ranges where the rule is smooth, for the table-driven tests. */
  readonly domain: readonly (readonly [number, number])[];
}

const ANY: [number, number] = [-3, 3];
const POSITIVE: [number, number] = [0.2, 4];
const UNIT: [number, number] = [-0.9, 0.9];

const callForward = (args: readonly Ex[], callee: string) => call(callee, ...args);

/** A smooth function of one input: `vjp` gets the input, the output and dout. */
function unary(
  hint: string,
  vjp: (x: Ex, out: Ex, dout: Ex) => Ex,
  opts: { domain?: [number, number]; kind?: RuleKind } = {},
): Rule {
  return {
    kind: opts.kind ?? "elementary",
    arity: 1,
    hint,
    result: "number",
    forward: callForward,
    vjp: ({ args, out, dout }) => [vjp(args[0]!, out, dout)],
    domain: [opts.domain ?? ANY],
  };
}

/** A piecewise-constant function: the gradient is zero almost everywhere. */
function zero(hint: string, arity = 1): Rule {
  return { kind: "zero", arity, hint, result: "number", forward: callForward, domain: [ANY] };
}

function binary(op: BinaryOp, hint: string, kind: RuleKind, vjp: Rule["vjp"], domain = [ANY, ANY]): Rule {
  return { kind, arity: 2, hint, result: "number", forward: ([x, y]) => ({ k: "bin", op, a: x!, b: y! }), vjp, domain };
}

function logic(op: BinaryOp): Rule {
  return { kind: "logic", arity: 2, hint: "cond", result: "boolean", forward: ([x, y]) => cmp(op, x!, y!), domain: [ANY, ANY] };
}

/**
 * max/min route the gradient to the first input that attains the extreme (the seeds' max
 * gate): input i wins when it beats every earlier input strictly and every later one or ties.
 */
function extreme(strict: BinaryOp, loose: BinaryOp, hint: string): Rule {
  return {
    kind: "routing",
    arity: "variadic",
    hint,
    result: "number",
    forward: callForward,
    vjp: ({ args, dout }) =>
      args.map((xi, i) => {
        const tests = args.flatMap((xj, j) => (j === i ? [] : [cmp(j < i ? strict : loose, xi, xj)]));
        const wins = tests.reduce((acc, t) => cmp("&&", acc, t));
        return cond(wins, dout, num(0));
      }),
    domain: [ANY, ANY, ANY],
  };
}

const powRule = (forward: Rule["forward"]): Rule => ({
  kind: "elementary",
  arity: 2,
  hint: "pow",
  result: "number",
  forward,
  vjp: ({ args: [x, y], out, dout }) => [
    mul(mul(y!, pow(x!, sub(y!, num(1)))), dout),
    mul(mul(out, call("Math.log", x!)), dout),
  ],
  domain: [POSITIVE, [-2, 3]],
});

export const RULES: Readonly<Record<string, Rule>> = {
  // operators
  "+": binary("+", "sum", "linear", ({ dout }) => [dout, dout]),
  "-": binary("-", "diff", "linear", ({ dout }) => [dout, neg(dout)]),
  "*": binary("*", "prod", "bilinear", ({ args: [x, y], dout }) => [mul(y!, dout), mul(x!, dout)]),
  "/": binary("/", "quot", "elementary",
    ({ args: [x, y], dout }) => [div(dout, y!), mul(div(neg(x!), pow(y!, num(2))), dout)],
    [ANY, POSITIVE]),
  "**": powRule(([x, y]) => pow(x!, y!)),
  neg: { kind: "linear", arity: 1, hint: "neg", result: "number", forward: ([x]) => neg(x!), vjp: ({ dout }) => [neg(dout)], domain: [ANY] },
  /** `const a = b`, `+b`: the value passes through unchanged. */
  id: { kind: "linear", arity: 1, hint: "copy", result: "number", forward: ([x]) => x!, vjp: ({ dout }) => [dout], domain: [ANY] },

  // Math
  "Math.pow": powRule(callForward),
  "Math.exp": unary("exp", (_x, out, dout) => mul(out, dout), { kind: "uses-output" }),
  "Math.expm1": unary("expm1", (_x, out, dout) => mul(add(out, num(1)), dout), { kind: "uses-output" }),
  "Math.log": unary("log", (x, _out, dout) => div(dout, x), { domain: POSITIVE }),
  "Math.log1p": unary("log1p", (x, _out, dout) => div(dout, add(num(1), x)), { domain: POSITIVE }),
  "Math.sqrt": unary("sqrt", (_x, out, dout) => div(dout, mul(num(2), out)), { domain: POSITIVE, kind: "uses-output" }),
  "Math.cbrt": unary("cbrt", (_x, out, dout) => div(dout, mul(num(3), pow(out, num(2)))), { domain: POSITIVE, kind: "uses-output" }),
  "Math.sin": unary("sin", (x, _out, dout) => mul(call("Math.cos", x), dout)),
  "Math.cos": unary("cos", (x, _out, dout) => mul(neg(call("Math.sin", x)), dout)),
  "Math.tan": unary("tan", (_x, out, dout) => mul(add(num(1), pow(out, num(2))), dout), { domain: [-1.2, 1.2], kind: "uses-output" }),
  "Math.asin": unary("asin", (x, _out, dout) => div(dout, call("Math.sqrt", sub(num(1), pow(x, num(2))))), { domain: UNIT }),
  "Math.acos": unary("acos", (x, _out, dout) => div(neg(dout), call("Math.sqrt", sub(num(1), pow(x, num(2))))), { domain: UNIT }),
  "Math.atan": unary("atan", (x, _out, dout) => div(dout, add(num(1), pow(x, num(2))))),
  "Math.sinh": unary("sinh", (x, _out, dout) => mul(call("Math.cosh", x), dout)),
  "Math.cosh": unary("cosh", (x, _out, dout) => mul(call("Math.sinh", x), dout)),
  "Math.tanh": unary("tanh", (_x, out, dout) => mul(sub(num(1), pow(out, num(2))), dout), { kind: "uses-output" }),
  // |x| has no derivative at 0; like most AD tools we use sign(x), i.e. 0 there
  "Math.abs": unary("abs", (x, _out, dout) => mul(call("Math.sign", x), dout)),
  "Math.atan2": {
    kind: "elementary",
    arity: 2,
    hint: "angle",
    result: "number",
    forward: callForward,
    vjp: ({ args: [y, x], dout }) => {
      const r2 = add(pow(x!, num(2)), pow(y!, num(2)));
      return [mul(div(x!, r2), dout), mul(div(neg(y!), r2), dout)];
    },
    domain: [ANY, POSITIVE],
  },
  "Math.hypot": {
    kind: "uses-output",
    arity: "variadic",
    hint: "norm",
    result: "number",
    forward: callForward,
    vjp: ({ args, out, dout }) => args.map((x) => mul(div(x, out), dout)),
    domain: [ANY, ANY, ANY],
  },
  "Math.max": extreme(">", ">=", "max"),
  "Math.min": extreme("<", "<=", "min"),
  "Math.floor": zero("floor"),
  "Math.ceil": zero("ceil"),
  "Math.round": zero("round"),
  "Math.trunc": zero("trunc"),
  "Math.sign": zero("sign"),

  // runtime scalar helpers (runtime/scalar.ts)
  sigmoid: unary("sig", (_x, out, dout) => mul(mul(sub(num(1), out), out), dout), { kind: "uses-output" }),
  // relu'(0) is taken as 0, as PyTorch does
  relu: unary("act", (x, _out, dout) => cond(cmp(">", x, num(0)), dout, num(0)), { kind: "routing" }),

  // comparisons and logic: they steer branches and carry no gradient
  "<": logic("<"),
  "<=": logic("<="),
  ">": logic(">"),
  ">=": logic(">="),
  "===": logic("==="),
  "!==": logic("!=="),
  "&&": logic("&&"),
  "||": logic("||"),
  "!": { kind: "logic", arity: 1, hint: "cond", result: "boolean", forward: ([x]) => not(x!), domain: [ANY] },
};

/** The runtime's scalar helpers that a user may import and call. */
export const RUNTIME_FUNCTIONS: ReadonlySet<string> = new Set(["sigmoid", "relu"]);

/** Math members that are constants. */
export const MATH_CONSTANTS: Readonly<Record<string, number>> = {
  PI: Math.PI, E: Math.E, LN2: Math.LN2, LN10: Math.LN10, LOG2E: Math.LOG2E,
  LOG10E: Math.LOG10E, SQRT2: Math.SQRT2, SQRT1_2: Math.SQRT1_2,
};

export function ruleFor(op: string): Rule {
  const rule = RULES[op];
  if (!rule) throw new Error(`no derivative rule for '${op}'`);
  return rule;
}
