// Matrix product, transpose and reshape.

import type { Kernels } from "../wasm/kernels.ts";
import { kernelsFor } from "./backend.ts";
import { alloc, formatShape, make, resultDtype, size, TensorShapeError, type DType, type Shape, type Tensor, type TensorData } from "./shape.ts";

/** Matrix product of [m, k] and [k, n] → [m, n]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new TensorShapeError(
      `matmul: expected 2-D operands, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) {
    throw new TensorShapeError(
      `matmul: cannot multiply ${formatShape(a.shape)} by ${formatShape(b.shape)}: inner dimensions ${k} and ${k2} differ`,
    );
  }
  const dtype = resultDtype(a, b);
  const kernels = m * n > 0 && k > 0 ? kernelsFor(m * n * k) : null;
  const C = kernels ? matmulKernel(kernels, dtype, a.data, b.data, m, k, n) : matmulLoops(dtype, a.data, b.data, m, k, n);
  return make(C, [m, n]);
}

/** B's column panels are cut so that one panel set (k rows) stays within about this many bytes (L2). */
const PANEL_BYTES = 128 * 1024;

/**
 * C = A·B with the `matmul_f32` / `matmul_f64` kernel: A padded to whole 4-row tiles, C's
 * rows padded to whole 2-vector column tiles, B's columns taken in panels that fit the cache.
 */
function matmulKernel(kernels: Kernels, dtype: DType, A: TensorData, B: TensorData, m: number, k: number, n: number): TensorData {
  const e = dtype === "float32" ? 4 : 8;
  const tileCols = 32 / e;
  const tiles = Math.ceil(n / tileCols);
  const ldc = tiles * tileCols;
  const rows = Math.ceil(m / 4) * 4;
  const pa = kernels.put(A, dtype, rows * k);
  const pb = kernels.put(B, dtype);
  const pc = kernels.slot(rows * ldc, dtype);
  const kernel = kernels.fn(dtype === "float32" ? "matmul_f32" : "matmul_f64");
  const panel = Math.max(1, Math.floor(PANEL_BYTES / (k * 32)));
  for (let t = 0; t < tiles; t += panel) {
    kernel(pa, k, 1, pb + t * 32, n, pc + t * 32, ldc, m, k, Math.min(panel, tiles - t));
  }
  if (ldc === n) return kernels.take(pc, m * n, dtype);
  const out = alloc(dtype, m * n);
  const view = kernels.view(dtype);
  const base = pc / e;
  for (let i = 0; i < m; i++) out.set(view.subarray(base + i * ldc, base + i * ldc + n), i * n);
  return out;
}

function matmulLoops(dtype: DType, A: TensorData, B: TensorData, m: number, k: number, n: number): TensorData {
  const C = alloc(dtype, m * n);
  // i-k-j order: the inner loop walks rows of B and a row of C contiguously. Taking four k-steps
  // per pass over the C row (then the remainder one at a time) makes it ~2.5x faster in V8.
  for (let i = 0; i < m; i++) {
    const cRow = i * n;
    const aRow = i * k;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = A[aRow + p];
      const a1 = A[aRow + p + 1];
      const a2 = A[aRow + p + 2];
      const a3 = A[aRow + p + 3];
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        C[cRow + j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
      }
    }
    for (; p < k; p++) {
      const aip = A[aRow + p];
      const bRow = p * n;
      for (let j = 0; j < n; j++) C[cRow + j] += aip * B[bRow + j];
    }
  }
  return C;
}

/** Transpose of a 2-D tensor. */
export function transpose(a: Tensor): Tensor {
  if (a.shape.length !== 2) {
    throw new TensorShapeError(`transpose: expected a 2-D tensor, got ${formatShape(a.shape)}`);
  }
  const [rows, cols] = a.shape;
  const src = a.data;
  const dtype = resultDtype(a);
  const kernels = kernelsFor(src.length);
  if (kernels) {
    const ps = kernels.put(src, dtype);
    const pd = kernels.slot(src.length, dtype);
    kernels.fn(dtype === "float32" ? "transpose_f32" : "transpose_f64")(ps, rows, cols, pd);
    return make(kernels.take(pd, src.length, dtype), [cols, rows]);
  }
  const out = alloc(dtype, rows * cols);
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = src[row + j];
  }
  return make(out, [cols, rows]);
}

/** Copy of `a` with a new shape of the same size; one dimension may be -1 (inferred). */
export function reshape(a: Tensor, shape: Shape): Tensor {
  const dims = shape.slice();
  const inferred = dims.indexOf(-1);
  if (inferred !== -1 && dims.indexOf(-1, inferred + 1) === -1) {
    const known = size(dims.filter((_, d) => d !== inferred));
    if (known > 0 && a.data.length % known === 0) dims[inferred] = a.data.length / known;
  }
  if (dims.some((n) => !Number.isInteger(n) || n < 0) || size(dims) !== a.data.length) {
    throw new TensorShapeError(
      `reshape: cannot reshape ${formatShape(a.shape)} (${a.data.length} elements) into ${formatShape(shape)}`,
    );
  }
  return make(a.data.slice(), dims);
}
