// Elementwise ops: broadcasting binary ops, ReLU's mask, and the unary functions.
//
// Each op runs a WebAssembly SIMD kernel (kernels.wat: `add_vv_f32`, ...) when the kernels
// are in use and the tensor is not tiny, else its JavaScript loop; the result has the
// operands' dtype (float32 if either is float32: see resultDtype).

import type { Kernels } from "../wasm/kernels.ts";
import { kernelsFor } from "./backend.ts";
import {
  alloc,
  deferred,
  layOutFill,
  pendingOf,
  broadcastShapes,
  broadcastStrides,
  dtypeOf,
  forEachRow,
  formatShape,
  make,
  resultDtype,
  shapeEq,
  size,
  TensorShapeError,
  type DType,
  type Shape,
  type Tensor,
  type TensorData,
} from "./shape.ts";

type Data = TensorData;

/** Computes `out[o + j] = a[ai + j*as] ∘ b[bi + j*bs]` for one row of `n` elements. */
type RowKernel = (out: Data, o: number, a: Data, ai: number, as: number, b: Data, bi: number, bs: number, n: number) => void;

const addRow: RowKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let j = 0; j < n; j++, ai += as, bi += bs) out[o + j] = a[ai] + b[bi];
};
const subRow: RowKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let j = 0; j < n; j++, ai += as, bi += bs) out[o + j] = a[ai] - b[bi];
};
const mulRow: RowKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let j = 0; j < n; j++, ai += as, bi += bs) out[o + j] = a[ai] * b[bi];
};
const divRow: RowKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let j = 0; j < n; j++, ai += as, bi += bs) out[o + j] = a[ai] / b[bi];
};
const maxRow: RowKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let j = 0; j < n; j++, ai += as, bi += bs) out[o + j] = Math.max(a[ai], b[bi]);
};
const gtRow: RowKernel = (out, o, a, ai, as, b, bi, bs, n) => {
  for (let j = 0; j < n; j++, ai += as, bi += bs) out[o + j] = a[ai] > b[bi] ? 1 : 0;
};

/** A binary op: its name in messages, its kernel family in kernels.wat, its JavaScript loop, and on two values. */
interface BinaryOp {
  readonly name: string;
  readonly kernel: string;
  readonly row: RowKernel;
  readonly values: (a: number, b: number) => number;
}

const suffix = (dtype: DType) => (dtype === "float32" ? "f32" : "f64");

/** Where an operand's value comes from: a tensor, or a plain number. */
function operandData(x: Tensor | number): Data {
  return typeof x === "number" ? new Float64Array([x]) : x.data;
}
const operandShape = (x: Tensor | number): Shape => (typeof x === "number" ? [] : x.shape);

function binary(op: BinaryOp, left: Tensor | number, right: Tensor | number): Tensor {
  const dtype = resultDtype(left, right);
  const aShape = operandShape(left);
  const bShape = operandShape(right);
  const withFill = fillBinary(op, dtype, left, aShape, right, bShape);
  if (withFill) return withFill;
  const a = operandData(left);
  const b = operandData(right);
  const aN = a.length;
  const bN = b.length;
  // Fast paths: same shape, or one side a single value that does not raise the rank.
  if (shapeEq(aShape, bShape)) return flat(op, dtype, a, 1, b, 1, aN, aShape);
  if (bN === 1 && bShape.length <= aShape.length) return flat(op, dtype, a, 1, b, 0, aN, aShape);
  if (aN === 1 && aShape.length <= bShape.length) return flat(op, dtype, a, 0, b, 1, bN, bShape);
  // General case (rank >= 1 here): one kernel call per innermost row.
  const shape = broadcastShapes(aShape, bShape, op.name);
  const n = size(shape);
  const aStrides = broadcastStrides(aShape, shape);
  const bStrides = broadcastStrides(bShape, shape);
  const last = shape.length - 1;
  const len = shape[last];
  const as = aStrides[last];
  const bs = bStrides[last];
  const k = as + bs > 0 ? kernelsFor(n) : null;
  if (k) {
    const kernel = k.fn(`${op.kernel}_${as === 0 ? "s" : "v"}${bs === 0 ? "s" : "v"}_${suffix(dtype)}`);
    const e = dtype === "float32" ? 4 : 8;
    const pa = k.put(a, dtype);
    const pb = k.put(b, dtype);
    const po = k.slot(n, dtype);
    // Rows in memory order: a row's last whole vector may spill into the next row's start,
    // which that row's own call then overwrites.
    forEachRow(shape, aStrides, bStrides, (row, ai, bi) => kernel(pa + ai * e, pb + bi * e, po + row * len * e, len));
    return make(k.take(po, n, dtype), shape);
  }
  const out = alloc(dtype, n);
  forEachRow(shape, aStrides, bStrides, (row, ai, bi) => op.row(out, row * len, a, ai, as, b, bi, bs, len));
  return make(out, shape);
}

