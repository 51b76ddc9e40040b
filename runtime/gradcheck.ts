/**
 * gradcheck: compares every component of a generated gradient with a central finite
 * difference of the original function, and says which components disagree.
 */

import { addScaled, forEachNumber, numbersOf, pathName, updatedAt, valueAt } from "./pytree.ts";
import { isTensor, type Tensor } from "./tensor.ts";

/** An argument, gradient or result: a number, an array, a Tensor, or a record or tuple of those (runtime/pytree.ts). */
type Arg = number | boolean | string | number[] | Float64Array | Int32Array | Tensor | readonly unknown[] | { readonly [key: string]: unknown };
type Grad = number | ArrayLike<number> | Tensor | { readonly [key: string]: unknown };
type Result = number | number[] | Float64Array | Tensor | readonly unknown[] | { readonly [key: string]: unknown };
/** An upstream gradient: shaped like the result (a record result's is a record of its shape). */
type Dout = number | Tensor | ArrayLike<number> | { readonly [key: string]: unknown };

export interface GradcheckOptions {
  /** Relative step of the finite difference: h = eps · max(1, |x|). Default 1e-6. */
  readonly eps?: number;
  /** Absolute tolerance. Default 1e-6. */
  readonly atol?: number;
  /** Relative tolerance. Default 1e-5. */
  readonly rtol?: number;
  /** Parameter names in order; read from `f`'s source when omitted. */
  readonly names?: readonly string[];
  /** Upstream gradient passed to the gradient function: a number (default 1), or a Tensor, array or record shaped like the result. */
  readonly dout?: Dout;
}

export interface GradcheckRow {
  readonly name: string;
  readonly analytic: number;
  readonly numeric: number;
  readonly absError: number;
  readonly ok: boolean;
}

export interface GradcheckResult {
  readonly ok: boolean;
  readonly rows: readonly GradcheckRow[];
  readonly maxAbsError: number;
  /** A table a person can read: one line per component, failures marked. */
  readonly report: string;
}

