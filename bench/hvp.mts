/**
 * (j) Second order: each `@hvp` companion (f_hvp, one Hessian-vector product H·v with the
 * value and gradient it also returns) against its f_grad, and against what a user without
 * it would write: the central difference of two gradients, (∇f(x + h·v) − ∇f(x − h·v)) / 2h,
 * and for a full Hessian of a small function n + 1 gradients (forward differences, column
 * by column) against n products. Each case first checks that f_hvp agrees with the
 * difference. Target (issue 16): hvp/gradient ≤ 4 on each case.
 *
 * Part of `npm run bench` (bench/run.mts); `npx tsx bench/hvp.mts` runs this section alone.
 */
import { pathToFileURL } from "node:url";
import { staged_grad, staged_hvp } from "../fixtures/staged.grad.ts";
import { recurrence_grad, recurrence_hvp, rosenbrock_grad, rosenbrock_hvp } from "../fixtures/loops.grad.ts";
import { twoLayer_grad, twoLayer_hvp } from "../fixtures/two_layer.grad.ts";
import { add, randn, scale, sub, type Tensor } from "../runtime/tensor.ts";
import { makeTwoLayerProblem } from "./twolayer.ts";
import { REPEATS, median, time } from "./timing.mts";

type Vec = number[] | Float64Array;

interface HvpCase {
  readonly name: string;
  readonly reps?: number;
  /** One f_grad, one f_hvp along v, one central difference of two f_grad along v: each returns a checksum. */
  readonly gradient: () => number;
  readonly hvp: () => number;
  readonly difference: () => number;
  /** H·v by f_hvp and by the central difference, flattened, for the agreement check. */
  readonly compare: () => { exact: Vec; approx: Vec };
}

const H = 1e-5; // the difference step, relative to |x| ~ 1 and |v| ~ 1
const sum = (xs: Vec) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
};
const step = (x: number[], t: number, v: number[]) => x.map((xi, i) => xi + t * v[i]!);

function stagedCase(): HvpCase {
  const n = 1_000_000;
  const xs = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const ys = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) * 3);
  const v = { x: 1, y: 0.5 };
  const hvpAt = (i: number) => staged_hvp(xs[i]!, ys[i]!, v).hvp;
  const diffAt = (i: number) => {
    const [p, m] = [staged_grad(xs[i]! + H * v.x, ys[i]! + H * v.y).grad, staged_grad(xs[i]! - H * v.x, ys[i]! - H * v.y).grad];
    return { x: (p.x - m.x) / (2 * H), y: (p.y - m.y) / (2 * H) };
  };
  return {
    name: "staged f(x, y), 10^6 points, v = (1, 0.5)",
    gradient: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = staged_grad(xs[i]!, ys[i]!);
        s += r.value + r.grad.x + r.grad.y;
      }
      return s;
    },
    hvp: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = staged_hvp(xs[i]!, ys[i]!, v);
        s += r.value + r.grad.x + r.hvp.x + r.hvp.y;
      }
      return s;
    },
    difference: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = diffAt(i);
        s += d.x + d.y;
      }
      return s;
    },
    compare: () => {
      const points = Array.from({ length: 1000 }, (_, k) => k * 997);
      return { exact: points.flatMap((i) => [hvpAt(i).x, hvpAt(i).y]), approx: points.flatMap((i) => [diffAt(i).x, diffAt(i).y]) };
    },
  };
}

