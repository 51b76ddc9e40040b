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
  add, bool, call, cmp, cond, div, index, list, method, mul, neg, newOf, not, num, pow, prop, rt, sub,
} from "../ir/expr.ts";
import type { CustomCall, ValueType } from "../ir/ir.ts";

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
   * A computation the contributions share, done once: the backward pass stores it in a
   * variable and `vjp` reads it as `shared` (a backward function returning one gradient
   * per input as a tuple is called once, not once per input).
   */
  shared?(p: VjpArgs): Ex;
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
 * gate, torch.max over a dimension): input i gets it unless an earlier input ties or beats
 * it, or a later one beats it. NaN beats nothing and is beaten by nothing, so a NaN input
 * gets the gradient and the NaN reaches whatever uses it (README "Singular points").
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
        const tests = args.flatMap((xj, j) => (j === i ? [] : [cmp(j < i ? loose : strict, xj, xi)]));
        const beaten = tests.reduce((acc, t) => cmp("||", acc, t));
        return cond(beaten, num(0), dout);
      }),
    domain: [ANY, ANY, ANY],
  };
}

const isLiteral = (e: Ex): e is Extract<Ex, { k: "num" }> => e.k === "num";

const powRule = (forward: Rule["forward"]): Rule => ({
  kind: "elementary",
  arity: 2,
  hint: "pow",
  result: "number",
  forward,
  // at the singular points, PyTorch's convention (README "Singular points"): no gradient to x
  // where y is 0 (0 ** 0 too), none to y where x is 0 and y >= 0; Infinity or NaN elsewhere as the formula gives
  vjp: ({ args: [x, y], out, dout }) => [
    isLiteral(y!) ? (y!.value === 0 ? null : mul(mul(y!, pow(x!, sub(y!, num(1)))), dout))
      : mul(cond(cmp("===", y!, num(0)), num(0), mul(y!, pow(x!, sub(y!, num(1))))), dout),
    isLiteral(x!) && x!.value !== 0 ? mul(mul(out, call("Math.log", x!)), dout)
      : mul(cond(cmp("&&", cmp("===", x!, num(0)), cmp(">=", y!, num(0))), num(0), mul(out, call("Math.log", x!))), dout),
  ],
  domain: [POSITIVE, [-2, 3]],
});

/** An element write is a statement, which the forward pass writes itself (primal.ts); it is never an expression. */
const writeStatement = (): never => {
  throw new Error("an element write is a statement, not an expression");
};

