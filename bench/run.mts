/**
 * npm run bench — generated gradients against hand-written ones, in one process, as ratios.
 *
 * Each case times three functions over the same inputs: the forward function alone, the
 * tsgrad-generated gradient, and a gradient written by hand in the style of the notes.
 * Runs are interleaved (forward, generated, hand, forward, ...) so drift in machine speed
 * hits all three alike; the figures are medians over the repeats.
 */
import { staged } from "../fixtures/staged.ts";
import { staged_grad } from "../fixtures/staged.grad.ts";
import { sigmoid } from "../runtime/index.ts";
import { loss } from "../examples/spiral/model.ts";
import { loss_grad } from "../examples/spiral/model.grad.ts";
import { loss_grad as twoLayerHandGrad } from "../examples/spiral/hand.ts";
import { makeTwoLayerProblem } from "./twolayer.ts";
import { recurrence, rosenbrock } from "../fixtures/loops.ts";
import { recurrence_grad, rosenbrock_grad } from "../fixtures/loops.grad.ts";
import { readFileSync } from "node:fs";
import { compile } from "../compiler/index.ts";
import { flat, nested } from "./chain.ts";
import { flat_grad, nested_grad } from "./chain.grad.ts";
import { intoCheckSection } from "./into-check.mts";

interface Case {
  readonly name: string;
  /** Calls per timed sample, for cases too quick to time one call at a time (figures are per call). */
  readonly reps?: number;
  readonly forward: () => number;
  readonly generated: () => number;
  readonly hand: () => number;
  /** Work any gradient of this case must do (a fresh result array), timed alongside, as a floor. */
  readonly floor?: { readonly what: string; readonly run: () => number };
}

const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);

/** (a) the staged scalar function of the notes over 10^6 points. */
function stagedCase(): Case {
  const n = 1_000_000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = Math.sin(i) * 3;
    ys[i] = Math.cos(i * 0.7) * 3;
  }
  // the notes' flat backward code, by hand
  const handGrad = (x: number, y: number) => {
    const sigy = sigmoid(y);
    const num = x + sigy;
    const sigx = sigmoid(x);
    const xpy = x + y;
    const xpysqr = xpy ** 2;
    const den = sigx + xpysqr;
    const invden = 1 / den;
    const f = num * invden;
    const dnum = invden;
    const dinvden = num;
    const dden = (-1 / den ** 2) * dinvden;
    const dxpy = 2 * xpy * dden;
    const dx = dxpy + (1 - sigx) * sigx * dden + dnum;
    const dy = dxpy + (1 - sigy) * sigy * dnum;
    return { value: f, grad: { x: dx, y: dy } };
  };
  return {
    name: "(a) staged f(x, y), 10^6 points",
    forward: () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += staged(xs[i]!, ys[i]!);
      return s;
    },
    generated: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = staged_grad(xs[i]!, ys[i]!);
        s += r.value + r.grad.x + r.grad.y;
      }
      return s;
    },
    hand: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = handGrad(xs[i]!, ys[i]!);
        s += r.value + r.grad.x + r.grad.y;
      }
      return s;
    },
  };
}

/**
 * (b) the two-layer net of the spiral example (examples/spiral/model.ts) at N=256, D=100,
 * H=256, C=10: forward is the user's `loss`, generated is tsgrad's `loss_grad`, hand is the
 * notes' CS231n backward written with the same runtime ops (examples/spiral/hand.ts).
 */
function twoLayerCase(): Case {
  const { W1, b1, W2, b2, X, y, reg } = makeTwoLayerProblem(256, 100, 256, 10, 1);
  const checksum = (r: { value: number; grad: { W1: { data: Float64Array } } }) => r.value + r.grad.W1.data[0]!;
  return {
    name: "(b) two-layer net, N=256 D=100 H=256 C=10",
    forward: () => loss(W1, b1, W2, b2, X, y, reg),
    generated: () => checksum(loss_grad(W1, b1, W2, b2, X, y, reg)),
    hand: () => checksum(twoLayerHandGrad(W1, b1, W2, b2, X, y, reg)),
  };
}