function rosenbrockCase(): HvpCase {
  const n = 100_000;
  const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
  const v = Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
  // as a user would write it for speed: the two points and the result in buffers kept across calls
  const [xp, xm] = [x.slice(), x.slice()];
  const out = new Float64Array(n);
  const difference = () => {
    for (let i = 0; i < n; i++) {
      xp[i] = x[i]! + H * v[i]!;
      xm[i] = x[i]! - H * v[i]!;
    }
    const [p, m] = [rosenbrock_grad(xp).grad.x, rosenbrock_grad(xm).grad.x];
    for (let i = 0; i < n; i++) out[i] = (p[i]! - m[i]!) / (2 * H);
    return out;
  };
  return {
    name: "Rosenbrock, number[] of 10^5",
    reps: 10,
    gradient: () => {
      const r = rosenbrock_grad(x);
      return r.value + r.grad.x[n - 1]!;
    },
    hvp: () => {
      const r = rosenbrock_hvp(x, { x: v });
      return r.value + r.grad.x[n - 1]! + r.hvp.x[n - 1]!;
    },
    difference: () => difference()[n - 1]!,
    compare: () => ({ exact: rosenbrock_hvp(x, { x: v }).hvp.x, approx: difference() }),
  };
}

function recurrenceCase(): HvpCase {
  const n = 100_000;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.1));
  const [w, u, b] = [0.6, 0.9, -0.1];
  const v = { w: 1, u: 0.5, b: -0.3, x: Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.3)) };
  const flat = (g: { w: number; u: number; b: number; x: Float64Array }) => [g.w, g.u, g.b, ...g.x];
  const [xp, xm] = [x.slice(), x.slice()];
  const dx = new Float64Array(n);
  const difference = () => {
    for (let i = 0; i < n; i++) {
      xp[i] = x[i]! + H * v.x[i]!;
      xm[i] = x[i]! - H * v.x[i]!;
    }
    const p = recurrence_grad(w + H * v.w, u + H * v.u, b + H * v.b, xp).grad;
    const m = recurrence_grad(w - H * v.w, u - H * v.u, b - H * v.b, xm).grad;
    for (let i = 0; i < n; i++) dx[i] = (p.x[i]! - m.x[i]!) / (2 * H);
    return { w: (p.w - m.w) / (2 * H), u: (p.u - m.u) / (2 * H), b: (p.b - m.b) / (2 * H), x: dx };
  };
  return {
    name: "recurrence, 10^5 steps, v along w, u, b and x",
    gradient: () => {
      const r = recurrence_grad(w, u, b, x);
      return r.value + r.grad.w + r.grad.x[0]!;
    },
    hvp: () => {
      const r = recurrence_hvp(w, u, b, x, v);
      return r.value + r.grad.w + r.hvp.w + r.hvp.x[0]!;
    },
    difference: () => difference().w,
    compare: () => ({ exact: flat(recurrence_hvp(w, u, b, x, v).hvp), approx: flat(difference()) }),
  };
}

/** The notes' two-layer net of Tensors (fixtures/two_layer.ts) at the size of bench case (b): N = 256, D = 100, H = 256, C = 10. */
function twoLayerCase(): HvpCase {
  const { W1, b1, W2, b2, X, y } = makeTwoLayerProblem();
  // a direction the size of the weights (0.01·randn): a larger step h·v moves some hidden units across relu's kink,
  // and the central difference is then of the kink, not of the Hessian
  const v = { W1: scale(randn(W1.shape, 11), 0.01), b1: scale(randn(b1.shape, 12), 0.01), W2: scale(randn(W2.shape, 13), 0.01), b2: scale(randn(b2.shape, 14), 0.01) };
  const at = (t: number) => [add(W1, scale(v.W1, t)), add(b1, scale(v.b1, t)), add(W2, scale(v.W2, t)), add(b2, scale(v.b2, t))] as const;
  const flat = (g: Record<"W1" | "b1" | "W2" | "b2", Tensor>) => Float64Array.from([...g.W1.data, ...g.b1.data, ...g.W2.data, ...g.b2.data]);
  const difference = () => {
    const [p, m] = [twoLayer_grad(...at(H), X, y).grad, twoLayer_grad(...at(-H), X, y).grad];
    const d = (a: Tensor, b: Tensor) => scale(sub(a, b), 1 / (2 * H));
    return { W1: d(p.W1, m.W1), b1: d(p.b1, m.b1), W2: d(p.W2, m.W2), b2: d(p.b2, m.b2) };
  };
  return {
    name: "two-layer net of Tensors, N = 256, D = 100, H = 256, C = 10, v along every weight",
    reps: 5,
    gradient: () => {
      const r = twoLayer_grad(W1, b1, W2, b2, X, y);
      return r.value + r.grad.b2.data[0]!;
    },
    hvp: () => {
      const r = twoLayer_hvp(W1, b1, W2, b2, X, y, v);
      return r.value + r.grad.b2.data[0]! + r.hvp.b2.data[0]!;
    },
    difference: () => difference().b2.data[0]!,
    compare: () => ({ exact: flat(twoLayer_hvp(W1, b1, W2, b2, X, y, v).hvp), approx: flat(difference()) }),
  };
}

