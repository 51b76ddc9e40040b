/**
 * Where and at what points the fixtures' functions are checked: the domains of the scalar
 * ones, and the inputs of those with array, tensor and record parameters, by seed. Shared
 * by the fixtures' own test and by the test that differentiates their generated gradients
 * (test/compiler/own-output.test.ts).
 */
import { rand, randn, type Tensor } from "../../runtime/index.ts";
import { RECORD_INPUTS } from "./record-inputs.ts";

export type Sampler = (u: number) => number | boolean;
const range = (lo: number, hi: number): Sampler => (u) => lo + (hi - lo) * u;
const integer = (lo: number, hi: number): Sampler => (u) => lo + Math.floor(u * (hi - lo + 1));
const flag: Sampler = (u) => u < 0.5;
export const ANY = range(-2, 2);

/** Where each fixture function is smooth; parameters not listed are drawn from [-2, 2]. */
export const DOMAINS: Record<string, Record<string, Sampler>> = {
  safeLog: { x: range(0.2, 3), floor: range(0.5, 1) },
  huber: { delta: range(0.5, 2) },
  special: { u: range(0.5, 3.5) },
  stepped: { x: range(-2.9, 2.9) },
  clash: { n: integer(0, 3), scaled: flag },
  neuronLoss: { t: range(0, 1) },
  hingeLoss: { label: (u) => (u < 0.5 ? -1 : 1) },
  // eccentricities below 0.8 keep Newton's steps well conditioned
  kepler: { M: range(0, 6), e: range(0, 0.8) },
  piecewise: { mode: integer(0, 4) },
  logNormal: { sigma: range(0.3, 2) },
  callPrice: { S: range(50, 150), K: range(50, 150), T: range(0.1, 2), r: range(0, 0.1), sigma: range(0.1, 0.5) },
};

export const POINTS = 25;

/** Inputs of the tensor fixtures, by seed: the arguments and, for a Tensor result, the upstream gradient. */
export type TensorCase = { args: unknown[]; dout?: Tensor };
const scaleBy = (t: Tensor, k: number): Tensor => ({ ...t, data: t.data.map((v) => v * k) });
const labels = (n: number, classes: number, seed: number) => Int32Array.from(rand([n], seed).data, (u) => Math.floor(u * classes));
export const TENSOR_INPUTS: Record<string, (seed: number) => TensorCase> = {
  product: (s) => ({ args: [randn([5, 10], s), randn([10, 3], s + 1)], dout: randn([5, 3], s + 2) }),
  rectify: (s) => ({ args: [randn([8], s)], dout: randn([8], s + 1) }),
  twoLayer: (s) => ({ args: [randn([3, 5], s), randn([5], s + 1), randn([5, 4], s + 2), randn([4], s + 3), randn([6, 3], s + 4), labels(6, 4, s + 5)] }),
  deepTanh: (s) => ({ args: [scaleBy(randn([4, 4], s), 0.6), randn([3, 4], s + 1), s % 4] }),
  residualStack: (s) => ({ args: [scaleBy(randn([4, 4], s), 0.5), randn([4], s + 1), randn([3, 4], s + 2), rand([1], s + 3).data[0]!, 1 + (s % 4)] }),
  svmLoss: (s) => ({ args: [randn([3, 4], s), randn([6, 3], s + 1), labels(6, 4, s + 2), 4] }),
};
export const TENSOR_POINTS = 4;

/** Inputs of the loop fixtures (array parameters), by seed. */
export const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);
/** An n × m matrix as rows (`number[][]`). */
const rows = (n: number, m: number, seed: number, lo = -1, hi = 1) => Array.from({ length: n }, (_, i) => uniform(m, seed + 1 + i, lo, hi));

