/**
 * Inputs of the fixtures whose parameters are records, tuples or constant data
 * (fixtures/records.ts, fixtures/tuples.ts, fixtures/models/), by seed.
 */
import { rand } from "../../runtime/index.ts";

const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);
const one = (seed: number, lo = -1, hi = 1) => uniform(1, seed, lo, hi)[0]!;

export const RECORD_INPUTS: Record<string, (seed: number) => unknown[]> = {
  linearLoss: (s) => [{ w: uniform(3, s), b: one(s + 1) }, uniform(3, s + 2, -2, 2), one(s + 3)],
  destructured: (s) => [{ w: uniform(4, s), b: one(s + 1) }, uniform(4, s + 2, -2, 2)],
  nested: (s) => [{ scale: one(s), inner: { shift: one(s + 1), gain: one(s + 2) } }, { a: one(s + 3, -2, 2), b: one(s + 4) }],
  oscillate: (s) => [uniform(2, s), 0.5 + one(s + 1, 0, 1)],
  rotate: (s) => [uniform(2, s, -2, 2), one(s + 1, -3, 3)],
};