/** max |exact − approx| / max |exact|: the difference's error, relative to the product's size. */
function disagreement({ exact, approx }: { exact: Vec; approx: Vec }): number {
  let [err, scale] = [0, 0];
  for (let i = 0; i < exact.length; i++) {
    err = Math.max(err, Math.abs(exact[i]! - approx[i]!));
    scale = Math.max(scale, Math.abs(exact[i]!));
  }
  return err / scale;
}

/**
 * The full Hessian of Rosenbrock at n = 100: n products (unit directions) against n + 1
 * gradients (forward differences, the cheapest a user would write), as one timed run each.
 */
function fullHessianCase(): HvpCase {
  const n = 100;
  const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
  const unit = (j: number) => Array.from({ length: n }, (_, i) => (i === j ? 1 : 0));
  const units = Array.from({ length: n }, (_, j) => unit(j));
  const byHvp = () => units.map((e) => rosenbrock_hvp(x, { x: e }).hvp.x);
  const byDifferences = () => {
    const g0 = rosenbrock_grad(x).grad.x;
    return units.map((e) => rosenbrock_grad(step(x, H, e)).grad.x.map((gi, i) => (gi - g0[i]!) / H));
  };
  return {
    name: "full Hessian of Rosenbrock, n = 100: n H·v against n + 1 gradients",
    reps: 20,
    gradient: () => sum(units.map((e) => rosenbrock_grad(step(x, H, e)).value)), // n gradients, for the ratio per column
    hvp: () => sum(byHvp().map((col) => col[0]!)),
    difference: () => sum(byDifferences().map((col) => col[0]!)),
    compare: () => ({ exact: byHvp().flatMap((c) => [...c]), approx: byDifferences().flatMap((c) => [...c]) }),
  };
}

export async function hvpSection(time: (f: () => number, reps?: number) => number, median: (xs: number[]) => number, repeats: number): Promise<void> {
  console.log("\n(j) second order: f_hvp (one H·v, with the value and gradient) against f_grad and against finite differences of f_grad");
  const header = ["case", "gradient ms", "hvp ms", "differences ms", "hvp/gradient", "hvp/differences", "differences' error"];
  const rows = [header];
  for (const c of [stagedCase(), rosenbrockCase(), recurrenceCase(), fullHessianCase(), twoLayerCase()]) {
    const error = disagreement(c.compare());
    if (!(error < 1e-4)) throw new Error(`${c.name}: f_hvp and the central difference of f_grad differ by ${error} (relative)`);
    const fs = [c.gradient, c.hvp, c.difference];
    for (let i = 0; i < 3; i++) fs.forEach((f) => time(f, c.reps));
    const t = fs.map(() => [] as number[]);
    for (let r = 0; r < repeats; r++) fs.forEach((f, k) => t[k]!.push(time(f, c.reps)));
    const [g, h, d] = t.map(median) as [number, number, number];
    rows.push([c.name, g.toFixed(2), h.toFixed(2), d.toFixed(2), (h / g).toFixed(3), (h / d).toFixed(3), error.toExponential(1)]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")}`);
  console.log("  differences: (∇f(x + h·v) − ∇f(x − h·v)) / 2h, h = 1e-5 (two gradients); the full Hessian's, forward differences (n + 1)");
  console.log("  the full Hessian's gradient column is n gradients (one per column); target: hvp/gradient <= 4 on each case");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await hvpSection(time, median, REPEATS);