/** Reads a plain function's parameter names from its source text. */
export function parameterNames(f: Function): string[] {
  const match = /^[^(]*\(([^)]*)\)/.exec(f.toString());
  if (!match) return [];
  return match[1]!
    .split(",")
    .map((p) => p.replace(/[=:].*$/s, "").replace(/\/\*.*?\*\//g, "").trim())
    .filter(Boolean);
}

/**
 * For a Tensor result the check is of the vector-Jacobian product: the finite difference
 * of ⟨dout, f(x)⟩ against the gradient function called with that `dout`.
 */
export function gradcheck(
  f: (...args: any[]) => Result,
  fGrad: (...args: any[]) => { value: Result; grad: Record<string, Grad> },
  args: readonly Arg[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-5, dout = 1 } = options;
  const names = options.names ?? parameterNames(f);
  const { value, grad } = fGrad(...args, dout);
  const rows: GradcheckRow[] = [];
  const check = (name: string, analytic: number, numeric: number) => {
    const absError = Math.abs(analytic - numeric);
    const ok = absError <= atol + rtol * Math.abs(numeric);
    rows.push({ name, analytic, numeric, absError, ok });
  };
  /** ⟨dout, y⟩: what the vector-Jacobian product differentiates. */
  const project = (y: Result): number => {
    if (typeof y === "number") return y * (dout as number);
    return dot(numbersOf(y), numbersOf(dout));
  };

  const expected = f(...args);
  if (typeof value === "number" && typeof expected === "number") check("value", value, expected);
  else if (isTensor(value) && isTensor(expected)) value.data.forEach((v, k) => check(`value[${k}]`, v, expected.data[k]!));
  else if (typeof value === "object" && !isTensor(value) && typeof expected === "object" && !isTensor(expected) && numbersOf(value).length === numbersOf(expected).length) {
    const want = numbersOf(expected);
    forEachNumber(value, (path, v) => check(pathName("value", path, false), v, want.shift()!));
  } else throw new Error("gradcheck: the gradient function's value and the function's result have different kinds");
  if (isTensor(expected) && !isTensor(dout)) throw new Error("gradcheck: a Tensor result needs a Tensor `dout`");
  if (typeof expected === "object" && !isTensor(expected) && (typeof dout !== "object" || isTensor(dout) || numbersOf(dout).length !== numbersOf(expected).length)) {
    throw new Error(`gradcheck: an array or record result needs a \`dout\` shaped like it (${numbersOf(expected).length} numbers)`);
  }

  for (const [key, g] of Object.entries(grad)) {
    const i = names.indexOf(key);
    if (i < 0) throw new Error(`gradcheck: the gradient has key '${key}', which is not a parameter (${names.join(", ")})`);
    const arg = args[i];
    if (isTensor(arg) && (!isTensor(g) || g.shape.join() !== arg.shape.join())) throw new Error(`gradcheck: grad.${key} must be a Tensor shaped like ${key}`);
    if (typeof arg !== "object" && typeof arg !== "number") throw new Error(`gradcheck: parameter '${key}' is not a number, an array, a Tensor or a record of those`);
    // every number of the gradient (a record's, a tuple's, an array's) against the central difference in that number of the argument
    forEachNumber(g, (path, analytic) => {
      const x = valueAt(arg, path);
      const name = pathName(key, path, isTensor(arg));
      if (typeof x !== "number") throw new Error(`gradcheck: grad has ${name}, which is not a number of the argument '${key}'`);
      const h = eps * Math.max(1, Math.abs(x));
      const at = (delta: number) => project(f(...args.map((a, j) => (j === i ? (updatedAt(a, path, (v) => v + delta) as Arg) : a))));
      check(name, analytic, (at(h) - at(-h)) / (2 * h));
    });
  }

  const ok = rows.every((r) => r.ok);
  const maxAbsError = Math.max(0, ...rows.map((r) => r.absError));
  return { ok, rows, maxAbsError, report: formatReport(f.name, names, args, rows, ok, maxAbsError) };
}

export interface JvpcheckOptions extends Omit<GradcheckOptions, "dout"> {
  /**
   * Also checks `f_jvp` against the gradient `fGrad` by the dot-product test
   * ⟨t, fGrad(x, c).grad⟩ = ⟨f_jvp(x, t).tangent, c⟩, with `c` the given cotangent (shaped
   * like the result: a number, an array or a Tensor).
   */
  readonly grad?: { readonly fGrad: (...args: any[]) => { value: Result; grad: Record<string, Grad> }; readonly dout: Dout };
}

/** The numbers of a result, a tangent or a gradient (a number, an array, or a Tensor's data). */
const flat = (y: unknown): ArrayLike<number> => numbersOf(y);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let total = 0;
  for (let k = 0; k < a.length; k++) total += a[k]! * b[k]!;
  return total;
};

/**
 * Checks a forward-mode derivative `fJvp(...args, tangents)` (tsgrad's `f_jvp`): its value
 * against `f`, and each component of its tangent against the central difference of `f`
 * along the tangents, (f(x + h·t) − f(x − h·t)) / 2h; with `options.grad`, also the
 * dot-product test against the gradient. `tangents` is keyed by parameter name, as f_jvp
 * takes it (a missing key: a zero tangent).
 */
export function jvpcheck(
  f: (...args: any[]) => Result,
  fJvp: (...args: any[]) => { value: Result; tangent: Result },
  args: readonly Arg[],
  tangents: Readonly<Record<string, Grad>>,
  options: JvpcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-5 } = options;
  const names = options.names ?? parameterNames(f);
  for (const key of Object.keys(tangents)) {
    if (!names.includes(key)) throw new Error(`jvpcheck: the tangents have key '${key}', which is not a parameter (${names.join(", ")})`);
  }
  const { value, tangent } = fJvp(...args, tangents);
  const rows: GradcheckRow[] = [];
  const check = (name: string, analytic: number, numeric: number) => {
    const absError = Math.abs(analytic - numeric);
    rows.push({ name, analytic, numeric, absError, ok: absError <= atol + rtol * Math.abs(numeric) });
  };
  // one step for every direction: relative to the largest input it moves
  let scale = 1;
  args.forEach((a, i) => {
    const t = tangents[names[i]!];
    if (t === undefined || typeof a === "boolean") return;
    for (const x of numbersOf(a)) scale = Math.max(scale, Math.abs(x));
  });
  const h = eps * scale;
  const moved = (delta: number) => f(...args.map((a, i) => {
    const t = tangents[names[i]!];
    return t === undefined ? a : (addScaled(a, t, delta) as Arg);
  }));
  const [expected, plus, minus] = [flat(f(...args)), flat(moved(h)), flat(moved(-h))];
  const got = flat(value);
  const dir = flat(tangent);
  if (got.length !== expected.length || dir.length !== expected.length) throw new Error("jvpcheck: the value or the tangent is not shaped like f's result");
  const many = expected.length > 1;
  for (let k = 0; k < expected.length; k++) check(many ? `value[${k}]` : "value", got[k]!, expected[k]!);
  for (let k = 0; k < expected.length; k++) check(many ? `tangent[${k}]` : "tangent", dir[k]!, (plus[k]! - minus[k]!) / (2 * h));
  if (options.grad) {
    const { grad } = options.grad.fGrad(...args, options.grad.dout);
    const left = Object.entries(tangents).reduce((acc, [key, t]) => acc + (grad[key] === undefined ? 0 : dot(flat(t), flat(grad[key]!))), 0);
    check("⟨t, vjp(c)⟩ = ⟨jvp(t), c⟩", left, dot(dir, flat(options.grad.dout as Result)));
  }
  const ok = rows.every((r) => r.ok);
  const maxAbsError = Math.max(0, ...rows.map((r) => r.absError));
  return { ok, rows, maxAbsError, report: formatReport(f.name, names, args, rows, ok, maxAbsError) };
}

