// The spiral data set of the CS231n notes ("Putting it together: minimal neural network
// case study"): K arms of a spiral, one class per arm, in 2-D. A linear classifier cannot
// separate the arms; a small net with one hidden layer can.

import { type Tensor, randn, zeros } from "../../runtime/tensor.ts";

export interface SpiralOptions {
  /** Number of classes K (spiral arms). Default 3. */
  readonly classes?: number;
  /** Points per class N. Default 100. */
  readonly pointsPerClass?: number;
  /** Standard deviation of the noise added to each point's angle. Default 0.2. */
  readonly noise?: number;
  /** Seed of the noise: the same seed always gives the same points. Default 0. */
  readonly seed?: number;
}

/** Evenly spaced numbers from `start` to `stop` inclusive (NumPy's linspace). */
function linspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  return Array.from({ length: n }, (_, i) => start + ((stop - start) * i) / (n - 1));
}

/**
 * Points of class k lie along r ↦ (r·sin t, r·cos t) with radius r from 0 to 1 and angle
 * t from 4k to 4(k+1), plus Gaussian noise on t. Returns X [K·N, 2] (one point per row,
 * classes in order) and the labels y [K·N].
 */
export function spiral({ classes = 3, pointsPerClass = 100, noise = 0.2, seed = 0 }: SpiralOptions = {}): {
  X: Tensor;
  y: Int32Array;
} {
  const N = pointsPerClass;
  const X = zeros([classes * N, 2]);
  const y = new Int32Array(classes * N);
  // Seeded standard-normal noise (randn draws from runtime/random.ts's mulberry32).
  const eps = randn([classes * N], seed).data;
  const r = linspace(0, 1, N);
  for (let k = 0; k < classes; k++) {
    const t = linspace(k * 4, (k + 1) * 4, N);
    for (let i = 0; i < N; i++) {
      const row = k * N + i;
      const angle = t[i] + noise * eps[row];
      X.data[2 * row] = r[i] * Math.sin(angle);
      X.data[2 * row + 1] = r[i] * Math.cos(angle);
      y[row] = k;
    }
  }
  return { X, y };
}