/** The value of a number, or of a tensor that is one value spread out and not laid out yet. */
function fillValue(x: Tensor | number): number | undefined {
  if (typeof x === "number") return x;
  const pending = pendingOf(x);
  return pending?.kind === "fill" ? pending.value : undefined;
}

/**
 * `a ∘ b` when a side is a fill (one value everywhere, such as broadcastTo of a sum's seed)
 * that does not make the result bigger than the other side: that side's values with the one
 * value, without laying the fill out. Two fills give a fill. Undefined when neither applies.
 */
function fillBinary(op: BinaryOp, dtype: DType, a: Tensor | number, aShape: Shape, b: Tensor | number, bShape: Shape): Tensor | undefined {
  const [va, vb] = [fillValue(a), fillValue(b)];
  const aFill = typeof a === "object" && va !== undefined;
  const bFill = typeof b === "object" && vb !== undefined;
  if (!aFill && !bFill) return undefined;
  const shape = broadcastShapes(aShape, bShape, op.name);
  if (va !== undefined && vb !== undefined) {
    const value = op.values(va, vb);
    return size(shape) > 1 ? deferred(shape, { kind: "fill", dtype, value }, layOutFill(size(shape))) : make(alloc(dtype, 1).fill(value), shape);
  }
  const n = size(shape);
  if (aFill && shapeEq(shape, bShape)) return flat(op, dtype, new Float64Array([va!]), 0, (b as Tensor).data, 1, n, shape);
  if (bFill && shapeEq(shape, aShape)) return flat(op, dtype, (a as Tensor).data, 1, new Float64Array([vb!]), 0, n, shape);
  return undefined;
}

/** `n` results of `a ∘ b` where each side is read with stride 1 (a vector) or 0 (one value). */
function flat(op: BinaryOp, dtype: DType, a: Data, as: 0 | 1, b: Data, bs: 0 | 1, n: number, shape: Shape): Tensor {
  const k = kernelsFor(n);
  if (k) return make(runFlat(k, op.kernel, dtype, a, as, b, bs, n), shape.slice());
  const out = alloc(dtype, n);
  op.row(out, 0, a, 0, as, b, 0, bs, n);
  return make(out, shape.slice());
}

function runFlat(k: Kernels, kernel: string, dtype: DType, a: Data, as: 0 | 1, b: Data, bs: 0 | 1, n: number): Data {
  const pa = as ? k.put(a, dtype) : k.putScalar(a[0], dtype);
  const pb = bs ? k.put(b, dtype) : k.putScalar(b[0], dtype);
  const po = k.slot(n, dtype);
  k.fn(`${kernel}_${as ? "v" : "s"}${bs ? "v" : "s"}_${suffix(dtype)}`)(pa, pb, po, n);
  return k.take(po, n, dtype);
}

const ADD: BinaryOp = { name: "add", kernel: "add", row: addRow, values: (a, b) => a + b };
const SUB: BinaryOp = { name: "sub", kernel: "sub", row: subRow, values: (a, b) => a - b };
const MUL: BinaryOp = { name: "mul", kernel: "mul", row: mulRow, values: (a, b) => a * b };
const DIV: BinaryOp = { name: "div", kernel: "div", row: divRow, values: (a, b) => a / b };
const MAXIMUM: BinaryOp = { name: "maximum", kernel: "max", row: maxRow, values: Math.max };
const GT: BinaryOp = { name: "gt", kernel: "gt", row: gtRow, values: (a, b) => (a > b ? 1 : 0) };