const SCALAR_RULES: Readonly<Record<string, Rule>> = {
  // operators
  "+": binary("+", "sum", "linear", ({ dout }) => [dout, dout]),
  "-": binary("-", "diff", "linear", ({ dout }) => [dout, neg(dout)]),
  "*": binary("*", "prod", "bilinear", ({ args: [x, y], dout }) => [mul(y!, dout), mul(x!, dout)]),
  "/": binary("/", "quot", "elementary",
    ({ args: [x, y], dout }) => [div(dout, y!), mul(div(neg(x!), pow(y!, num(2))), dout)],
    [ANY, POSITIVE]),
  "**": powRule(([x, y]) => pow(x!, y!)),
  // `a % b` is `a - trunc(a / b) * b`: slope 1 in a, and -trunc(a / b) in b, between the jumps
  "%": binary("%", "rem", "elementary",
    ({ args: [x, y], dout }) => [dout, mul(neg(call("Math.trunc", div(x!, y!))), dout)],
    [ANY, POSITIVE]),
  neg: { kind: "linear", arity: 1, hint: "neg", result: "number", forward: ([x]) => neg(x!), vjp: ({ dout }) => [neg(dout)], domain: [ANY] },
  /** `const a = b`, `+b`: the value passes through unchanged. */
  id: { kind: "linear", arity: 1, hint: "copy", result: "number", forward: ([x]) => x!, vjp: ({ dout }) => [dout], domain: [ANY] },

  // arrays: `x[i]` sends its gradient to one element; `x.length` has none
  index: {
    kind: "routing", arity: 2, signature: ["array", "number"], hint: "elem", result: "number",
    forward: ([a, i]) => index(a!, i!),
    vjp: ({ args: [, i], dout }) => [{ at: i!, grad: dout }, null],
    domain: [ANY, ANY],
  },
  length: { kind: "zero", arity: 1, signature: ["array"], hint: "n", result: "number", forward: ([a]) => prop(a!, "length"), domain: [ANY] },

  // local arrays: `new Array(n).fill(0)` or `new Float64Array(n)` (the callee says which), `[a, b]`
  "array.zeros": {
    kind: "zero", arity: 1, signature: ["number"], hint: "zeros", result: "array",
    forward: ([n], kind) => (kind === "Float64Array" ? newOf("Float64Array", n!) : method(newOf("Array<number>", n!), "fill", num(0))),
    domain: [ANY],
  },
  /** `x.slice()`: a new array with x's elements; every element's gradient goes back to x's. */
  "array.copy": {
    kind: "linear", arity: 1, signature: ["array"], hint: "copy", result: "array",
    forward: ([a]) => method(a!, "slice"),
    vjp: ({ dout }) => [dout],
    domain: [ANY],
  },
  "array.of": {
    kind: "linear", arity: "variadic", hint: "items", result: "array",
    forward: (items) => list(...items),
    vjp: ({ args, dout }) => args.map((_, j) => index(dout, num(j))),
    domain: [ANY, ANY],
  },
  // element writes: the array's gradient is one buffer, updated in place as the backward
  // pass walks back; `a[i] = v` takes element i's gradient for v and leaves none behind
  store: {
    kind: "routing", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "=",
    forward: writeStatement,
    vjp: ({ args: [, i], dout }) => [{ at: i!, grad: num(0), set: true }, null, index(dout, i!)],
    domain: [ANY, ANY, ANY],
  },
  storeAdd: {
    kind: "linear", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "+=",
    forward: writeStatement,
    vjp: ({ args: [, i], dout }) => [null, null, index(dout, i!)],
    domain: [ANY, ANY, ANY],
  },
  storeSub: {
    kind: "linear", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "-=",
    forward: writeStatement,
    vjp: ({ args: [, i], dout }) => [null, null, neg(index(dout, i!))],
    domain: [ANY, ANY, ANY],
  },
  /** `a.push(v)`; the middle input is the length before the push, where `v`'s gradient is found. */
  push: {
    kind: "linear", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "push",
    forward: ([a, , v]) => method(a!, "push", v!),
    vjp: ({ args: [, at], dout }) => [null, null, index(dout, at!)],
    domain: [ANY, ANY, ANY],
  },

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
  // relu'(0) is taken as 0, as PyTorch does; at NaN the gradient passes, as in PyTorch, so the NaN is seen
  relu: unary("act", (x, _out, dout) => cond(cmp("<=", x, num(0)), num(0), dout), { kind: "routing" }),

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

// ---- tensor operations of runtime/tensor.ts -------------------------------------------
//
// Keyed `tensor.<name>`. Their vector-Jacobian products are written with runtime
// operations, so the backward code reads like the seeds' (`matmul(transpose(hidden),
// dscores)`, `mask(dhidden, hidden)`) and stays inside the differentiable subset.
// Broadcasting is undone by `sumTo(d, x.shape)`: the bias gradient is a sum over the rows.

const shape = (x: Ex) => prop(x, "shape");
/** The gradient of an input that was broadcast: summed back to its own shape (or to a number). */
const unbroadcast = (d: Ex, x: Ex, type: ValueType): Ex =>
  type === "tensor" ? rt("sumTo", d, shape(x)) : rt("item", rt("sum", d));
const tneg = (d: Ex) => rt("neg", d);

function tensorRule(
  hint: string,
  signature: readonly ArgKind[],
  vjp: Rule["vjp"],
  opts: { optional?: number; result?: Rule["result"]; domain?: Rule["domain"]; kind?: RuleKind } = {},
): Rule {
  return {
    kind: opts.kind ?? (vjp ? "elementary" : "zero"),
    arity: signature.length,
    optional: opts.optional,
    signature,
    hint,
    result: opts.result ?? "tensor",
    forward: callForward,
    vjp,
    domain: opts.domain ?? signature.map(() => ANY),
  };
}

const TENSOR_RULES: Readonly<Record<string, Rule>> = {
  matmul: tensorRule("mm", ["tensor", "tensor"], ({ args: [a, b], dout }) => [
    rt("matmul", dout, rt("transpose", b!)),
    rt("matmul", rt("transpose", a!), dout),
  ], { kind: "bilinear" }),
  transpose: tensorRule("tr", ["tensor"], ({ dout }) => [rt("transpose", dout)], { kind: "linear" }),
  reshape: tensorRule("reshaped", ["tensor", "static"], ({ args: [x], dout }) => [rt("reshape", dout, shape(x!)), null], { kind: "linear" }),
  add: tensorRule("plus", ["tensor|number", "tensor|number"], ({ args: [a, b], dout, types }) => [
    unbroadcast(dout, a!, types[0]!),
    unbroadcast(dout, b!, types[1]!),
  ], { kind: "linear" }),
  sub: tensorRule("minus", ["tensor|number", "tensor|number"], ({ args: [a, b], dout, types }) => [
    unbroadcast(dout, a!, types[0]!),
    types[1] === "tensor" ? tneg(unbroadcast(dout, b!, "tensor")) : neg(unbroadcast(dout, b!, "number")),
  ], { kind: "linear" }),
  mul: tensorRule("prod", ["tensor|number", "tensor|number"], ({ args: [a, b], dout, types }) => [
    unbroadcast(rt("mul", dout, b!), a!, types[0]!),
    unbroadcast(rt("mul", dout, a!), b!, types[1]!),
  ], { kind: "bilinear" }),
  div: tensorRule("quot", ["tensor|number", "tensor|number"], ({ args: [a, b], out, dout, types }) => [
    unbroadcast(rt("div", dout, b!), a!, types[0]!),
    types[1] === "tensor"
      ? tneg(unbroadcast(rt("div", rt("mul", dout, out), b!), b!, "tensor"))
      : neg(unbroadcast(rt("div", rt("mul", dout, out), b!), b!, "number")),
  ], { domain: [ANY, POSITIVE] }),
  neg: tensorRule("negated", ["tensor"], ({ dout }) => [tneg(dout)], { kind: "linear" }),
  scale: tensorRule("scaled", ["tensor", "number"], ({ args: [t, s], dout }) => [
    rt("scale", dout, s!),
    rt("item", rt("sum", rt("mul", dout, t!))),
  ], { kind: "bilinear" }),
  exp: tensorRule("exps", ["tensor"], ({ out, dout }) => [rt("mul", dout, out)], { kind: "uses-output" }),
  log: tensorRule("logs", ["tensor"], ({ args: [x], dout }) => [rt("div", dout, x!)], { domain: [POSITIVE] }),
  tanh: tensorRule("tanhs", ["tensor"], ({ out, dout }) => [rt("mul", dout, rt("sub", num(1), rt("mul", out, out)))], { kind: "uses-output" }),
  sigmoid: tensorRule("sigs", ["tensor"], ({ out, dout }) => [rt("mul", dout, rt("mul", out, rt("sub", num(1), out)))], { kind: "uses-output" }),
  // relu'(0) is 0: the seeds' `dhidden[hidden <= 0] = 0`
  relu: tensorRule("act", ["tensor"], ({ out, dout }) => [rt("mask", dout, out)], { kind: "routing" }),
  // the larger input gets the gradient; on a tie, the second
  maximum: tensorRule("clipped", ["tensor", "tensor|number"], ({ args: [t, s], dout, types }) => {
    const wins = rt("mul", dout, rt("gt", t!, s!));
    return [wins, unbroadcast(rt("sub", dout, wins), s!, types[1]!)];
  }, { kind: "routing" }),
  sum: tensorRule("total", ["tensor", "static", "static"], ({ args: [x, axis], dout }) => [
    rt("broadcastTo", dout, shape(x!), ...(axis ? [axis] : [])), null, null,
  ], { optional: 2, kind: "linear" }),
  mean: tensorRule("avg", ["tensor", "static", "static"], ({ args: [x, axis], dout }) => {
    const axes = axis ? [axis] : [];
    return [rt("div", rt("broadcastTo", dout, shape(x!), ...axes), rt("axisSize", shape(x!), ...axes)), null, null];
  }, { optional: 2, kind: "linear" }),
  softmax: tensorRule("probs", ["tensor", "static"], ({ args: [, axis], out, dout }) => [
    rt("mul", out, rt("sub", dout, rt("sum", rt("mul", dout, out), axis ?? num(-1), bool(true)))), null,
  ], { optional: 1, kind: "uses-output" }),
  logSoftmax: tensorRule("logp", ["tensor", "static"], ({ args: [, axis], out, dout }) => [
    rt("sub", dout, rt("mul", rt("exp", out), rt("sum", dout, axis ?? num(-1), bool(true)))), null,
  ], { optional: 1, kind: "uses-output" }),
  gather: tensorRule("picked", ["tensor", "static"], ({ args: [x, labels], dout }) => [rt("scatter", dout, labels!, shape(x!)), null], { kind: "routing" }),
  scatter: tensorRule("scattered", ["tensor", "static", "static"], ({ args: [, labels], dout }) => [rt("gather", dout, labels!), null, null], { kind: "routing" }),
  sumTo: tensorRule("summed", ["tensor", "static"], ({ args: [x], dout }) => [rt("broadcastTo", dout, shape(x!)), null], { kind: "linear" }),
  broadcastTo: tensorRule("spread", ["tensor", "static", "static"], ({ args: [x, , axis], dout }) => [
    axis ? rt("sum", dout, axis) : rt("sumTo", dout, shape(x!)), null, null,
  ], { optional: 1, kind: "linear" }),
  mask: tensorRule("masked", ["tensor", "static"], ({ args: [, x], dout }) => [rt("mask", dout, x!), null], { kind: "routing" }),
  item: tensorRule("val", ["tensor"], ({ args: [x], dout }) => [rt("full", shape(x!), dout)], { result: "number", kind: "linear" }),
  // constants: no gradient flows through them
  gt: tensorRule("above", ["tensor", "tensor|number"], undefined),
  oneHot: tensorRule("onehot", ["static", "static"], undefined),
  zerosLike: tensorRule("zeros", ["tensor"], undefined),
  onesLike: tensorRule("ones", ["tensor"], undefined),
  axisSize: tensorRule("count", ["static", "static"], undefined, { optional: 1, result: "number" }),
};

/** The table: scalar rules by operator or callee, tensor rules as `tensor.<name>`. */
export const RULES: Readonly<Record<string, Rule>> = {
  ...SCALAR_RULES,
  ...Object.fromEntries(Object.entries(TENSOR_RULES).map(([name, rule]) => [`tensor.${name}`, rule])),
};

/** The runtime's scalar helpers that a user may import and call. */
export const RUNTIME_FUNCTIONS: ReadonlySet<string> = new Set(["sigmoid", "relu"]);
/** The runtime's tensor operations that a user may import and call. */
export const TENSOR_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(TENSOR_RULES));

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

