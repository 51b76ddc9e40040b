/** The bench's timer and median, shared by bench/run.mts and the sections that also run alone (bench/hvp.mts). */

export const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Milliseconds per call of `f`, over `reps` calls; a non-finite checksum is an error. */
export function time(f: () => number, reps = 1): number {
  const t0 = performance.now();
  let checksum = 0;
  for (let r = 0; r < reps; r++) checksum += f();
  const t = (performance.now() - t0) / reps;
  if (!Number.isFinite(checksum)) throw new Error("non-finite checksum");
  return t;
}