export const ARRAY_INPUTS: Record<string, (seed: number) => unknown[]> = {
  polyFit: (s) => { const u = uniform(3, s); return [u[0], u[1], u[2], uniform(6, s + 1, -2, 2), uniform(6, s + 2)]; },
  recurrence: (s) => { const u = uniform(3, s); return [u[0], u[1], u[2], Float64Array.from(uniform(7, s + 1, -2, 2))]; },
  // 10 steps in segments of 4: the last one shorter
  lastScaled: (s) => [uniform(1, s)[0], uniform(7, s + 1, -2, 2)],
  oscillator: (s) => [uniform(10, s, 0.5, 2), uniform(10, s + 1, -1, 1), 0.1 + 0.3 * uniform(1, s + 2, 0, 1)[0]!, 0.1],
  rosenbrock: (s) => [uniform(6, s, -1.5, 1.5)],
  damped: (s) => [uniform(1, s)[0], Float64Array.from(uniform(7, s + 1, -2, 2))],
  scaledLse: (s) => [uniform(1, s, -2, 2)[0], uniform(5, s + 1, -2, 2), uniform(5, s + 2, 0.2, 2)],
  softmaxCE: (s) => [uniform(5, s, -3, 3), s % 5],
  growth: (s) => [0.05 + 0.2 * uniform(1, s, 0, 1)[0]!, 0.5 + uniform(1, s + 1, 0, 1)[0]!, 3 + (s % 20)],
  matvec: (s) => [Float64Array.from(uniform(12, s)), uniform(4, s + 1, -2, 2), 3],
  softmax: (s) => [uniform(5, s, -3, 3)],
  mlpLoss: (s) => [Float64Array.from(uniform(12, s)), uniform(4, s + 1), uniform(4, s + 2), uniform(3, s + 3, -2, 2), uniform(1, s + 4)[0]],
  smoothTwice: (s) => [uniform(6, s, -2, 2), 0.2 + 0.6 * uniform(1, s + 1, 0, 1)[0]!],
  centered: (s) => [Float64Array.from(uniform(5, s, -2, 2))],
  checkedNeighbours: (s) => [uniform(5, s, -2, 2)],
  aliasedSum: (s) => [uniform(1 + (s % 5), s, -2, 2)],
  horner: (s) => [...uniform(4, s), uniform(1, s + 1, -2, 2)[0]],
  matvecLeaky: (s) => [Float64Array.from(uniform(12, s, -1, 1)), Float64Array.from(uniform(4, s + 1, -1, 1)), 3],
  logistic: (s) => { const u = uniform(2, s); return [u[0], u[1], uniform(6, s + 1, -2, 2), uniform(6, s + 2, 0, 1).map((v) => (v < 0.5 ? 0 : 1))]; },
  softplusNeuron: (s) => [uniform(4, s, -2, 2), uniform(4, s + 1, -2, 2), uniform(1, s + 2)[0]],
  spreadScore: (s) => [uniform(1, s)[0], uniform(5, s + 1, -3, 3)],
  // where the loop breaks depends only on the costs, which are not differentiated
  budgetedReturn: (s) => [0.8 + 0.2 * uniform(1, s, 0, 1)[0]!, uniform(8, s + 1), uniform(8, s + 2, 0, 1), 1 + 4 * uniform(1, s + 3, 0, 1)[0]!],
  positiveEnergy: (s) => [Float64Array.from(uniform(8, s, -1, 1)), 0.5 + 1.5 * uniform(1, s + 1, 0, 1)[0]!],
  weightedSquares: (s) => [uniform(6, s, -2, 2), uniform(1, s + 1)[0]],
  firstCrossing: (s) => [uniform(8, s, -1, 1), uniform(1, s + 1, -0.5, 0.5)[0]!],
  // array methods and spread (fixtures/array_methods.ts); lengths vary with the seed, 0 included
  sumSquares: (s) => [uniform(s % 6, s, -2, 2)],
  chainProduct: (s) => [uniform(1 + (s % 5), s, -2, 2)],
  weighted: (s) => [uniform(s % 6, s, -1, 1), uniform(1, s + 1)[0]],
  clipped: (s) => [uniform(6, s, -2, 2), uniform(1, s + 1)[0]],
  filled: (s) => [uniform(1, s)[0], uniform(s % 5, s + 1, -2, 2)],
  roughness: (s) => [uniform(s % 7, s, -2, 2)],
  logSumExpSpread: (s) => [uniform(1 + (s % 6), s, -3, 3)],
  spreads: (s) => [uniform(s % 4, s, -2, 2), uniform(3, s + 1, -2, 2), uniform(1, s + 2)[0]],
  // models written the natural way (fixtures/models/)
  convLoss: (s) => [uniform(9, s, -2, 2), uniform(1 + (s % 4), s + 1), uniform(1, s + 2)[0], uniform(9, s + 3)],
  gaussianNll: (s) => [uniform(2 + (s % 7), s, -3, 3), uniform(1, s + 1)[0], uniform(1, s + 2, -1, 1)[0]],
  softmaxLoss: (s) => [rows(3, 4, s, -2, 2), uniform(4, s + 1, -2, 2), s % 3],
  // nested arrays (fixtures/nested.ts): matrices as rows, their sizes varying with the seed
  matvecError: (s) => [rows(1 + (s % 3), 4, s), uniform(4, s + 10, -2, 2), uniform(1 + (s % 3), s + 11)],
  twoLayerRows: (s) => [rows(3, 4, s), uniform(3, s + 10), rows(2, 3, s + 20), uniform(4, s + 30, -2, 2)],
  quadratic: (s) => [rows(3, 3, s), uniform(3, s + 10, -2, 2)],
  switchInLoop: (s) => [uniform(1, s, -2, 2)[0]!, uniform(9, s + 1, -2, 2)],
  sideEffects: (s) => [uniform(1, s, -2, 2)[0]!, s % 7, uniform(5, s + 1, -2, 2)],
  softClipped: (s) => [uniform(1, s, -2, 2)[0]!, 0.5 + uniform(1, s + 1, 0, 1)[0]!, s % 2 === 0 ? "soft" : "hard"],
  hornerPolynomial: (s) => [uniform(1, s, -1.5, 1.5)[0]!, uniform(5, s + 1, -2, 2)],
  activation: (s) => [uniform(1, s, -2, 2)[0]!, (["relu", "tanh", "sigmoid"] as const)[s % 3]],
  breakOuter: (s) => [uniform(1, s, -1, 1)[0]!, uniform(5, s + 1, -1, 1.5)],
  labelledLoop: (s) => [uniform(1, s, -2, 2)[0]!, uniform(8, s + 1, -1, 1.5)],
  // second order (fixtures/loss.ts, fixtures/gradient_penalty.ts): a label in [0, 1], the penalty's weight positive
  logLoss: (s) => [uniform(4, s), uniform(4, s + 1, -2, 2), uniform(1, s + 2, 0, 1)[0]],
  penalized: (s) => [uniform(4, s), uniform(4, s + 1, -2, 2), uniform(1, s + 2, 0, 1)[0], uniform(1, s + 3, 0.1, 1)[0]],
  gradAlong: (s) => [uniform(4, s), uniform(4, s + 1, -2, 2), uniform(1, s + 2, 0, 1)[0], uniform(4, s + 3)],
  // writes into parameters and through helpers, element writes as values, closures (fixtures/writes.ts)
  doubleFirst: (s) => [Float64Array.from(uniform(1 + (s % 5), s, -2, 2))],
  smoothInPlace: (s) => [uniform(2 + (s % 5), s, -2, 2), 0.2 + 0.6 * uniform(1, s + 1, 0, 1)[0]!],
  scaledTwice: (s) => [uniform(2 + (s % 4), s, -2, 2), uniform(1, s + 1, -1.5, 1.5)[0]!],
  elementValues: (s) => [uniform(3 + (s % 4), s, -2, 2)],
  closureWrites: (s) => [uniform(1 + (s % 5), s, -2, 2), uniform(1, s + 1, -1.5, 1.5)[0]!],
  ...RECORD_INPUTS,
};

/** Random numbers shaped like `g` (a gradient: a number, an array, a Tensor, a record or tuple of those), for the argument `a`. */
export function randomLike(a: unknown, g: unknown, s: number): unknown {
  if (typeof g === "number") return uniform(1, s)[0]!;
  if (g instanceof Float64Array) return Float64Array.from(uniform(g.length, s));
  if (Array.isArray(g)) return g.every((v) => typeof v === "number") ? uniform(g.length, s) : g.map((v, k) => randomLike((a as unknown[])[k], v, s + 7 * k));
  if (g && typeof g === "object" && "shape" in g) return randn((a as Tensor).shape, s);
  return Object.fromEntries(Object.entries(g as object).map(([k, v], i) => [k, randomLike((a as Record<string, unknown>)[k], v, s + 7 * i)]));
}
