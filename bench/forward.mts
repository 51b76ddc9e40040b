/**
 * (h) Forward mode: each `@jvp` companion (f_jvp, one directional derivative J·t) against
 * its forward function alone and against a directional derivative written by hand (each
 * line's tangent beside its value, the fastest plain loop), interleaved, as ratios.
 * Target (issue 16): jvp/forward ≤ 2 on each case.
 */
import { staged } from "../fixtures/staged.ts";
import { staged_jvp } from "../fixtures/staged.grad.ts";
import { recurrence, rosenbrock } from "../fixtures/loops.ts";
import { recurrence_jvp, rosenbrock_jvp } from "../fixtures/loops.grad.ts";
import { sigmoid } from "../runtime/index.ts";

interface ForwardCase {
  readonly name: string;
  readonly reps?: number;
  readonly forward: () => number;
  readonly jvp: () => number;
  readonly hand: () => number;
}

function stagedCase(): ForwardCase {
  const n = 1_000_000;
  const xs = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const ys = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) * 3);
  // ∂f/∂x along t = (1, 0.5), by hand: each value with its tangent
  const hand = (x: number, y: number, xd: number, yd: number) => {
    const sy = sigmoid(y);
    const num = x + sy;
    const numd = xd + sy * (1 - sy) * yd;
    const sx = sigmoid(x);
    const xpy = x + y;
    const den = sx + xpy * xpy;
    const dend = sx * (1 - sx) * xd + 2 * xpy * (xd + yd);
    const f = num / den;
    return f + (numd - f * dend) / den;
  };
  return {
    name: "staged f(x, y), 10^6 points, t = (1, 0.5)",
    forward: () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += staged(xs[i]!, ys[i]!);
      return s;
    },
    jvp: () => {
      let s = 0;
      const t = { x: 1, y: 0.5 };
      for (let i = 0; i < n; i++) {
        const r = staged_jvp(xs[i]!, ys[i]!, t);
        s += r.value + r.tangent;
      }
      return s;
    },
    hand: () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += hand(xs[i]!, ys[i]!, 1, 0.5);
      return s;
    },
  };
}

function rosenbrockCase(): ForwardCase {
  const n = 100_000;
  const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
  const t = Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
  const hand = (x: number[], t: number[]) => {
    let s = 0;
    let sd = 0;
    for (let i = 0; i < x.length - 1; i++) {
      const a = x[i + 1]! - x[i]! * x[i]!;
      const b = 1 - x[i]!;
      s += 100 * a * a + b * b;
      sd += 200 * a * (t[i + 1]! - 2 * x[i]! * t[i]!) - 2 * b * t[i]!;
    }
    return s + sd;
  };
  return {
    name: "Rosenbrock, number[] of 10^5, one direction",
    reps: 20,
    forward: () => rosenbrock(x),
    jvp: () => {
      const r = rosenbrock_jvp(x, { x: t });
      return r.value + r.tangent;
    },
    hand: () => hand(x, t),
  };
}

function recurrenceCase(): ForwardCase {
  const n = 100_000;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.1));
  const [w, u, b] = [0.6, 0.9, -0.1];
  // ∂h/∂w: no tape, the tangent runs beside the value
  const hand = (w: number, u: number, b: number, x: Float64Array) => {
    let h = 0;
    let hd = 0;
    for (let t = 0; t < x.length; t++) {
      const a = w * h + u * x[t]! + b;
      const ad = h + w * hd;
      h = Math.tanh(a);
      hd = (1 - h * h) * ad;
    }
    return h + hd;
  };
  return {
    name: "recurrence, 10^5 steps, ∂h/∂w",
    forward: () => recurrence(w, u, b, x),
    jvp: () => {
      const r = recurrence_jvp(w, u, b, x, { w: 1 });
      return r.value + r.tangent;
    },
    hand: () => hand(w, u, b, x),
  };
}

export async function forwardSection(time: (f: () => number, reps?: number) => number, median: (xs: number[]) => number, repeats: number): Promise<void> {
  console.log("\n(h) forward mode: f_jvp (one direction) against the forward function and a hand-written directional derivative");
  const header = ["case", "forward ms", "jvp ms", "hand ms", "jvp/hand", "jvp/forward"];
  const rows = [header];
  for (const c of [stagedCase(), rosenbrockCase(), recurrenceCase()]) {
    const [mine, theirs] = [c.jvp(), c.hand()];
    if (Math.abs(mine - theirs) > 1e-9 * Math.max(1, Math.abs(theirs))) throw new Error(`${c.name}: f_jvp gives ${mine}, the hand-written one ${theirs}`);
    const fs = [c.forward, c.jvp, c.hand];
    for (let i = 0; i < 3; i++) fs.forEach((f) => time(f, c.reps));
    const t = fs.map(() => [] as number[]);
    for (let r = 0; r < repeats; r++) fs.forEach((f, k) => t[k]!.push(time(f, c.reps)));
    const [f, j, h] = t.map(median) as [number, number, number];
    rows.push([c.name, f.toFixed(2), j.toFixed(2), h.toFixed(2), (j / h).toFixed(3), (j / f).toFixed(3)]);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(`  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")}`);
  console.log("  target: jvp/forward <= 2 on each case");
}