/** Elementwise a + b with NumPy broadcasting. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(ADD, a, b);
}

/** Elementwise a − b with NumPy broadcasting. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(SUB, a, b);
}

/** Elementwise a · b with NumPy broadcasting. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(MUL, a, b);
}

/** Elementwise a / b with NumPy broadcasting. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  return binary(DIV, a, b);
}

/** Elementwise max(t, s) with NumPy broadcasting (s is usually a scalar). */
export function maximum(t: Tensor, s: Tensor | number): Tensor {
  return binary(MAXIMUM, t, s);
}

/** Elementwise 1 where t > s, else 0, with NumPy broadcasting. */
export function gt(t: Tensor, s: Tensor | number): Tensor {
  return binary(GT, t, s);
}

/** ReLU backward: `upstream` where x > 0, else 0 (shapes must match). */
export function mask(upstream: Tensor, x: Tensor): Tensor {
  if (!shapeEq(upstream.shape, x.shape)) {
    throw new TensorShapeError(
      `mask: upstream ${formatShape(upstream.shape)} and x ${formatShape(x.shape)} must have the same shape`,
    );
  }
  const dtype = resultDtype(upstream, x);
  const u = upstream.data;
  const xs = x.data;
  const k = kernelsFor(u.length);
  if (k) return make(runFlat(k, "mask", dtype, u, 1, xs, 1, u.length), x.shape.slice());
  const out = alloc(dtype, u.length);
  for (let i = 0; i < u.length; i++) out[i] = xs[i] > 0 ? u[i] : 0;
  return make(out, x.shape.slice());
}

// ---------------------------------------------------------------------------
// Unary ops

/** Elementwise −t. */
export function neg(t: Tensor): Tensor {
  return scale(t, -1);
}

/** Scalar s times tensor t. */
export function scale(t: Tensor, s: number): Tensor {
  const src = t.data;
  const dtype = dtypeOf(t);
  const k = kernelsFor(src.length);
  if (k) return make(runFlat(k, "mul", dtype, src, 1, new Float64Array([s]), 0, src.length), t.shape.slice());
  const out = alloc(dtype, src.length);
  for (let i = 0; i < src.length; i++) out[i] = s * src[i];
  return make(out, t.shape.slice());
}

/** Elementwise max(t, 0); NaN stays NaN (the kernel's max of NaN is NaN too). */
export function relu(t: Tensor): Tensor {
  const src = t.data;
  const dtype = dtypeOf(t);
  const k = kernelsFor(src.length);
  if (k) return make(runFlat(k, "max", dtype, src, 1, new Float64Array([0]), 0, src.length), t.shape.slice());
  const out = alloc(dtype, src.length);
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    out[i] = x > 0 || x !== x ? x : 0;
  }
  return make(out, t.shape.slice());
}

/** `f` of every element, in JavaScript (Math's functions are correctly rounded where SIMD polynomials are not). */
function mapMath(t: Tensor, f: (x: number) => number): Tensor {
  const src = t.data;
  const out = alloc(dtypeOf(t), src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]);
  return make(out, t.shape.slice());
}

/** Elementwise e^t. */
export function exp(t: Tensor): Tensor {
  return mapMath(t, Math.exp);
}

/** Elementwise natural log. */
export function log(t: Tensor): Tensor {
  return mapMath(t, Math.log);
}

/** Elementwise tanh. */
export function tanh(t: Tensor): Tensor {
  return mapMath(t, Math.tanh);
}

/** Elementwise logistic sigmoid 1 / (1 + e^−t). */
export function sigmoid(t: Tensor): Tensor {
  // Only ever exponentiate a non-positive number, so nothing overflows.
  return mapMath(t, (x) => {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  });
}