/**
 * (c) Rosenbrock's function over 100 000 inputs, a `number[]` loop (fixtures/loops.ts).
 * Twice: each gradient in a new array, as a one-off call makes it; and each written into
 * the same array every call (`@into`), as a minimisation loop would. The hand-written
 * gradient does the same in each.
 */
function rosenbrockCases(): Case[] {
  const n = 100_000;
  const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
  // by hand: one pass over the terms, each adding to two elements of the gradient
  const handGrad = (x: number[], into?: number[]) => {
    let s = 0;
    const dx = into?.fill(0) ?? new Array<number>(x.length).fill(0);
    for (let i = 0; i < x.length - 1; i++) {
      const a = x[i + 1]! - x[i]! * x[i]!;
      const b = 1 - x[i]!;
      s += 100 * a * a + b * b;
      dx[i]! += -400 * a * x[i]! - 2 * b;
      dx[i + 1]! += 200 * a;
    }
    return { value: s, grad: { x: dx } };
  };
  const [mine, theirs] = [new Array<number>(n).fill(0), new Array<number>(n).fill(0)];
  return [
    {
      name: "(c) Rosenbrock, number[] of 10^5, new gradient array",
      reps: 20,
      forward: () => rosenbrock(x),
      generated: () => { const r = rosenbrock_grad(x); return r.value + r.grad.x[7]!; },
      hand: () => { const r = handGrad(x); return r.value + r.grad.x[7]!; },
      floor: {
        what: "a new number[] of 10^5, zeroed and each element written once",
        run: () => {
          const d = new Array<number>(n).fill(0);
          for (let i = 0; i < n; i++) d[i] += x[i]!;
          return d[7]!;
        },
      },
    },
    {
      name: "(c) Rosenbrock, number[] of 10^5, gradient @into one array",
      reps: 20,
      forward: () => rosenbrock(x),
      generated: () => { const r = rosenbrock_grad(x, 1, { x: mine }); return r.value + r.grad.x[7]!; },
      hand: () => { const r = handGrad(x, theirs); return r.value + r.grad.x[7]!; },
    },
  ];
}

