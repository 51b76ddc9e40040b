/**
 * npm run bench — generated gradients against hand-written ones, in one process, as ratios.
 *
 * Each case times three functions over the same inputs: the forward function alone, the
 * tsgrad-generated gradient, and a gradient written by hand in the style of the notes.
 * Runs are interleaved (forward, generated, hand, forward, ...) so drift in machine speed
 * hits all three alike; the figures are medians over the repeats. The cases are in
 * bench/cases.ts. Then the memory figures (bench/memory.mts): each function's peak RSS in a
 * process of its own, and the bytes each gradient's tape keeps (BENCH_MEMORY=0 skips them).
 * Sections after the table: (e) nested calls, the @into check, (g) @checkpoint, (h) forward mode, (j) second order (bench/hvp.mts); bench/scale.mts is (i).
 * BENCH_ONLY=text times only the cases whose name contains the text, and nothing else.
 */
import { readFileSync } from "node:fs";
import { tensorBackend } from "../runtime/tensor.ts";
import { CASES } from "./cases.ts";
import { measureMemory } from "./memory.mts";
import { compile } from "../compiler/index.ts";
import { flat, nested } from "./chain.ts";
import { flat_grad, nested_grad } from "./chain.grad.ts";
import { intoCheckSection } from "./into-check.mts";
import { checkpointSection } from "./checkpoint.mts";
import { forwardSection } from "./forward.mts";
import { hvpSection } from "./hvp.mts";
import { REPEATS, median, time } from "./timing.mts";


const only = process.env.BENCH_ONLY;
const cases = CASES.map((make) => make()).filter((c) => only === undefined || c.name.includes(only));
console.log(`tsgrad bench: medians of ${REPEATS} interleaved runs (Node ${process.version}, tensor ops on ${tensorBackend()} unless a row says otherwise)\n`);
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

if (only === undefined) {
  await chainSection();
  await intoCheckSection(time, median, REPEATS);
  await checkpointSection(time, median, REPEATS);
  await forwardSection(time, median, REPEATS);
  await hvpSection(time, median, REPEATS);
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)}`;
const kept = (bytes: number | undefined) =>
  bytes === undefined ? "-" : Math.abs(bytes) < 2 ** 10 ? `${Math.max(0, Math.round(bytes))} B` : Math.abs(bytes) < 2 ** 20 ? `${(bytes / 2 ** 10).toFixed(1)} KB` : `${mb(bytes)} MB`;
if (process.env.BENCH_MEMORY !== "0" && only === undefined) {
  const memory = await measureMemory(cases);
  console.log("\nmemory: peak RSS (MB) of a process that builds the case and runs one function 8× (setup: builds only);");
  console.log("tape: bytes alive when the backward pass starts, beyond the inputs (one call, after a full GC)");
  const head = ["case", "setup", "forward", "generated", "hand", "tape: generated", "tape: hand"];
  const table = [head, ...memory.map((m, i) => [
    cases[i]!.name, mb(m.peakRss.setup), mb(m.peakRss.forward), mb(m.peakRss.generated), mb(m.peakRss.hand), kept(m.tape.generated), kept(m.tape.hand),
  ])];
  const w = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(w[i]!) : cell.padStart(w[i]!))).join("  "));
}
