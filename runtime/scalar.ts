/**
 * Scalar helpers that differentiable code may call. Each has a derivative rule in the
 * compiler's table (compiler/rules/rules.ts).
 */

/** The logistic function 1 / (1 + e^-x), written so that it never overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** max(0, x). */
export function relu(x: number): number {
  // NaN stays NaN, as in PyTorch: a NaN is never turned into a plausible 0
  return x <= 0 ? 0 : x;
}
