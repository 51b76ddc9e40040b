/**
 * The derivative-rule table: one entry per primitive the compiler knows.
 *
 * Each entry says how the forward operation is written and what its vector-Jacobian
 * product is: given the inputs `x`, `y`, ..., the output `out` and the upstream gradient
 * `dout`, one contribution per input ("local gradient × upstream gradient"), or `null`
 * where the input gets no gradient. Rules are written with the expression builders of
 * ../ir/expr.ts, in the notation of the emitted code. Adding a Math function is adding
 * one entry here.
 *
 * Each entry also has its tangent rule for forward mode (`jvp`): given the inputs' tangents
 * `x_dot`, ..., the output's. A scalar function of one input has one local derivative,
 * written once as `(x, out, d) => derivative × d`: its vjp applies it to `dout`, its jvp to
 * `x_dot` (the same number either way, as the Jacobian is 1 × 1).
 */
import {
  type BinaryOp, type Ex,
  add, call, cmp, cond, div, index, list, method, mul, neg, not, num, pow, prop, rt, sub, tupleIndex, zeros,
} from "../ir/expr.ts";
import type { Atom, CustomCall } from "../ir/ir.ts";
import { ANY, POSITIVE, UNIT, callForward, sumOf, type ArgKind, type Cost, type Rule, type RuleKind, type VjpArgs } from "./kinds.ts";
import { TENSOR_RULES } from "./tensor.ts";

export type { ArgKind, Cost, ElementGrad, JvpArgs, Rule, RuleKind, VjpArgs } from "./kinds.ts";
export { atMost } from "./kinds.ts";

/** A smooth function of one input: `local(x, out, d)` is its derivative times `d` (dout, or x_dot). */
function unary(
  hint: string,
  local: (x: Ex, out: Ex, d: Ex) => Ex,
  opts: { domain?: [number, number]; kind?: RuleKind } = {},
): Rule {
  return {
    kind: opts.kind ?? "elementary",
    arity: 1,
    hint,
    result: "number",
    forward: callForward,
    vjp: ({ args, out, dout }) => [local(args[0]!, out, dout)],
    jvp: ({ args: [x], out, dots: [xd] }) => (xd ? local(x!, out, xd) : null),
    domain: [opts.domain ?? ANY],
  };
}

/** A piecewise-constant function: the gradient is zero almost everywhere. */
function zero(hint: string, arity = 1): Rule {
  return { kind: "zero", arity, hint, result: "number", forward: callForward, jvp: () => null, domain: [ANY] };
}

function binary(op: BinaryOp, hint: string, kind: RuleKind, cost: Cost, vjp: Rule["vjp"], jvp: Rule["jvp"], domain = [ANY, ANY]): Rule {
  return { kind, arity: 2, hint, result: "number", forward: ([x, y]) => ({ k: "bin", op, a: x!, b: y! }), vjp, jvp, cost, domain };
}

function logic(op: BinaryOp): Rule {
  return { kind: "logic", arity: 2, hint: "cond", result: "boolean", forward: ([x, y]) => cmp(op, x!, y!), cost: "free", domain: [ANY, ANY] };
}

/**
 * max/min route the gradient to the first input that attains the extreme (the seeds' max
 * gate, torch.max over a dimension): input i gets it unless an earlier input ties or beats
 * it, or a later one beats it. NaN beats nothing and is beaten by nothing, so a NaN input
 * gets the gradient and the NaN reaches whatever uses it (README "Singular points").
 */
function extreme(strict: BinaryOp, loose: BinaryOp, hint: string): Rule {
  const beaten = (args: readonly Ex[], i: number) => args
    .flatMap((xj, j) => (j === i ? [] : [cmp(j < i ? loose : strict, xj, args[i]!)]))
    .reduce((acc, t) => cmp("||", acc, t));
  return {
    kind: "routing",
    arity: "variadic",
    hint,
    result: "number",
    forward: callForward,
    vjp: ({ args, dout }) => args.map((_, i) => cond(beaten(args, i), num(0), dout)),
    // the tangent of the input that gets the gradient (of each, where NaN lets several)
    jvp: ({ args, dots }) => sumOf(dots.map((d, i) => d && cond(beaten(args, i), num(0), d))),
    domain: [ANY, ANY, ANY],
  };
}

