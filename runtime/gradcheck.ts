/**
 * gradcheck: compares every component of a generated gradient with a central finite
 * difference of the original function, and says which components disagree.
 */

type Arg = number | boolean | number[] | Float64Array;
type Grad = number | ArrayLike<number>;

export interface GradcheckOptions {
  /** Relative step of the finite difference: h = eps · max(1, |x|). Default 1e-6. */
  readonly eps?: number;
  /** Absolute tolerance. Default 1e-6. */
  readonly atol?: number;
  /** Relative tolerance. Default 1e-5. */
  readonly rtol?: number;
  /** Parameter names in order; read from `f`'s source when omitted. */
  readonly names?: readonly string[];
  /** Upstream gradient passed to the gradient function. Default 1. */
  readonly dout?: number;
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

export function gradcheck(
  f: (...args: any[]) => number,
  fGrad: (...args: any[]) => { value: number; grad: Record<string, Grad> },
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

  check("value", value, f(...args));
  for (const [key, g] of Object.entries(grad)) {
    const i = names.indexOf(key);
    if (i < 0) throw new Error(`gradcheck: the gradient has key '${key}', which is not a parameter (${names.join(", ")})`);
    const arg = args[i];
    const central = (perturb: (delta: number) => Arg, x: number) => {
      const h = eps * Math.max(1, Math.abs(x));
      const at = (delta: number) => f(...args.map((a, j) => (j === i ? perturb(delta) : a)));
      return ((at(h) - at(-h)) / (2 * h)) * dout;
    };
    if (typeof arg === "number") {
      check(key, g as number, central((d) => arg + d, arg));
    } else if (arg && typeof arg === "object") {
      const arr = arg as ArrayLike<number>;
      for (let k = 0; k < arr.length; k++) {
        const perturb = (d: number) => {
          const copy = Array.isArray(arr) ? [...arr] : new Float64Array(arr);
          copy[k] = arr[k]! + d;
          return copy as Arg;
        };
        check(`${key}[${k}]`, (g as ArrayLike<number>)[k]!, central(perturb, arr[k]!));
      }
    } else {
      throw new Error(`gradcheck: parameter '${key}' is not a number or an array`);
    }
  }

  const ok = rows.every((r) => r.ok);
  const maxAbsError = Math.max(0, ...rows.map((r) => r.absError));
  return { ok, rows, maxAbsError, report: formatReport(f.name, names, args, rows, ok, maxAbsError) };
}

function formatReport(fname: string, names: readonly string[], args: readonly Arg[], rows: readonly GradcheckRow[], ok: boolean, maxErr: number): string {
  const at = args.map((a, i) => `${names[i] ?? i}=${Array.isArray(a) || a instanceof Float64Array ? `[${Array.from(a).join(", ")}]` : String(a)}`).join(", ");
  const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(10) : String(x));
  const table = [["", "component", "analytic", "finite diff", "abs error"], ...rows.map((r) => [r.ok ? "" : "✗", r.name, num(r.analytic), num(r.numeric), r.absError.toExponential(2)])];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const lines = table.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
  return [`gradcheck ${fname || "f"}(${at}): ${ok ? "ok" : "MISMATCH"} (max abs error ${maxErr.toExponential(2)})`, ...lines].join("\n");
}
