// Reductions (sum, mean, softmax) and their inverses in generated backward code
// (sumTo undoes broadcasting, broadcastTo undoes a sum).

import { kernelsFor } from "./backend.ts";
import {
  alloc,
  axisLayout,
  deferred,
  layOutFill,
  pendingOf,
  broadcastShapes,
  broadcastStrides,
  checkShape,
  dtypeOf,
  forEachRow,
  formatShape,
  make,
  shapeEq,
  size,
  TensorShapeError,
  type DType,
  type Shape,
  type Tensor,
  type TensorData,
} from "./shape.ts";

const suffix = (dtype: DType) => (dtype === "float32" ? "f32" : "f64");

/** The sum of every element, accumulated in float64 (float32 data is summed in float32 blocks first). */
function sumAll(src: TensorData, dtype: DType): number {
  const k = kernelsFor(src.length);
  if (k) return k.fn(`sum_all_${suffix(dtype)}`)(k.put(src, dtype), src.length);
  let total = 0;
  for (let i = 0; i < src.length; i++) total += src[i];
  return total;
}

/**
 * Sums of `outer` blocks of [len, inner] over their middle axis, into `outer * inner` values:
 * column sums of each block when inner > 1, row sums when inner is 1.
 */
function sumMiddle(src: TensorData, dtype: DType, outer: number, len: number, inner: number): TensorData {
  const n = outer * inner;
  const k = len > 1 ? kernelsFor(src.length) : null;
  if (k) {
    const e = dtype === "float32" ? 4 : 8;
    const pa = k.put(src, dtype);
    const po = k.slot(n, dtype);
    if (inner === 1) {
      k.fn(`sum_last_${suffix(dtype)}`)(pa, outer, len, po);
    } else {
      // in order: each block's whole-vector zeroing may spill into the next block's start
      const kernel = k.fn(`sum_rows_${suffix(dtype)}`);
      for (let o = 0; o < outer; o++) kernel(pa + o * len * inner * e, len, inner, po + o * inner * e);
    }
    return k.take(po, n, dtype);
  }
  const out = alloc(dtype, n);
  for (let o = 0; o < outer; o++) {
    const outRow = o * inner;
    for (let l = 0; l < len; l++) {
      const srcRow = (o * len + l) * inner;
      for (let i = 0; i < inner; i++) out[outRow + i] += src[srcRow + i];
    }
  }
  return out;
}

function reducedShape(shape: Shape, axis: number, keepdims: boolean): number[] {
  return keepdims ? shape.map((n, d) => (d === axis ? 1 : n)) : shape.filter((_, d) => d !== axis);
}

/** Sum over `axis` (all elements → shape [] when undefined); negative axes count from the end. */
export function sum(t: Tensor, axis?: number, keepdims = false): Tensor {
  const dtype = dtypeOf(t);
  if (axis === undefined) {
    const shape = keepdims ? t.shape.map(() => 1) : [];
    const out = alloc(dtype, 1);
    out[0] = sumAll(t.data, dtype);
    return make(out, shape);
  }
  const { axis: ax, outer, len, inner } = axisLayout(t.shape, axis, "sum");
  return make(sumMiddle(t.data, dtype, outer, len, inner), reducedShape(t.shape, ax, keepdims));
}

/** Mean over `axis` (all elements → shape [] when undefined); negative axes count from the end. */
export function mean(t: Tensor, axis?: number, keepdims = false): Tensor {
  const total = sum(t, axis, keepdims);
  const count = axis === undefined ? t.data.length : t.shape[axisLayout(t.shape, axis, "mean").axis];
  const out = total.data;
  for (let i = 0; i < out.length; i++) out[i] /= count;
  return total;
}