const zerosArray = ([n]: readonly Ex[], kind: string): Ex => zeros(n!, kind);

/** `a` followed by `path`: `.name` a field, `[#]` the next index, `[2]` a literal one. */
function readPath(a: Ex, indices: readonly Ex[], path: string): Ex {
  let e = a;
  let k = 0;
  for (const [, field, at] of path.matchAll(/\.([\w$]+)|\[(#|\d+)\]/g)) {
    e = field !== undefined ? prop(e, field) : index(e, at === "#" ? indices[k++]! : num(Number(at)));
  }
  return e;
}

const isLiteral = (e: Ex): e is Extract<Ex, { k: "num" }> => e.k === "num";

/**
 * x ** y: its two partial derivatives times `d` (dout, or the input's tangent). At the
 * singular points, PyTorch's convention (README "Singular points"): no gradient to x where y
 * is 0 (0 ** 0 too), none to y where x is 0 and y >= 0; Infinity or NaN elsewhere as the formula gives.
 */
const powInX = (x: Ex, y: Ex, d: Ex): Ex | null =>
  isLiteral(y) ? (y.value === 0 ? null : mul(mul(y, pow(x, sub(y, num(1)))), d))
    : mul(cond(cmp("===", y, num(0)), num(0), mul(y, pow(x, sub(y, num(1))))), d);
const powInY = (x: Ex, y: Ex, out: Ex, d: Ex): Ex =>
  isLiteral(x) && x.value !== 0 ? mul(mul(out, call("Math.log", x)), d)
    : mul(cond(cmp("&&", cmp("===", x, num(0)), cmp(">=", y, num(0))), num(0), mul(out, call("Math.log", x))), d);

const powRule = (forward: Rule["forward"], cost?: Rule["cost"]): Rule => ({
  kind: "elementary",
  arity: 2,
  hint: "pow",
  result: "number",
  forward,
  vjp: ({ args: [x, y], out, dout }) => [powInX(x!, y!, dout), powInY(x!, y!, out, dout)],
  jvp: ({ args: [x, y], out, dots: [xd, yd] }) => sumOf([xd && powInX(x!, y!, xd), yd && powInY(x!, y!, out, yd)]),
  cost,
  domain: [POSITIVE, [-2, 3]],
});

/** An element write is a statement, which the forward pass writes itself (primal.ts); it is never an expression. */
const writeStatement = (): never => {
  throw new Error("an element write is a statement, not an expression");
};

const SCALAR_RULES: Readonly<Record<string, Rule>> = {
  // operators
  "+": binary("+", "sum", "linear", "arithmetic", ({ dout }) => [dout, dout], ({ dots: [xd, yd] }) => sumOf([xd!, yd!])),
  "-": binary("-", "diff", "linear", "arithmetic", ({ dout }) => [dout, neg(dout)], ({ dots: [xd, yd] }) => sumOf([xd!, yd && neg(yd)])),
  "*": binary("*", "prod", "bilinear", "arithmetic", ({ args: [x, y], dout }) => [mul(y!, dout), mul(x!, dout)],
    ({ args: [x, y], dots: [xd, yd] }) => sumOf([xd && mul(xd, y!), yd && mul(x!, yd)])),
  "/": binary("/", "quot", "elementary", "cheap",
    ({ args: [x, y], dout }) => [div(dout, y!), mul(div(neg(x!), pow(y!, num(2))), dout)],
    // (x_dot - out * y_dot) / y
    ({ args: [, y], out, dots: [xd, yd] }) => {
      const top = sumOf([xd!, yd && neg(mul(out, yd))]);
      return top && div(top, y!);
    },
    [ANY, POSITIVE]),
  // a constant power (`x ** 2`) is cheap to redo
  "**": powRule(([x, y]) => pow(x!, y!), ([, constant]) => (constant ? "cheap" : "expensive")),
  // `a % b` is `a - trunc(a / b) * b`: slope 1 in a, and -trunc(a / b) in b, between the jumps
  "%": binary("%", "rem", "elementary", "expensive",
    ({ args: [x, y], dout }) => [dout, mul(neg(call("Math.trunc", div(x!, y!))), dout)],
    ({ args: [x, y], dots: [xd, yd] }) => sumOf([xd!, yd && neg(mul(call("Math.trunc", div(x!, y!)), yd))]),
    [ANY, POSITIVE]),
  neg: { kind: "linear", arity: 1, hint: "neg", result: "number", forward: ([x]) => neg(x!), vjp: ({ dout }) => [neg(dout)], jvp: ({ dots: [xd] }) => xd && neg(xd), cost: "arithmetic", domain: [ANY] },
  /** `const a = b`, `+b`: the value passes through unchanged. */
  id: { kind: "linear", arity: 1, hint: "copy", result: "number", forward: ([x]) => x!, vjp: ({ dout }) => [dout], jvp: ({ dots: [xd] }) => xd!, cost: "arithmetic", domain: [ANY] },

  // arrays: `x[i]` sends its gradient to one element; `x.length` has none. A nested array
  // (`W: number[][]`) is read with two indices, `W[i][j]`, and its gradient is an array of
  // rows of the same shape: the element is `dW[i][j]` (the index `[i, j]`, code.ts)
  index: {
    kind: "routing", arity: 3, optional: 1, signature: ["array", "number", "number"], hint: "elem", result: "number",
    forward: ([a, i, j]) => (j ? index(index(a!, i!), j) : index(a!, i!)),
    vjp: ({ args: [, i, j], dout }) => [{ at: j ? list(i!, j) : i!, grad: dout }, null, null],
    jvp: ({ args: [, i, j], dots: [ad] }) => ad && (j ? index(index(ad, i!), j) : index(ad, i!)),
    cost: "free",
    domain: [ANY, ANY],
  },
  length: { kind: "zero", arity: 1, signature: ["array"], hint: "n", result: "number", forward: ([a]) => prop(a!, "length"), jvp: () => null, cost: "free", domain: [ANY] },
  /**
   * A number read from constant data (an array of records or of arrays, never differentiated):
   * `pts[i].x`, `X[i][j]`. The callee is the access after the array, `#` standing for each index in turn.
   */
  read: {
    kind: "zero", arity: "variadic", signature: ["array", "number", "number", "number", "number", "number", "number", "number"], hint: "elem", result: "number",
    forward: ([a, ...indices], path) => readPath(a!, indices, path),
    jvp: () => null,
    cost: "free",
    domain: [ANY, ANY],
  },

  // local arrays: `new Array(n).fill(0)` or `new Float64Array(n)` (the callee says which), `[a, b]`
  "array.zeros": {
    kind: "zero", arity: 1, signature: ["number"], hint: "zeros", result: "array",
    forward: zerosArray,
    // a local array's tangent starts as zeros of the same kind and length
    jvp: ({ args }, kind) => zerosArray(args, kind),
    domain: [ANY],
  },
  /** `x.slice()`: a new array with x's elements; every element's gradient goes back to x's. */
  "array.copy": {
    kind: "linear", arity: 1, signature: ["array"], hint: "copy", result: "array",
    forward: ([a]) => method(a!, "slice"),
    vjp: ({ dout }) => [dout],
    jvp: ({ dots: [ad] }) => ad && method(ad, "slice"),
    cost: "arithmetic",
    domain: [ANY],
  },
  "array.of": {
    kind: "linear", arity: "variadic", hint: "items", result: "array",
    forward: (items) => list(...items),
    vjp: ({ args, dout }) => args.map((_, j) => index(dout, num(j))),
    jvp: ({ dots }) => (dots.every((d) => d === null) ? null : list(...dots.map((d) => d ?? num(0)))),
    cost: "arithmetic",
    domain: [ANY, ANY],
  },
  // element writes: the array's gradient is one buffer, updated in place as the backward
  // pass walks back; `a[i] = v` takes element i's gradient for v and leaves none behind
  store: {
    kind: "routing", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "=",
    forward: writeStatement,
    vjp: ({ args: [, i], dout }) => [{ at: i!, grad: num(0), set: true }, null, index(dout, i!)],
    // `a_dot[i] = v_dot`: the old element's tangent is overwritten too
    jvp: ({ dots: [, , vd] }) => vd ?? num(0),
    domain: [ANY, ANY, ANY],
  },
  storeAdd: {
    kind: "linear", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "+=",
    forward: writeStatement,
    vjp: ({ args: [, i], dout }) => [null, null, index(dout, i!)],
    jvp: ({ dots: [, , vd] }) => vd!,
    domain: [ANY, ANY, ANY],
  },
  storeSub: {
    kind: "linear", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "-=",
    forward: writeStatement,
    vjp: ({ args: [, i], dout }) => [null, null, neg(index(dout, i!))],
    jvp: ({ dots: [, , vd] }) => vd!,
    domain: [ANY, ANY, ANY],
  },
  /** `a.push(v)`; the middle input is the length before the push, where `v`'s gradient is found. */
  push: {
    kind: "linear", arity: 3, signature: ["array", "number", "number"], hint: "stored", result: "array", write: "push",
    forward: ([a, , v]) => method(a!, "push", v!),
    vjp: ({ args: [, at], dout }) => [null, null, index(dout, at!)],
    jvp: ({ dots: [, , vd] }) => vd ?? num(0),
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
    // (x * y_dot - y * x_dot) / (x² + y²)
    jvp: ({ args: [y, x], dots: [yd, xd] }) => {
      const top = sumOf([yd && mul(x!, yd), xd && neg(mul(y!, xd))]);
      return top && div(top, add(pow(x!, num(2)), pow(y!, num(2))));
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
    // (x * x_dot + y * y_dot + ...) / out
    jvp: ({ args, out, dots }) => {
      const top = sumOf(dots.map((d, i) => d && mul(args[i]!, d)));
      return top && div(top, out);
    },
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
  "!": { kind: "logic", arity: 1, hint: "cond", result: "boolean", forward: ([x]) => not(x!), cost: "free", domain: [ANY] },
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

/** What recomputing an operation's result costs: its rule's `cost`, given which of its inputs are constants. */
export function costOf(op: { readonly op: string; readonly custom?: CustomCall; readonly args: readonly Atom[] }): Cost {
  const cost = ruleOf(op).cost ?? "expensive";
  return typeof cost === "function" ? cost(op.args.map((a) => a.kind === "const")) : cost;
}


/**
 * A call of `f` whose backward the user wrote: `fBackward(...inputs, out, dout)` returns the
 * gradient of the one input, or a tuple with one entry per input, of which the entries for
 * inputs that carry no gradient (labels, flags) are ignored. Without a backward, the call
 * has no gradient at all (a package function on values that are not differentiated).
 */
/**
 * Forward mode through a `@tangent fTangent` call: `fTangent(...inputs, out, ...dots)`, one
 * tangent per differentiated input, a zero of its shape where that tangent is zero.
 */
function tangentCall(c: CustomCall, tangent: string): NonNullable<Rule["jvp"]> {
  const zero = (x: Ex, i: number): Ex => {
    const p = c.params[i]!;
    if (p.type === "tensor") return rt("zerosLike", x);
    if (p.type !== "array") return num(0);
    return zeros(prop(x, "length"), p.typeText ?? "");
  };
  return ({ args, out, dots }) => {
    const live = c.params.some((p, i) => p.differentiable && dots[i] !== null);
    if (!live) return null;
    return call(tangent, ...args, out, ...c.params.flatMap((p, i) => (p.differentiable ? [dots[i] ?? zero(args[i]!, i)] : [])));
  };
}

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
      ? (p) => c.params.map((param, i) => (!param.differentiable ? null : single ? backwardCall(p) : tupleIndex(p.shared!, i)))
      : undefined,
    shared: backward && !single ? backwardCall : undefined,
    // a user's backward gives no forward derivative: forward mode calls the `@tangent` function
    // when there is one and rejects the call otherwise (transforms/forward.ts); a call without a
    // gradient has a zero tangent
    jvp: !backward ? () => null : c.tangent ? tangentCall(c, c.tangent) : undefined,
    domain: c.params.map(() => ANY),
  };
}
