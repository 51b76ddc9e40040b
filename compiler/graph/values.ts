/**
 * The values a graph carries on its wires, and the arithmetic on gradients the evaluator
 * needs: a gradient is a number, an array of numbers (for a `number[]` or `Float64Array`
 * value), rows of numbers (for a `number[][]`) or a Tensor, shaped like its value.
 */
import { isTensor, type Tensor } from "../../runtime/tensor.ts";

export type Grad = number | number[] | number[][] | Tensor;

export const isNumberArray = (v: unknown): v is ArrayLike<number> =>
  (Array.isArray(v) && v.every((x) => typeof x === "number")) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

/** Rows of numbers (a `number[][]` value), with at least one row. */
export const isRows = (v: unknown): v is readonly ArrayLike<number>[] => Array.isArray(v) && v.length > 0 && v.every(isNumberArray);

/** A zero gradient shaped like `v`, or undefined for a value that carries none (a boolean). */
export function zeroLike(v: unknown): Grad | undefined {
  if (typeof v === "number") return 0;
  if (isTensor(v)) return { shape: [...v.shape], data: new Float64Array(v.data.length) };
  if (isNumberArray(v)) return new Array<number>(v.length).fill(0);
  if (isRows(v)) return v.map((row) => new Array<number>(row.length).fill(0));
  return undefined;
}

/** A gradient as its own copy, so later accumulation never changes a value it came from. */
export function copyGrad(g: Grad): Grad {
  if (typeof g === "number") return g;
  if (isTensor(g)) return { shape: [...g.shape], data: Float64Array.from(g.data) };
  if (isRows(g)) return g.map((row) => Array.from(row));
  return Array.from(g as number[]);
}

/** `a + b` for two gradients of one value (a fresh result). */
export function addGrad(a: Grad, b: Grad): Grad {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (isTensor(a) && isTensor(b)) {
    if (a.data.length !== b.data.length) throw new Error("two gradients of one tensor have different shapes");
    return { shape: [...a.shape], data: a.data.map((x, i) => x + b.data[i]!) };
  }
  if (isNumberArray(a) && isNumberArray(b)) return Array.from(a, (x, i) => x + (b[i] ?? 0));
  if (isRows(a) && isRows(b)) return a.map((row, i) => Array.from(row, (x, j) => x + (b[i]?.[j] ?? 0)));
  throw new Error("two gradients of one value have different kinds");
}

/** A gradient given as an array-like (a Float64Array from a user's backward), as the evaluator keeps it. */
export function asGrad(v: unknown): Grad | undefined {
  if (typeof v === "number") return v;
  if (isTensor(v)) return v;
  if (isNumberArray(v)) return Array.from(v);
  if (isRows(v)) return v.map((row) => Array.from(row));
  return undefined;
}

/** The numbers of a value or gradient, flattened (a number is one). */
export function numbersOf(v: unknown): number[] {
  if (typeof v === "number") return [v];
  if (isTensor(v)) return Array.from(v.data);
  if (isNumberArray(v)) return Array.from(v);
  if (isRows(v)) return v.flatMap((row) => Array.from(row));
  return [];
}
