/**
 * Pytrees for gradcheck: a gradient, an argument or a result is a number, an array of
 * numbers (or a typed array), a Tensor, or a record or array of those, nested (a record
 * parameter's gradient is a record of the same shape). These walk their numbers by path.
 */
import { isTensor } from "./tensor.ts";

export type Path = readonly (string | number)[];

/** Calls `f` on every number of `t` with the path to it (a Tensor's numbers are at `data[k]`). */
export function forEachNumber(t: unknown, f: (path: Path, value: number) => void, path: Path = []): void {
  if (typeof t === "number") f(path, t);
  else if (isTensor(t)) t.data.forEach((v, k) => f([...path, "data", k], v));
  else if (Array.isArray(t) || ArrayBuffer.isView(t)) {
    const a = t as ArrayLike<unknown>;
    for (let k = 0; k < a.length; k++) forEachNumber(a[k], f, [...path, k]);
  } else if (t !== null && typeof t === "object") {
    for (const [k, v] of Object.entries(t)) forEachNumber(v, f, [...path, k]);
  }
}

/** Every number of `t`, in order. */
export function numbersOf(t: unknown): number[] {
  const out: number[] = [];
  forEachNumber(t, (_, v) => out.push(v));
  return out;
}

/** The value at `path` in `t` (undefined where there is none). */
export function valueAt(t: unknown, path: Path): unknown {
  let v: any = t;
  for (const k of path) v = v == null ? undefined : v[k];
  return v;
}

/** A copy of `t` with the number at `path` replaced by `update(old)`; what is off the path is shared. */
export function updatedAt(t: unknown, path: Path, update: (old: number) => number): unknown {
  if (path.length === 0) return update(t as number);
  const [k, ...rest] = path;
  const child = (t as any)[k!];
  if (Array.isArray(t)) return t.map((v, j) => (j === k ? updatedAt(v, rest, update) : v));
  if (ArrayBuffer.isView(t)) {
    const copy = new (t.constructor as new (a: ArrayLike<number>) => any)(t as unknown as ArrayLike<number>);
    copy[k as number] = updatedAt(child, rest, update);
    return copy;
  }
  return { ...(t as object), [k!]: updatedAt(child, rest, update) };
}

/** `t + delta · d`, number by number, where `d` (shaped like `t`, or a part of it) has numbers. */
export function addScaled(t: unknown, d: unknown, delta: number): unknown {
  let out = t;
  forEachNumber(d, (path, v) => { out = updatedAt(out, path, (x) => x + delta * v); });
  return out;
}

/** `name`, `name[3]`, `name.w[0]`, as gradcheck's rows show a path (a Tensor's `data` step is left out). */
export function pathName(name: string, path: Path, tensor: boolean): string {
  const shown = tensor ? path.filter((k, i) => !(i === 0 && k === "data")) : path;
  return name + shown.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");
}