/**
 * Checks a Hessian-vector product `fHvp(...args, v)` (tsgrad's `f_hvp`): its value and
 * gradient against `fGrad`, and each component of its `hvp` against the central difference
 * of the gradient along `v`, (∇f(x + h·v) − ∇f(x − h·v)) / 2h. `v` is keyed by parameter
 * name, as f_hvp takes it (a missing key: a zero direction), each entry shaped like its
 * parameter (a record's a record, a tuple's a tuple, rows' rows); `hvp` must be shaped like
 * `grad`, number for number. `names` are read from `fGrad`.
 */
export function hvpcheck(
  fGrad: (...args: any[]) => { value: Result; grad: Record<string, Grad> },
  fHvp: (...args: any[]) => { value: Result; grad: Record<string, Grad>; hvp: Record<string, Grad> },
  args: readonly Arg[],
  v: Readonly<Record<string, Grad>>,
  options: Omit<GradcheckOptions, "dout"> = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-5 } = options;
  const names = options.names ?? parameterNames(fGrad);
  for (const key of Object.keys(v)) {
    if (!names.includes(key)) throw new Error(`hvpcheck: the direction has key '${key}', which is not a parameter (${names.join(", ")})`);
  }
  const { value, grad, hvp } = fHvp(...args, v);
  const rows: GradcheckRow[] = [];
  const check = (name: string, analytic: number, numeric: number) => {
    const absError = Math.abs(analytic - numeric);
    rows.push({ name, analytic, numeric, absError, ok: absError <= atol + rtol * Math.abs(numeric) });
  };
  let scale = 1;
  args.forEach((a, i) => {
    if (v[names[i]!] === undefined || typeof a === "boolean") return;
    for (const x of numbersOf(a)) scale = Math.max(scale, Math.abs(x));
  });
  const h = eps * scale;
  const moved = (delta: number) => fGrad(...args.map((a, i) => {
    const t = v[names[i]!];
    return t === undefined ? a : (addScaled(a, t, delta) as Arg);
  })).grad;
  const at = fGrad(...args);
  const [plus, minus] = [moved(h), moved(-h)];
  check("value", flat(value)[0]!, flat(at.value)[0]!);
  // every number of the gradient (a record's, a tuple's, a row's) at the same path in grad, hvp and the differences
  for (const [key, g0] of Object.entries(at.grad)) {
    const scalar = typeof g0 === "number";
    forEachNumber(g0, (path, want) => {
      const part = pathName(key, path, isTensor(g0));
      const [g, hv, p, m] = [grad[key], hvp[key], plus[key], minus[key]].map((t) => valueAt(t, path));
      if (typeof hv !== "number") throw new Error(`hvpcheck: hvp.${key} is not shaped like grad.${key} (no number at hvp.${part})`);
      const name = scalar ? key : part;
      check(`grad.${name}`, g as number, want);
      check(`hvp.${name}`, hv, ((p as number) - (m as number)) / (2 * h));
    });
  }
  const ok = rows.every((r) => r.ok);
  const maxAbsError = Math.max(0, ...rows.map((r) => r.absError));
  return { ok, rows, maxAbsError, report: formatReport(fHvp.name, names, args, rows, ok, maxAbsError) };
}

function formatReport(fname: string, names: readonly string[], args: readonly Arg[], rows: readonly GradcheckRow[], ok: boolean, maxErr: number): string {
  const show = (a: Arg) => (isTensor(a) ? `Tensor[${a.shape.join(", ")}]` : ArrayBuffer.isView(a) || (Array.isArray(a) && a.every((v) => typeof v === "number")) ? `[${Array.from(a as ArrayLike<number>).join(", ")}]` : typeof a === "object" ? JSON.stringify(a) : String(a));
  const at = args.map((a, i) => `${names[i] ?? i}=${show(a)}`).join(", ");
  const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(10) : String(x));
  const table = [["", "component", "analytic", "finite diff", "abs error"], ...rows.map((r) => [r.ok ? "" : "✗", r.name, num(r.analytic), num(r.numeric), r.absError.toExponential(2)])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
  return [`gradcheck ${fname || "f"}(${at}): ${ok ? "ok" : "MISMATCH"} (max abs error ${maxErr.toExponential(2)})`, ...lines].join("\n");
}
