/**
 * npm run bench, last part: how compile time and memory grow with what is compiled.
 *
 * - Straight-line `@differentiable` functions of 1k, 2k, 5k and 10k statements (a chain of
 *   `+`, `*`, `Math.sin`, `Math.exp` with fan-out, bench/scale-source.ts), each compiled with
 *   the public `compile()`; the time per size and the growth exponent, the least-squares
 *   slope of log(time) against log(size): 1 is linear.
 * - A generated module of 50,000 lines (many 50-statement functions).
 * - Memory: 10,000 compiles of a small model in this one process (as watch mode and the
 *   playground run), the resident set and the heap after a full GC, after a warm-up and
 *   then along the way: flat is the promise.
 *
 * Targets (issue 13): 5,000 statements in at most 3 s, the 50,000-line module in at most
 * 30 s, exponent near 1 (at most about 1.2), memory flat. BENCH_SCALE_COMPILES sets the
 * number of compiles of the memory part, BENCH_SCALE_REPEATS the runs per size (median).
 */
import { loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { compile } from "../compiler/api.ts";
import { chainFunction, chainModule, manyFunctionsModule } from "./scale-source.ts";

const SIZES = [1000, 2000, 5000, 10000];
const REPEATS = Number(process.env.BENCH_SCALE_REPEATS ?? 1);
const COMPILES = Number(process.env.BENCH_SCALE_COMPILES ?? 10_000);

const load = () => loadavg().map((l) => l.toFixed(2)).join(", ");
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A full collection, so what is sampled is what is kept: `--expose-gc`, or switched on here. */
const gc: () => void = typeof globalThis.gc === "function" ? globalThis.gc : (setFlagsFromString("--expose-gc"), runInNewContext("gc") as () => void);

async function timed(text: string, path: string): Promise<{ wall: number; cpu: number; lines: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await compile(text, path);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (result.output === null) throw new Error(`bench/scale.mts: ${path} did not compile: ${result.diagnostics[0]?.message}`);
  return { wall, cpu: (cpu.user + cpu.system) / 1000, lines: result.output.split("\n").length };
}

/** Least-squares slope of log(y) against log(x). */
function exponent(xs: readonly number[], ys: readonly number[]): number {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i]! - mx) * (ly[i]! - my);
    den += (lx[i]! - mx) ** 2;
  }
  return num / den;
}

console.log(`\ntsgrad scale: compile time against input size (Node ${process.version}, load average ${load()})\n`);
// the first compile pays for starting TypeScript and prettier; a 2,000-statement one warms
// the JIT, which otherwise makes the smallest size the slowest and the exponent look below 1
await compile(chainModule(500), "warm.ts");
await compile(chainModule(2000), "warm.ts");

const walls: number[] = [];
console.log("statements | wall ms | cpu ms | µs per statement | output lines");
for (const n of SIZES) {
  const text = chainModule(n);
  const runs = [];
  for (let r = 0; r < REPEATS; r++) runs.push(await timed(text, `chain${n}.ts`));
  const wall = median(runs.map((r) => r.wall));
  walls.push(wall);
  const cpu = median(runs.map((r) => r.cpu));
  console.log(`${String(n).padStart(10)} | ${wall.toFixed(0).padStart(7)} | ${cpu.toFixed(0).padStart(6)} | ${((wall * 1000) / n).toFixed(0).padStart(16)} | ${runs[0]!.lines}`);
}
const slope = exponent(SIZES, walls);
const at5k = walls[SIZES.indexOf(5000)]!;
console.log(`growth exponent (log-log least squares over ${SIZES.join(", ")}): ${slope.toFixed(2)} (target ≤ 1.2: ${slope <= 1.2 ? "met" : "NOT met"})`);
console.log(`5,000 statements: ${(at5k / 1000).toFixed(2)} s (target ≤ 3 s: ${at5k <= 3000 ? "met" : "NOT met"}); load average ${load()}`);

const module = manyFunctionsModule(50_000);
const lines = module.split("\n").length - 1;
const functions = module.split("@differentiable").length - 1;
const big = await timed(module, "module50k.ts");
console.log(`\n${lines.toLocaleString("en-US")}-line module, ${functions} functions: ${(big.wall / 1000).toFixed(2)} s wall, ${(big.cpu / 1000).toFixed(2)} s cpu, ${big.lines.toLocaleString("en-US")} lines out (target ≤ 30 s: ${big.wall <= 30_000 ? "met" : "NOT met"}); load average ${load()}`);

// memory: one small model compiled again and again
const small = chainFunction("model", 20) + "\n";
const sample = (label: string) => {
  gc();
  gc();
  const m = process.memoryUsage();
  console.log(`${label.padStart(16)} | ${mb(m.rss).padStart(9)} | ${mb(m.heapUsed).padStart(9)}`);
  return m;
};
console.log(`\nmemory over ${COMPILES.toLocaleString("en-US")} compiles of a 20-statement model in this process (after gc()):`);
console.log("         compile |       RSS |      heap");
for (let i = 0; i < 200; i++) await compile(small, "model.ts");
const first = sample("after warm-up");
const step = Math.max(1, Math.round(COMPILES / 4));
let last = first;
for (let i = 1; i <= COMPILES; i++) {
  await compile(small, "model.ts");
  if (i % step === 0 || i === COMPILES) last = sample(i.toLocaleString("en-US"));
}
console.log(`heap after ${COMPILES.toLocaleString("en-US")} compiles − after warm-up: ${mb(last.heapUsed - first.heapUsed)}; RSS: ${mb(last.rss - first.rss)}; load average ${load()}`);
