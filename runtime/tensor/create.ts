// Making tensors (with a dtype: float64 unless asked), converting them, and reading them back.

import { mulberry32 } from "../random.ts";
import {
  alloc,
  asDtype,
  checkDtype,
  checkShape,
  dtypeOf,
  formatShape,
  make,
  size,
  TensorShapeError,
  type DType,
  type NestedArray,
  type Shape,
  type Tensor,
  type TensorData,
} from "./shape.ts";

/**
 * Tensor from nested arrays (shape inferred) or from flat values plus a shape; always copies.
 * The dtype is `dtype` when given, else float32 for a Float32Array and float64 for anything else.
 */
export function tensor(values: NestedArray | TensorData, shape?: Shape, dtype?: DType): Tensor {
  const type = checkDtype(dtype ?? (values instanceof Float32Array ? "float32" : "float64"), "tensor");
  const copy = (flat: ArrayLike<number>) => (type === "float32" ? Float32Array.from(flat) : Float64Array.from(flat));
  const typed = values instanceof Float64Array || values instanceof Float32Array;
  if (shape !== undefined) {
    const dims = checkShape(shape, "tensor");
    const flat = typed ? values : flatten(values, "tensor");
    if (flat.length !== size(dims)) {
      throw new TensorShapeError(`tensor: ${flat.length} values cannot fill shape ${formatShape(dims)}`);
    }
    return make(copy(flat), dims);
  }
  if (typed) return make(copy(values), [values.length]);
  const dims = inferShape(values);
  return make(copy(flatten(values, "tensor", dims)), dims);
}

function inferShape(values: NestedArray): number[] {
  const dims: number[] = [];
  let level: number | NestedArray = values;
  while (Array.isArray(level)) {
    dims.push(level.length);
    level = (level as NestedArray)[0];
    if (level === undefined) break;
  }
  return dims;
}

/** Flattens nested arrays row-major; with `dims`, also checks they are rectangular. */
function flatten(values: NestedArray, op: string, dims?: Shape): number[] {
  const out: number[] = [];
  const walk = (level: number | NestedArray, depth: number): void => {
    if (typeof level === "number") {
      if (dims && depth !== dims.length) throw ragged();
      out.push(level);
      return;
    }
    if (dims && (depth >= dims.length || level.length !== dims[depth])) throw ragged();
    for (const item of level) walk(item, depth + 1);
  };
  const ragged = () =>
    new TensorShapeError(`${op}: nested arrays are ragged; expected shape ${formatShape(dims ?? [])}`);
  walk(values, 0);
  return out;
}

/** Tensor of the given shape filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = "float64"): Tensor {
  const dims = checkShape(shape, "full");
  return make(alloc(checkDtype(dtype, "full"), size(dims)).fill(value), dims);
}

/** Tensor of zeros. */
export function zeros(shape: Shape, dtype: DType = "float64"): Tensor {
  const dims = checkShape(shape, "zeros");
  return make(alloc(checkDtype(dtype, "zeros"), size(dims)), dims);
}

/** Tensor of ones. */
export function ones(shape: Shape, dtype: DType = "float64"): Tensor {
  return full(shape, 1, dtype);
}

/** Zeros with the shape and dtype of `t`. */
export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, dtypeOf(t));
}

/** Ones with the shape and dtype of `t`. */
export function onesLike(t: Tensor): Tensor {
  return ones(t.shape, dtypeOf(t));
}

/** A copy of `t` with the given dtype (float64 → float32 rounds each value to nearest). */
export function astype(t: Tensor, dtype: DType): Tensor {
  const type = checkDtype(dtype, "astype");
  const data = asDtype(t.data, type);
  return make(data === t.data ? data.slice() : data, t.shape.slice());
}

/** Deterministic uniform [0, 1) samples from a 32-bit integer seed (the same values in either dtype, rounded). */
export function rand(shape: Shape, seed: number, dtype: DType = "float64"): Tensor {
  const out = zeros(shape, dtype);
  const next = mulberry32(seed);
  for (let i = 0; i < out.data.length; i++) out.data[i] = next();
  return out;
}

/** Deterministic standard normal samples from a 32-bit integer seed (mulberry32 + Box–Muller). */
export function randn(shape: Shape, seed: number, dtype: DType = "float64"): Tensor {
  const out = zeros(shape, dtype);
  const data = out.data;
  const next = mulberry32(seed);
  for (let i = 0; i < data.length; i += 2) {
    // 1 - u lies in (0, 1], so the log is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    data[i] = radius * Math.cos(angle);
    if (i + 1 < data.length) data[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** Element at the given indices (one per axis). */
export function get(t: Tensor, ...idx: number[]): number {
  if (idx.length !== t.shape.length) {
    throw new TensorShapeError(`get: ${idx.length} indices given for ${formatShape(t.shape)}`);
  }
  let offset = 0;
  for (let d = 0; d < idx.length; d++) {
    const i = idx[d];
    if (!Number.isInteger(i) || i < 0 || i >= t.shape[d]) {
      throw new RangeError(`get: index ${formatShape(idx)} is out of range for ${formatShape(t.shape)}`);
    }
    offset = offset * t.shape[d] + i;
  }
  return t.data[offset];
}

/** Nested-array copy of `t` (a plain number for a scalar tensor). */
export function toArray(t: Tensor): number | NestedArray {
  const build = (depth: number, offset: number): number | NestedArray => {
    if (depth === t.shape.length) return t.data[offset];
    const stride = size(t.shape.slice(depth + 1));
    const out: (number | NestedArray)[] = [];
    for (let i = 0; i < t.shape[depth]; i++) out.push(build(depth + 1, offset + i * stride));
    return out;
  };
  return build(0, 0);
}

/** The single value of a size-1 tensor. */
export function item(t: Tensor): number {
  if (t.data.length !== 1) {
    throw new TensorShapeError(`item: expected a single element, got shape ${formatShape(t.shape)}`);
  }
  return t.data[0];
}
