/**
 * (g) `@checkpoint` on the recurrence h = tanh(w·h + u·x[t] + b) at 10^6 steps: the
 * checkpointed gradient (fixtures/checkpoint.ts) against the plain one (fixtures/loops.ts),
 * the same source but for the tag. Times interleaved, as in the main table; the tape is
 * what bench/probe.ts measures, bytes alive when the backward pass starts (a checkpointed
 * loop's one-segment tape is allocated before its forward sweep, so that is its peak); peak
 * RSS of a process per variant that builds the inputs and makes one call (setup: none), as
 * bench/memory.mts does; both gradients also allocate dx, 8 MB.
 * Targets (issue 15): tape ≤ 5 % of the plain one's, time ≤ 2.5× the plain gradient's.
 *
 *   npx tsx bench/checkpoint.mts        (also the last section of npm run bench)
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { recurrence } from "../fixtures/loops.ts";
import { recurrence_grad as plainGrad } from "../fixtures/loops.grad.ts";
import { recurrence_grad as checkpointedGrad } from "../fixtures/checkpoint.grad.ts";
import { instrumented, measureTape } from "./probe.ts";

const STEPS = 1_000_000;
const VARIANTS = { forward: recurrence, plain: plainGrad, checkpointed: checkpointedGrad } as const;
type Variant = keyof typeof VARIANTS | "setup";

function inputs() {
  const x = Float64Array.from({ length: STEPS }, (_, i) => Math.sin(i * 0.1));
  return { x, w: 0.6, u: 0.9, b: -0.1 };
}

const run = (v: keyof typeof VARIANTS, { x, w, u, b }: ReturnType<typeof inputs>) => (): number => {
  const r = VARIANTS[v](w, u, b, x);
  return typeof r === "number" ? r : r.value + r.grad.w + r.grad.x[3]!;
};

function peakRss(variant: Variant): number {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "child", variant], { encoding: "utf8" });
  if (child.status !== 0) throw new Error(`bench/checkpoint.mts child ${variant} failed:\n${child.stderr}`);
  return (JSON.parse(child.stdout.trim().split("\n").at(-1)!) as { peakRss: number }).peakRss;
}

export async function checkpointSection(time: (f: () => number, reps?: number) => number, median: (xs: number[]) => number, repeats: number): Promise<void> {
  const input = inputs();
  const plain = plainGrad(input.w, input.u, input.b, input.x);
  const checkpointed = checkpointedGrad(input.w, input.u, input.b, input.x);
  const same = plain.value === checkpointed.value && plain.grad.w === checkpointed.grad.w && plain.grad.u === checkpointed.grad.u &&
    plain.grad.b === checkpointed.grad.b && plain.grad.x.every((v, i) => v === checkpointed.grad.x[i]);
  if (!same) throw new Error("the checkpointed gradient differs from the plain one");
  const fns = { forward: run("forward", input), plain: run("plain", input), checkpointed: run("checkpointed", input) };
  const t = { forward: [] as number[], plain: [] as number[], checkpointed: [] as number[] };
  for (let i = 0; i < 3; i++) Object.values(fns).forEach((f) => time(f));
  for (let r = 0; r < repeats; r++) for (const k of ["forward", "plain", "checkpointed"] as const) t[k].push(time(fns[k]));
  const m = { forward: median(t.forward), plain: median(t.plain), checkpointed: median(t.checkpointed) };
  const tape = async (module: string) => {
    const g = (await instrumented<Record<string, typeof plainGrad>>(new URL(`../fixtures/${module}`, import.meta.url), "recurrence_grad")).recurrence_grad!;
    const once = () => g(input.w, input.u, input.b, input.x);
    once();
    const samples = [measureTape(once)!, measureTape(once)!, measureTape(once)!].sort((a, b) => a - b);
    return samples[1]!;
  };
  const tapes = { plain: await tape("loops.grad.ts"), checkpointed: await tape("checkpoint.grad.ts") };
  const rss = { setup: peakRss("setup"), plain: peakRss("plain"), checkpointed: peakRss("checkpointed") };
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
  const kb = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 2 ** 10).toFixed(1)} KB` : mb(bytes));
  console.log(`\n(g) @checkpoint: the recurrence at 10^6 steps, segments of ⌈√T⌉ = 1000 steps (fixtures/checkpoint.ts), gradients bitwise equal`);
  console.log(`  forward ${m.forward.toFixed(2)} ms; plain gradient ${m.plain.toFixed(2)} ms; checkpointed ${m.checkpointed.toFixed(2)} ms: ${(m.checkpointed / m.plain).toFixed(3)} × plain (target ≤ 2.5)`);
  console.log(`  tape: plain ${kb(tapes.plain)}, checkpointed ${kb(tapes.checkpointed)}: ${((100 * tapes.checkpointed) / tapes.plain).toFixed(2)} % (target ≤ 5 %)`);
  console.log(`  peak RSS: setup ${mb(rss.setup)}, plain ${mb(rss.plain)}, checkpointed ${mb(rss.checkpointed)}`);
}

/** The child's side: build the inputs, run `variant` once, print {"peakRss": bytes}. */
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "child") {
  const variant = process.argv[3] as Variant;
  const input = inputs();
  if (variant !== "setup") run(variant, input)();
  console.log(JSON.stringify({ peakRss: process.resourceUsage().maxRSS * 1024 }));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const time = (f: () => number) => {
    const t0 = performance.now();
    const c = f();
    if (!Number.isFinite(c)) throw new Error("non-finite checksum");
    return performance.now() - t0;
  };
  await checkpointSection(time, median, Number(process.env.BENCH_REPEATS ?? 15));
}
