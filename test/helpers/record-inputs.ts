/**
 * Inputs of the fixtures whose parameters are records, tuples or constant data
 * (fixtures/records.ts, fixtures/records_built.ts, fixtures/tuples.ts, fixtures/models/), by seed.
 */
import { rand } from "../../runtime/index.ts";
import { Point } from "../../fixtures/records_built.ts";

const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);
const one = (seed: number, lo = -1, hi = 1) => uniform(1, seed, lo, hi)[0]!;

export const RECORD_INPUTS: Record<string, (seed: number) => unknown[]> = {
  linearLoss: (s) => [{ w: uniform(3, s), b: one(s + 1) }, uniform(3, s + 2, -2, 2), one(s + 3)],
  destructured: (s) => [{ w: uniform(4, s), b: one(s + 1) }, uniform(4, s + 2, -2, 2)],
  nested: (s) => [{ scale: one(s), inner: { shift: one(s + 1), gain: one(s + 2) } }, { a: one(s + 3, -2, 2), b: one(s + 4) }],
  oscillate: (s) => [uniform(2, s), 0.5 + one(s + 1, 0, 1)],
  rotate: (s) => [uniform(2, s, -2, 2), one(s + 1, -3, 3)],
  twoTargets: (s) => [{ w: uniform(3, s), b: one(s + 1) }, uniform(3, s + 2, -2, 2), uniform(3, s + 3, -2, 2)],
  // kinks of relu and abs: points away from them, as the finite differences need
  scored: (s) => [uniform(4, s, 0.3, 1), uniform(4, s + 1, 0.3, 1), (["relu", "tanh", "linear"] as const)[s % 3], Int32Array.from([3, -2, 4, -3]), s % 2 === 0, "n"],
  weightedFit: (s) => [one(s), one(s + 1), uniform(4, s + 2, -2, 2).map((x, i) => ({ x, y: one(s + 10 + i), weight: one(s + 20 + i, 0, 1) }))],
  rowsNorm: (s) => [uniform(3, s), [0, 1, 2, 3].map((i) => uniform(3, s + 1 + i))],
  reduced: (s) => [uniform(4, s, -2, 2), { label: "a", scale: one(s + 1), reduction: 0 }, 1],
  // fixtures/records_built.ts: Points as class instances, as their callers pass them
  ridgeLoss: (s) => [uniform(3, s), one(s + 1), uniform(3, s + 2, -2, 2), one(s + 3), 0.1 + one(s + 4, 0, 0.5)],
  fitReport: (s) => [{ w: uniform(1, s), b: one(s + 1) }, uniform(4, s + 2, -2, 2), uniform(4, s + 3, -2, 2)],
  turnedMidpoint: (s) => [new Point(one(s), one(s + 1)), new Point(one(s + 2), one(s + 3)), one(s + 4, -3, 3)],
  lineFit: (s) => [{ slope: one(s), at: one(s + 1) }, uniform(5, s + 2, -2, 2).map((x, i) => new Point(x, 0.5 * x + one(s + 10 + i, -0.3, 0.3)))],
  // fixtures/models/
  lineLoss: (s) => [{ a: one(s), b: one(s + 1) }, uniform(5, s + 2, -2, 2).map((x, i) => ({ x, y: 0.5 * x + one(s + 10 + i, -0.3, 0.3) }))],
  energy: (s) => [uniform(6, s, -1, 1), uniform(3, s + 1, 0, 1).map((m, i) => ({ x: one(s + 2 + i), y: one(s + 5 + i), m: 0.5 + m })), 0.3 + one(s + 9, 0, 0.5)],
  logisticLoss: (s) => [{ w: uniform(3, s), b: one(s + 1) }, [0, 1, 2, 3].map((i) => uniform(3, s + 2 + i, -2, 2)), uniform(4, s + 7, 0, 1).map((u) => (u < 0.5 ? 0 : 1))],
  finalEnergy: (s) => [uniform(2, s), 1 + one(s + 1, 0, 1), 0.2 * one(s + 2, 0, 1), 0.05 + 0.1 * one(s + 3, 0, 1), 3 + (s % 5)],
};