/** Reduces a broadcast result `t` back to `shape` by summing over broadcast axes (the VJP of broadcasting). */
export function sumTo(t: Tensor, shape: Shape): Tensor {
  const target = checkShape(shape, "sumTo");
  const dtype = dtypeOf(t);
  if (shapeEq(t.shape, target)) return make(t.data.slice(), target);
  const rank = t.shape.length;
  const offset = rank - target.length;
  const fits = offset >= 0 && target.every((n, d) => n === 1 || n === t.shape[d + offset]);
  if (!fits) {
    throw new TensorShapeError(
      `sumTo: cannot reduce ${formatShape(t.shape)} to ${formatShape(target)}: the target does not broadcast to the source`,
    );
  }
  const n = size(target);
  if (n === 1) {
    const out = alloc(dtype, 1);
    out[0] = sumAll(t.data, dtype);
    return make(out, target);
  }
  // Axes summed over (those the target lacks or has as 1 where the source does not).
  const summed = t.shape.map((len, d) => len !== 1 && (d < offset || target[d - offset] === 1));
  const split = summed.lastIndexOf(true) + 1;
  // Summed axes all leading (a bias gradient [N, H] → [H]), or all trailing ([N, C] → [N, 1]).
  if (summed.slice(0, split).every((s, d) => s || t.shape[d] === 1)) {
    return make(sumMiddle(t.data, dtype, 1, size(t.shape.slice(0, split)), size(t.shape.slice(split))), target);
  }
  const first = summed.indexOf(true);
  if (summed.slice(first).every((s, d) => s || t.shape[first + d] === 1)) {
    return make(sumMiddle(t.data, dtype, size(t.shape.slice(0, first)), size(t.shape.slice(first)), 1), target);
  }
  const out = alloc(dtype, n);
  const src = t.data;
  const outStrides = broadcastStrides(target, t.shape);
  const len = t.shape[rank - 1];
  const os = outStrides[rank - 1];
  forEachRow(t.shape, outStrides, outStrides, (row, oi) => {
    const ti = row * len;
    for (let j = 0; j < len; j++, oi += os) out[oi] += src[ti + j];
  });
  return make(out, target);
}

/**
 * Spreads `t` over `shape` (the VJP of `sum`): NumPy broadcasting, after putting back the
 * axis a reduction dropped when `axis` is given and `t` has one dimension fewer.
 */
export function broadcastTo(t: Tensor, shape: Shape, axis?: number): Tensor {
  const target = checkShape(shape, "broadcastTo");
  let from = t.shape;
  if (axis !== undefined && from.length === target.length - 1) {
    const ax = axisLayout(target, axis, "broadcastTo").axis;
    from = [...from.slice(0, ax), 1, ...from.slice(ax)];
  }
  const out = broadcastShapes(from, target, "broadcastTo");
  if (!shapeEq(out, target)) {
    throw new TensorShapeError(`broadcastTo: cannot spread ${formatShape(t.shape)} over ${formatShape(target)}`);
  }
  const dtype = dtypeOf(t);
  // One value spread everywhere (a sum's VJP seed): laid out only if something reads it, since
  // elementwise ops take it as that one value.
  if (size(target) > 1 && size(t.shape) === 1) {
    const fill = pendingOf(t);
    const value = fill?.kind === "fill" ? fill.value : t.data[0];
    return deferred(target, { kind: "fill", dtype, value }, layOutFill(size(target)));
  }
  const src = t.data;
  const data = alloc(dtype, size(target));
  if (data.length === 0) return make(data, target);
  if (src.length === 1) return make(data.fill(src[0]), target);
  const strides = broadcastStrides(from, target);
  const rank = target.length;
  const n = target[rank - 1];
  const s = strides[rank - 1];
  // Whole rows at a time: copied when the source has the row, filled when it is one value.
  forEachRow(target, strides, strides, (row, si) => {
    const o = row * n;
    if (s === 1) data.set(src.subarray(si, si + n), o);
    else data.fill(src[si], o, o + n);
  });
  return make(data, target);
}

/** How many elements `mean` averages over: the length of `axis`, or every element. */
export function axisSize(shape: Shape, axis?: number): number {
  return axis === undefined ? size(shape) : shape[axisLayout(shape, axis, "axisSize").axis];
}

/** Softmax along `axis` (default last). */
export function softmax(t: Tensor, axis = -1): Tensor {
  return softmaxImpl(t, axis, false, "softmax");
}

/** log(softmax(t)) along `axis` (default last), computed without forming softmax. */
export function logSoftmax(t: Tensor, axis = -1): Tensor {
  return softmaxImpl(t, axis, true, "logSoftmax");
}

function softmaxImpl(t: Tensor, axis: number, takeLog: boolean, op: string): Tensor {
  const { outer, len, inner } = axisLayout(t.shape, axis, op);
  const src = t.data;
  const out = alloc(dtypeOf(t), src.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const start = o * len * inner + i;
      const end = start + len * inner;
      // Subtract the max so exp never overflows; the result is mathematically unchanged.
      let max = -Infinity;
      for (let p = start; p < end; p += inner) if (src[p] > max) max = src[p];
      let total = 0;
      for (let p = start; p < end; p += inner) {
        const e = Math.exp(src[p] - max);
        out[p] = e;
        total += e;
      }
      if (takeLog) {
        const logTotal = Math.log(total);
        for (let p = start; p < end; p += inner) out[p] = src[p] - max - logTotal;
      } else {
        for (let p = start; p < end; p += inner) out[p] /= total;
      }
    }
  }
  return make(out, t.shape.slice());
}
