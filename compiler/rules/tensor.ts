/**
 * The tensor operations of runtime/tensor.ts, keyed `tensor.<name>` in the table (./rules.ts).
 */
import { bool, neg, num, prop, rt, type Ex } from "../ir/expr.ts";
import type { ValueType } from "../ir/ir.ts";
import { ANY, POSITIVE, callForward, sumOf, type ArgKind, type Rule, type RuleKind } from "./kinds.ts";

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

/**
 * A tangent that may have a smaller shape than the output (a broadcast bias, a number),
 * spread over the output's: the transpose of `unbroadcast`. A tensor beside a number is
 * already shaped like the output.
 */
const spread = (d: Ex, out: Ex, type: ValueType, other: ValueType): Ex =>
  type !== "tensor" ? rt("full", shape(out), d) : other === "tensor" ? rt("broadcastTo", d, shape(out)) : d;
/** Tangents of an elementwise sum of terms, each already shaped like the output. */
const tsum = (terms: readonly (Ex | null)[]) => sumOf(terms, (a, b) => rt("add", a, b));
/** A linear op applied to the first input's tangent: `op(x_dot, ...the other inputs)`. */
const linearIn = (name: string): Rule["jvp"] => ({ args, dots: [xd] }) => xd && rt(name, xd, ...args.slice(1));

function tensorRule(
  hint: string,
  signature: readonly ArgKind[],
  vjp: Rule["vjp"],
  jvp: Rule["jvp"],
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
    jvp: jvp ?? (() => null),
    domain: opts.domain ?? signature.map(() => ANY),
  };
}

