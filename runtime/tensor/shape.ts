// The Tensor type, its element types, and the shape arithmetic every op shares.

/** A tensor's dimensions, outermost first; `[]` is a scalar. */
export type Shape = readonly number[];

/**
 * A tensor's element type. `float64` is the default everywhere; `float32` is chosen when a
 * tensor is created (`tensor(values, shape, "float32")`, `zeros(shape, "float32")`, a
 * `Float32Array` given to `tensor`, or `astype`), and every op keeps it.
 */
export type DType = "float32" | "float64";

/** The storage of a tensor of either dtype. */
export type TensorData = Float32Array | Float64Array;

/**
 * Row-major dense tensor: plain data plus a shape, no graph, no tape. The dtype is the type
 * of `data` (a Float64Array or a Float32Array), so `{ data, shape }` literals are tensors too.
 */
export interface Tensor {
  readonly data: TensorData;
  readonly shape: Shape;
}

/** Arbitrarily nested arrays of numbers, as accepted by `tensor` and returned by `toArray`. */
export type NestedArray = readonly (number | NestedArray)[];

/** Thrown when operand shapes are incompatible; the message names the op and the shapes involved. */
export class TensorShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TensorShapeError";
  }
}

// ---------------------------------------------------------------------------
// Deferred tensors: data laid out the first time it is read

/**
 * What a deferred tensor stands for until its data is read, which ops may use instead of
 * the data: a transpose (the source's rows, copied when the transpose was made), or one
 * value everywhere (what broadcasting a single value gives, e.g. the seed of a sum's VJP).
 */
export type Pending =
  | { readonly kind: "transpose"; readonly dtype: DType; readonly source: TensorData; readonly rows: number; readonly cols: number }
  | { readonly kind: "fill"; readonly dtype: DType; readonly value: number };

const pendings = new WeakMap<Tensor, Pending>();

/**
 * A tensor of `shape` whose data `layOut` makes the first time anything reads it; until then
 * `pendingOf` gives `what` it stands for. To everything else it is an ordinary tensor:
 * `data` is an own enumerable property (a getter), so spreading, JSON and `isTensor` see it.
 */
export function deferred(shape: Shape, what: Pending, layOut: (what: Pending) => TensorData): Tensor {
  let data: TensorData | undefined;
  const t: Tensor = {
    get data(): TensorData {
      if (data === undefined) {
        data = layOut(what);
        pendings.delete(t);
      }
      return data;
    },
    shape,
  };
  pendings.set(t, what);
  return t;
}

/** Lays out a fill of `n` elements (for `deferred`). */
export function layOutFill(n: number): (what: Pending) => TensorData {
  return (what) => {
    if (what.kind !== "fill") throw new Error("layOutFill: not a fill");
    return alloc(what.dtype, n).fill(what.value);
  };
}

/** What `x` stands for while its data is not laid out yet; undefined for ordinary tensors and numbers. */
export function pendingOf(x: Tensor | number): Pending | undefined {
  return typeof x === "object" ? pendings.get(x) : undefined;
}

/** The dtype of a tensor: the type of its data (read without laying out a deferred tensor's). */
export function dtypeOf(t: Tensor): DType {
  const pending = pendings.get(t);
  if (pending) return pending.dtype;
  return t.data instanceof Float32Array ? "float32" : "float64";
}

/**
 * The dtype of an op's result. Mixed operands compute in float32: a float32 tensor anywhere
 * makes the result float32, and float64 operands (like plain numbers) are rounded to it.
 * That is what keeps a float32 model's gradient float32, since the backward pass starts
 * from float64 tensors the runtime builds from plain numbers (`full(shape, dout)`).
 */
export function resultDtype(a: Tensor | number, b?: Tensor | number): DType {
  const isF32 = (x: Tensor | number | undefined) => typeof x === "object" && dtypeOf(x) === "float32";
  return isF32(a) || isF32(b) ? "float32" : "float64";
}

/** A zeroed array of `n` elements of the given dtype. */
export function alloc(dtype: DType, n: number): TensorData {
  return dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
}

/** `data` itself when it has the given dtype, else a converted copy. */
export function asDtype(data: TensorData, dtype: DType): TensorData {
  if (dtype === "float32") return data instanceof Float32Array ? data : Float32Array.from(data);
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

export function make(data: TensorData, shape: Shape): Tensor {
  return { data, shape };
}

/** Number of elements in a tensor of the given shape. */
export function size(shape: Shape): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d];
  return n;
}

/** True when two shapes have the same rank and dimensions. */
export function shapeEq(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
}

/** Formats a shape as `[5, 10]` for error messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** True for objects shaped like a Tensor (float64 or float32 data and an array shape). */
export function isTensor(x: unknown): x is Tensor {
  if (typeof x !== "object" || x === null) return false;
  const data = (x as Tensor).data;
  return (data instanceof Float64Array || data instanceof Float32Array) && Array.isArray((x as Tensor).shape);
}

/** NumPy broadcast of two shapes; throws TensorShapeError naming `op` when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape, op = "broadcast"): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let d = 1; d <= rank; d++) {
    const da = d <= a.length ? a[a.length - d] : 1;
    const db = d <= b.length ? b[b.length - d] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorShapeError(
        `${op}: cannot broadcast ${formatShape(a)} with ${formatShape(b)}: axis -${d} has sizes ${da} and ${db}`,
      );
    }
    out[rank - d] = da === 1 ? db : da;
  }
  return out;
}

export function checkShape(shape: Shape, op: string): number[] {
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (!Number.isInteger(n) || n < 0) {
      throw new TensorShapeError(`${op}: invalid shape ${formatShape(shape)}: dimensions must be non-negative integers`);
    }
  }
  return shape.slice();
}

export function checkDtype(dtype: DType, op: string): DType {
  if (dtype !== "float32" && dtype !== "float64") {
    throw new TypeError(`${op}: unknown dtype ${JSON.stringify(dtype)}: expected "float32" or "float64"`);
  }
  return dtype;
}

/** Resolves a possibly negative `axis` of `shape` into [outer, len, inner] extents around that axis. */
export function axisLayout(shape: Shape, axis: number, op: string) {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new TensorShapeError(`${op}: axis ${axis} is out of range for ${formatShape(shape)}`);
  }
  const ax = axis < 0 ? axis + rank : axis;
  return { axis: ax, outer: size(shape.slice(0, ax)), len: shape[ax], inner: size(shape.slice(ax + 1)) };
}

/** Strides of `shape` when broadcast into `outShape` (0 along broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const rank = outShape.length;
  const offset = rank - shape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d + offset] = shape[d] === 1 ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

/**
 * Walks the innermost rows of `shape` (rank >= 1) in memory order, calling `visit(row, a, b)` with the
 * row's index and its start offsets in two operands of the given strides. One call per row, not per element.
 */
export function forEachRow(
  shape: Shape,
  aStrides: readonly number[],
  bStrides: readonly number[],
  visit: (row: number, aOffset: number, bOffset: number) => void,
): void {
  const rank = shape.length;
  const rows = size(shape.slice(0, rank - 1));
  if (rows === 0 || shape[rank - 1] === 0) return;
  const idx = new Array<number>(rank - 1).fill(0);
  let ai = 0;
  let bi = 0;
  for (let row = 0; row < rows; row++) {
    visit(row, ai, bi);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < shape[d]) break;
      ai -= aStrides[d] * shape[d];
      bi -= bStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}