/**
 * The rule of an operation: its entry in the table, or, for a call tsgrad keeps as a call
 * (`@gradient`, a package function), the rule its annotation describes. Every stage looks
 * rules up here, so a custom gradient is differentiated like any primitive.
 */
export function ruleOf(op: { readonly op: string; readonly custom?: CustomCall }): Rule {
  if (!op.custom) return ruleFor(op.op);
  let rule = customRules.get(op.custom);
  if (!rule) {
    rule = customRule(op.custom);
    customRules.set(op.custom, rule);
  }
  return rule;
}

const customRules = new WeakMap<CustomCall, Rule>();

/**
 * A call of `f` whose backward the user wrote: `fBackward(...inputs, out, dout)` returns the
 * gradient of the one input, or a tuple with one entry per input, of which the entries for
 * inputs that carry no gradient (labels, flags) are ignored. Without a backward, the call
 * has no gradient at all (a package function on values that are not differentiated).
 */
function customRule(c: CustomCall): Rule {
  const backward = c.backward;
  const single = c.params.length === 1;
  const backwardCall = ({ args, out, dout }: VjpArgs) => call(backward!, ...args, out, dout);
  return {
    kind: backward ? "elementary" : "zero",
    arity: c.params.length,
    signature: c.params.map((p): ArgKind => (p.type === "array" || p.type === "tensor" || p.type === "boolean" ? p.type : "number")),
    hint: `${c.forward}Out`,
    result: c.result === "tensor" || c.result === "boolean" ? c.result : "number",
    forward: callForward,
    vjp: backward
      ? (p) => c.params.map((param, i) => (!param.differentiable ? null : single ? backwardCall(p) : index(p.shared!, num(i))))
      : undefined,
    shared: backward && !single ? backwardCall : undefined,
    domain: c.params.map(() => ANY),
  };
}
