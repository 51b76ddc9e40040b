/**
 * Memory figures of `npm run bench`, beside its times.
 *
 * - Peak RSS: each case's forward, generated and hand-written functions run in a process of
 *   their own (`tsx bench/memory.mts <case> <variant>`: build that case alone, run the function
 *   a few times, print the process's peak resident set), beside a process that only builds
 *   the case ("setup"), so the difference is what running it added.
 * - Bytes kept by the tape: bench/probe.ts, one call of each gradient in this process.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CASES, type Case, type TapeSide } from "./cases.ts";
import { instrumented, measureTape } from "./probe.ts";

const VARIANTS = ["setup", "forward", "generated", "hand"] as const;
type Variant = (typeof VARIANTS)[number];

export interface MemoryRow {
  /** Peak resident set in bytes of a process running each variant. */
  readonly peakRss: Readonly<Record<Variant, number>>;
  /** Bytes alive when the backward pass starts, beyond the inputs (undefined: not measured). */
  readonly tape: { readonly generated?: number; readonly hand?: number };
}

/** The child's side: build case `index`, run `variant`, print {"peakRss": bytes}. */
function child(index: number, variant: Variant): void {
  const c = CASES[index]!();
  if (variant !== "setup") {
    const f = c[variant];
    for (let r = 0; r < 8 * (c.reps ?? 1); r++) f();
  }
  // maxRSS is in kilobytes
  console.log(JSON.stringify({ peakRss: process.resourceUsage().maxRSS * 1024 }));
}

function peakRss(index: number, variant: Variant): number {
  const script = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [...process.execArgv, script, String(index), variant], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`bench/memory.mts ${index} ${variant} failed:\n${run.stderr}`);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return (JSON.parse(last) as { peakRss: number }).peakRss;
}

async function tapeOf(side: TapeSide | (() => unknown)): Promise<number | undefined> {
  let once: () => unknown;
  if (typeof side === "function") {
    once = side;
  } else {
    const module = await instrumented<Record<string, unknown>>(side.module, side.fn, side.marker);
    once = () => side.call(module[side.fn] as never);
  }
  once(); // warm: the kernels' memory and lazily built state exist before the measurement
  const samples = [measureTape(once), measureTape(once), measureTape(once)];
  if (samples.some((s) => s === undefined)) return undefined;
  return (samples as number[]).sort((a, b) => a - b)[1];
}

/** The memory figures of every case (`cases` built in this process, for the tape). */
export async function measureMemory(cases: readonly Case[]): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (let i = 0; i < cases.length; i++) {
    const peak = Object.fromEntries(VARIANTS.map((v) => [v, peakRss(i, v)])) as Record<Variant, number>;
    const tape = cases[i]!.tape;
    rows.push({
      peakRss: peak,
      tape: tape ? { generated: await tapeOf(tape.generated), hand: await tapeOf(tape.hand) } : {},
    });
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [index, variant] = process.argv.slice(2);
  child(Number(index), variant as Variant);
}
