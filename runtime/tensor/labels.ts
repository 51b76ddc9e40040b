// Indexing by class labels: gather picks one column per row, scatter (its VJP) puts values back.

import { alloc, checkDtype, checkShape, dtypeOf, formatShape, make, TensorShapeError, type DType, type Shape, type Tensor } from "./shape.ts";

function checkLabel(label: number, numClasses: number, row: number, op: string): void {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new RangeError(`${op}: label ${label} at row ${row} is not an integer in [0, ${numClasses})`);
  }
}

/** Picks `t[r, labels[r]]` for each row r of a 2-D tensor → shape [rows]. */
export function gather(t: Tensor, labels: ArrayLike<number>): Tensor {
  if (t.shape.length !== 2 || labels.length !== t.shape[0]) {
    throw new TensorShapeError(
      `gather: expected a 2-D tensor with one label per row, got ${formatShape(t.shape)} and labels [${labels.length}]`,
    );
  }
  const [rows, cols] = t.shape;
  const out = alloc(dtypeOf(t), rows);
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    checkLabel(label, cols, r, "gather");
    out[r] = t.data[r * cols + label];
  }
  return make(out, [rows]);
}

/** One-hot rows: shape [labels.length, numClasses] with a 1 at each label. */
export function oneHot(labels: ArrayLike<number>, numClasses: number, dtype: DType = "float64"): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < 0) {
    throw new TensorShapeError(`oneHot: numClasses must be a non-negative integer, got ${numClasses}`);
  }
  const out = alloc(checkDtype(dtype, "oneHot"), labels.length * numClasses);
  for (let r = 0; r < labels.length; r++) {
    checkLabel(labels[r], numClasses, r, "oneHot");
    out[r * numClasses + labels[r]] = 1;
  }
  return make(out, [labels.length, numClasses]);
}

/** The VJP of `gather`: a zero tensor of `shape` [rows, cols] with `values[r]` at `[r, labels[r]]`. */
export function scatter(values: Tensor, labels: ArrayLike<number>, shape: Shape): Tensor {
  const target = checkShape(shape, "scatter");
  if (target.length !== 2 || values.shape.length !== 1 || values.shape[0] !== target[0] || labels.length !== target[0]) {
    throw new TensorShapeError(
      `scatter: expected values [rows] and labels [rows] for shape [rows, cols], got ${formatShape(values.shape)}, [${labels.length}] and ${formatShape(target)}`,
    );
  }
  const [rows, cols] = target;
  const out = alloc(dtypeOf(values), rows * cols);
  for (let r = 0; r < rows; r++) {
    checkLabel(labels[r], cols, r, "scatter");
    out[r * cols + labels[r]] = values.data[r];
  }
  return make(out, target);
}