export const TENSOR_RULES: Readonly<Record<string, Rule>> = {
  matmul: tensorRule("mm", ["tensor", "tensor"], ({ args: [a, b], dout }) => [
    rt("matmul", dout, rt("transpose", b!)),
    rt("matmul", rt("transpose", a!), dout),
  ], ({ args: [a, b], dots: [ad, bd] }) => tsum([ad && rt("matmul", ad, b!), bd && rt("matmul", a!, bd)]), { kind: "bilinear" }),
  transpose: tensorRule("tr", ["tensor"], ({ dout }) => [rt("transpose", dout)], linearIn("transpose"), { kind: "linear" }),
  reshape: tensorRule("reshaped", ["tensor", "static"], ({ args: [x], dout }) => [rt("reshape", dout, shape(x!)), null], linearIn("reshape"), { kind: "linear" }),
  add: tensorRule("plus", ["tensor|number", "tensor|number"], ({ args: [a, b], dout, types }) => [
    unbroadcast(dout, a!, types[0]!),
    unbroadcast(dout, b!, types[1]!),
  ], ({ out, dots: [ad, bd], types }) =>
    ad && bd ? rt("add", ad, bd) : ad ? spread(ad, out, types[0]!, types[1]!) : bd && spread(bd, out, types[1]!, types[0]!), { kind: "linear" }),
  sub: tensorRule("minus", ["tensor|number", "tensor|number"], ({ args: [a, b], dout, types }) => [
    unbroadcast(dout, a!, types[0]!),
    types[1] === "tensor" ? tneg(unbroadcast(dout, b!, "tensor")) : neg(unbroadcast(dout, b!, "number")),
  ], ({ out, dots: [ad, bd], types }) =>
    ad && bd ? rt("sub", ad, bd) : ad ? spread(ad, out, types[0]!, types[1]!) : bd && tneg(spread(bd, out, types[1]!, types[0]!)), { kind: "linear" }),
  mul: tensorRule("prod", ["tensor|number", "tensor|number"], ({ args: [a, b], dout, types }) => [
    unbroadcast(rt("mul", dout, b!), a!, types[0]!),
    unbroadcast(rt("mul", dout, a!), b!, types[1]!),
  ], ({ args: [a, b], dots: [ad, bd] }) => tsum([ad && rt("mul", ad, b!), bd && rt("mul", a!, bd)]), { kind: "bilinear" }),
  // (a_dot - out * b_dot) / b
  div: tensorRule("quot", ["tensor|number", "tensor|number"], ({ args: [a, b], out, dout, types }) => [
    unbroadcast(rt("div", dout, b!), a!, types[0]!),
    types[1] === "tensor"
      ? tneg(unbroadcast(rt("div", rt("mul", dout, out), b!), b!, "tensor"))
      : neg(unbroadcast(rt("div", rt("mul", dout, out), b!), b!, "number")),
  ], ({ args: [, b], out, dots: [ad, bd] }) =>
    ad && bd ? rt("div", rt("sub", ad, rt("mul", out, bd)), b!) : ad ? rt("div", ad, b!) : bd && tneg(rt("div", rt("mul", out, bd), b!)),
  { domain: [ANY, POSITIVE] }),
  neg: tensorRule("negated", ["tensor"], ({ dout }) => [tneg(dout)], ({ dots: [xd] }) => xd && tneg(xd), { kind: "linear" }),
  scale: tensorRule("scaled", ["tensor", "number"], ({ args: [t, s], dout }) => [
    rt("scale", dout, s!),
    rt("item", rt("sum", rt("mul", dout, t!))),
  ], ({ args: [t, s], dots: [td, sd] }) => tsum([td && rt("scale", td, s!), sd && rt("scale", t!, sd)]), { kind: "bilinear" }),
  exp: tensorRule("exps", ["tensor"], ({ out, dout }) => [rt("mul", dout, out)], ({ out, dots: [xd] }) => xd && rt("mul", xd, out), { kind: "uses-output" }),
  log: tensorRule("logs", ["tensor"], ({ args: [x], dout }) => [rt("div", dout, x!)], ({ args: [x], dots: [xd] }) => xd && rt("div", xd, x!), { domain: [POSITIVE] }),
  tanh: tensorRule("tanhs", ["tensor"], ({ out, dout }) => [rt("mul", dout, rt("sub", num(1), rt("mul", out, out)))],
    ({ out, dots: [xd] }) => xd && rt("mul", xd, rt("sub", num(1), rt("mul", out, out))), { kind: "uses-output" }),
  sigmoid: tensorRule("sigs", ["tensor"], ({ out, dout }) => [rt("mul", dout, rt("mul", out, rt("sub", num(1), out)))],
    ({ out, dots: [xd] }) => xd && rt("mul", xd, rt("mul", out, rt("sub", num(1), out))), { kind: "uses-output" }),
  // relu'(0) is 0: the seeds' `dhidden[hidden <= 0] = 0`
  relu: tensorRule("act", ["tensor"], ({ out, dout }) => [rt("mask", dout, out)], ({ out, dots: [xd] }) => xd && rt("mask", xd, out), { kind: "routing" }),
  // the larger input gets the gradient; on a tie, the second
  maximum: tensorRule("clipped", ["tensor", "tensor|number"], ({ args: [t, s], dout, types }) => {
    const wins = rt("mul", dout, rt("gt", t!, s!));
    return [wins, unbroadcast(rt("sub", dout, wins), s!, types[1]!)];
  }, ({ args: [t, s], dots: [td, sd] }) => {
    const wins = rt("gt", t!, s!);
    return tsum([td && rt("mul", td, wins), sd && rt("mul", sd, rt("sub", num(1), wins))]);
  }, { kind: "routing" }),
  sum: tensorRule("total", ["tensor", "static", "static"], ({ args: [x, axis], dout }) => [
    rt("broadcastTo", dout, shape(x!), ...(axis ? [axis] : [])), null, null,
  ], linearIn("sum"), { optional: 2, kind: "linear" }),
  mean: tensorRule("avg", ["tensor", "static", "static"], ({ args: [x, axis], dout }) => {
    const axes = axis ? [axis] : [];
    return [rt("div", rt("broadcastTo", dout, shape(x!), ...axes), rt("axisSize", shape(x!), ...axes)), null, null];
  }, linearIn("mean"), { optional: 2, kind: "linear" }),
  // out * (x_dot - sum(x_dot * out, axis))
  softmax: tensorRule("probs", ["tensor", "static"], ({ args: [, axis], out, dout }) => [
    rt("mul", out, rt("sub", dout, rt("sum", rt("mul", dout, out), axis ?? num(-1), bool(true)))), null,
  ], ({ args: [, axis], out, dots: [xd] }) => xd && rt("mul", out, rt("sub", xd, rt("sum", rt("mul", xd, out), axis ?? num(-1), bool(true)))),
  { optional: 1, kind: "uses-output" }),
  // x_dot - sum(exp(out) * x_dot, axis)
  logSoftmax: tensorRule("logp", ["tensor", "static"], ({ args: [, axis], out, dout }) => [
    rt("sub", dout, rt("mul", rt("exp", out), rt("sum", dout, axis ?? num(-1), bool(true)))), null,
  ], ({ args: [, axis], out, dots: [xd] }) => xd && rt("sub", xd, rt("sum", rt("mul", rt("exp", out), xd), axis ?? num(-1), bool(true))),
  { optional: 1, kind: "uses-output" }),
  gather: tensorRule("picked", ["tensor", "static"], ({ args: [x, labels], dout }) => [rt("scatter", dout, labels!, shape(x!)), null], linearIn("gather"), { kind: "routing" }),
  scatter: tensorRule("scattered", ["tensor", "static", "static"], ({ args: [, labels], dout }) => [rt("gather", dout, labels!), null, null], linearIn("scatter"), { kind: "routing" }),
  sumTo: tensorRule("summed", ["tensor", "static"], ({ args: [x], dout }) => [rt("broadcastTo", dout, shape(x!)), null], linearIn("sumTo"), { kind: "linear" }),
  broadcastTo: tensorRule("spread", ["tensor", "static", "static"], ({ args: [x, , axis], dout }) => [
    axis ? rt("sum", dout, axis) : rt("sumTo", dout, shape(x!)), null, null,
  ], linearIn("broadcastTo"), { optional: 1, kind: "linear" }),
  mask: tensorRule("masked", ["tensor", "static"], ({ args: [, x], dout }) => [rt("mask", dout, x!), null], linearIn("mask"), { kind: "routing" }),
  // a tensor of one number (the backward code's seed `full(out.shape, dout)`): its gradient is the sum
  full: tensorRule("filled", ["static", "number", "static"], ({ dout }) => [null, rt("item", rt("sum", dout)), null],
    ({ args: [shape, , ...dtype], dots: [, vd] }) => vd && rt("full", shape!, vd, ...dtype), { optional: 1, kind: "linear" }),
  item: tensorRule("val", ["tensor"], ({ args: [x], dout }) => [rt("full", shape(x!), dout)], linearIn("item"), { result: "number", kind: "linear" }),
  // constants: no gradient flows through them, their tangent is zero
  gt: tensorRule("above", ["tensor", "tensor|number"], undefined, undefined),
  oneHot: tensorRule("onehot", ["static", "static"], undefined, undefined),
  zerosLike: tensorRule("zeros", ["tensor"], undefined, undefined),
  onesLike: tensorRule("ones", ["tensor"], undefined, undefined),
  axisSize: tensorRule("count", ["static", "static"], undefined, undefined, { optional: 1, result: "number" }),
};