/** (d) the recurrence h = tanh(w·h + u·x[t] + b) over 100 000 steps (fixtures/loops.ts). */
function recurrenceCase(): Case {
  const n = 100_000;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.1));
  const [w, u, b] = [0.6, 0.9, -0.1];
  // by hand: keep every h (n + 1 of them), then walk back
  const handGrad = (w: number, u: number, b: number, x: Float64Array) => {
    const hs = new Float64Array(x.length + 1);
    let h = 0;
    for (let t = 0; t < x.length; t++) {
      h = Math.tanh(w * h + u * x[t]! + b);
      hs[t + 1] = h;
    }
    let dh = 1, dw = 0, du = 0, db = 0;
    const dx = new Float64Array(x.length);
    for (let t = x.length - 1; t >= 0; t--) {
      const da = (1 - hs[t + 1]! * hs[t + 1]!) * dh;
      dw += hs[t]! * da;
      du += x[t]! * da;
      db += da;
      dx[t] = u * da;
      dh = w * da;
    }
    return { value: h, grad: { w: dw, u: du, b: db, x: dx } };
  };
  return {
    name: "(d) recurrence h = tanh(w·h + u·x[t] + b), 10^5 steps",
    forward: () => recurrence(w, u, b, x),
    generated: () => { const r = recurrence_grad(w, u, b, x); return r.value + r.grad.w + r.grad.x[3]!; },
    hand: () => { const r = handGrad(w, u, b, x); return r.value + r.grad.w + r.grad.x[3]!; },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function time(f: () => number, reps = 1): number {
  const t0 = performance.now();
  let checksum = 0;
  for (let r = 0; r < reps; r++) checksum += f();
  const t = (performance.now() - t0) / reps;
  if (!Number.isFinite(checksum)) throw new Error("non-finite checksum");
  return t;
}

const cases = [stagedCase(), twoLayerCase(), ...rosenbrockCases(), recurrenceCase()];
console.log(`tsgrad bench: medians of ${REPEATS} interleaved runs (Node ${process.version})\n`);
const header = ["case", "forward ms", "generated ms", "hand ms", "generated/hand", "gradient/forward"];
const rows: string[][] = [header];
const floors: string[] = [];
for (const c of cases) {
  const floor = c.floor?.run ?? (() => 0);
  for (let i = 0; i < 3; i++) [c.forward, c.generated, c.hand, floor].forEach((f) => time(f, c.reps)); // warm up
  const t = { forward: [] as number[], generated: [] as number[], hand: [] as number[], floor: [] as number[] };
  for (let r = 0; r < REPEATS; r++) {
    t.forward.push(time(c.forward, c.reps));
    t.generated.push(time(c.generated, c.reps));
    t.hand.push(time(c.hand, c.reps));
    if (c.floor) t.floor.push(time(floor, c.reps));
  }
  const [f, g, h] = [median(t.forward), median(t.generated), median(t.hand)];
  rows.push([c.name, f.toFixed(2), g.toFixed(2), h.toFixed(2), (g / h).toFixed(3), (g / f).toFixed(3)]);
  if (c.floor) floors.push(`${c.name}: ${c.floor.what} takes ${median(t.floor).toFixed(2)} ms alone, ${(median(t.floor) / f).toFixed(3)} × forward`);
}
const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
console.log("\ntargets: generated/hand <= 1.10 and gradient/forward <= 3 on each case");
if (floors.length > 0) console.log(`floor, the least any gradient of the case can take:\n${floors.map((l) => `  ${l}`).join("\n")}`);

/**
 * (e) a chain of nested calls (bench/chain.ts): depth 8, each level calling the next once,
 * against the same computation written flat, over 10^6 points. Calls are inlined, so the
 * two gradients should be the same code: the ratios show what the calls cost.
 */
async function chainSection(): Promise<void> {
  const source = readFileSync(new URL("./chain.ts", import.meta.url), "utf8");
  const { output } = await compile(source, "bench/chain.ts");
  if (output !== readFileSync(new URL("./chain.grad.ts", import.meta.url), "utf8")) {
    throw new Error("bench/chain.grad.ts is out of date: run npx tsx compiler/cli.ts bench/chain.ts");
  }
  const n = 1_000_000;
  const xs = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const ws = Float64Array.from({ length: n }, (_, i) => 0.5 + 0.5 * Math.cos(i * 0.3));
  const forward = (f: (x: number, w: number) => number) => () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += f(xs[i]!, ws[i]!);
    return s;
  };
  const gradient = (g: typeof nested_grad) => () => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const r = g(xs[i]!, ws[i]!);
      s += r.value + r.grad.x + r.grad.w;
    }
    return s;
  };
  const runs = { nestedForward: forward(nested), nestedGradient: gradient(nested_grad), flatForward: forward(flat), flatGradient: gradient(flat_grad) };
  if (runs.nestedGradient() !== runs.flatGradient()) throw new Error("the nested and flat gradients differ");
  const t = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as number[]])) as Record<keyof typeof runs, number[]>;
  for (let i = 0; i < 3; i++) for (const f of Object.values(runs)) time(f);
  for (let r = 0; r < REPEATS; r++) for (const [k, f] of Object.entries(runs)) t[k as keyof typeof runs].push(time(f));
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof runs, number>;
  const lines = (src: string, fn: string) => src.slice(src.indexOf(`function ${fn}`)).split("\n").findIndex((l) => l === "}") + 1;
  console.log("\n(e) chain of nested calls, depth 8 (bench/chain.ts), 10^6 points");
  console.log(`  nested calls: forward ${m.nestedForward.toFixed(2)} ms, gradient ${m.nestedGradient.toFixed(2)} ms, gradient/forward ${(m.nestedGradient / m.nestedForward).toFixed(3)}, ${lines(output, "nested_grad")} lines of gradient code`);
  console.log(`  written flat: forward ${m.flatForward.toFixed(2)} ms, gradient ${m.flatGradient.toFixed(2)} ms, gradient/forward ${(m.flatGradient / m.flatForward).toFixed(3)}, ${lines(output, "flat_grad")} lines of gradient code`);
  console.log(`  nested/flat: forward ${(m.nestedForward / m.flatForward).toFixed(3)}, gradient ${(m.nestedGradient / m.flatGradient).toFixed(3)}`);
}

await chainSection();
await intoCheckSection(time, median, REPEATS);
