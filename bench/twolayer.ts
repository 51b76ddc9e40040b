/**
 * Benchmark case (b): the two-layer ReLU net with softmax loss of the CS231n notes.
 *
 *   hidden = relu(X·W1 + b1);  scores = hidden·W2 + b2
 *   loss   = −mean_r log softmax(scores)[r, y_r] + ½·reg·(ΣW1² + ΣW2²)
 *
 * The model itself is examples/spiral/model.ts (`loss`, and tsgrad's `loss_grad`), and its
 * hand-written backward with runtime ops is examples/spiral/hand.ts. This file adds a seeded
 * problem of the benchmark's size, and the same computation as plain fused loops over
 * Float64Array (`twoLayerLoopsForward` / `twoLayerLoopsGrad`, no runtime ops): the
 * "hand-written loops" reference point.
 */
import { randn, scale, type Tensor } from "../runtime/tensor.ts";
import { mulberry32 } from "../runtime/random.ts";

export interface TwoLayerProblem {
  readonly W1: Tensor; // [D, H]
  readonly b1: Tensor; // [H]
  readonly W2: Tensor; // [H, C]
  readonly b2: Tensor; // [C]
  readonly X: Tensor; // [N, D]
  readonly y: Int32Array; // [N], labels in [0, C)
  readonly reg: number;
}

export interface TwoLayerGrad {
  readonly value: number;
  readonly grad: { readonly W1: Tensor; readonly b1: Tensor; readonly W2: Tensor; readonly b2: Tensor };
}

/** A seeded instance: weights 0.01·randn, biases 0.01·randn, data randn, uniform labels. */
export function makeTwoLayerProblem(N = 256, D = 100, H = 256, C = 10, seed = 1): TwoLayerProblem {
  const labels = mulberry32(seed + 5);
  const y = new Int32Array(N);
  for (let r = 0; r < N; r++) y[r] = Math.floor(labels() * C);
  return {
    W1: scale(randn([D, H], seed), 0.01),
    b1: scale(randn([H], seed + 1), 0.01),
    W2: scale(randn([H, C], seed + 2), 0.01),
    b2: scale(randn([C], seed + 3), 0.01),
    X: randn([N, D], seed + 4),
    y,
    reg: 1e-3,
  };
}

// ---------------------------------------------------------------------------
// Hand-written loops over Float64Array

/** Scratch buffers for the loop versions, so repeated calls allocate nothing but the returned gradients. */
interface Workspace {
  hidden: Float64Array; // [N, H]
  scores: Float64Array; // [N, C]
  dhidden: Float64Array; // [N, H]
}
const workspaces = new Map<string, Workspace>();
function workspace(N: number, H: number, C: number): Workspace {
  const key = `${N},${H},${C}`;
  let ws = workspaces.get(key);
  if (!ws) {
    ws = { hidden: new Float64Array(N * H), scores: new Float64Array(N * C), dhidden: new Float64Array(N * H) };
    workspaces.set(key, ws);
  }
  return ws;
}

/**
 * Fused forward into `ws.hidden` and `ws.scores` (scores turned into softmax probabilities
 * in place when `probs`); returns the loss.
 */
function loopsForward(
  W1: Float64Array,
  b1: Float64Array,
  W2: Float64Array,
  b2: Float64Array,
  X: Float64Array,
  y: ArrayLike<number>,
  reg: number,
  N: number,
  D: number,
  H: number,
  C: number,
  ws: Workspace,
  probs: boolean,
): number {
  const hidden = ws.hidden;
  const scores = ws.scores;
  let dataLoss = 0;
  for (let r = 0; r < N; r++) {
    // hidden row = relu(X[r]·W1 + b1), i-k-j order
    const h0 = r * H;
    for (let j = 0; j < H; j++) hidden[h0 + j] = b1[j];
    // four k-steps per pass over the hidden row (as the runtime's matmul does), then the rest
    const x0 = r * D;
    let p = 0;
    for (; p + 3 < D; p += 4) {
      const xa = X[x0 + p];
      const xb = X[x0 + p + 1];
      const xc = X[x0 + p + 2];
      const xd = X[x0 + p + 3];
      const wa = p * H;
      const wb = wa + H;
      const wc = wb + H;
      const wd = wc + H;
      for (let j = 0; j < H; j++) {
        hidden[h0 + j] += xa * W1[wa + j] + xb * W1[wb + j] + xc * W1[wc + j] + xd * W1[wd + j];
      }
    }
    for (; p < D; p++) {
      const xv = X[x0 + p];
      const w0 = p * H;
      for (let j = 0; j < H; j++) hidden[h0 + j] += xv * W1[w0 + j];
    }
    for (let j = 0; j < H; j++) if (hidden[h0 + j] < 0) hidden[h0 + j] = 0; // NaN stays NaN, like relu
    // scores row = hidden[r]·W2 + b2
    const s0 = r * C;
    for (let c = 0; c < C; c++) scores[s0 + c] = b2[c];
    for (let j = 0; j < H; j++) {
      const hv = hidden[h0 + j];
      if (hv === 0) continue;
      const w0 = j * C;
      for (let c = 0; c < C; c++) scores[s0 + c] += hv * W2[w0 + c];
    }
    // −log softmax at the label
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (scores[s0 + c] > max) max = scores[s0 + c];
    let total = 0;
    for (let c = 0; c < C; c++) total += Math.exp(scores[s0 + c] - max);
    const logTotal = Math.log(total);
    dataLoss -= scores[s0 + y[r]] - max - logTotal;
    if (probs) for (let c = 0; c < C; c++) scores[s0 + c] = Math.exp(scores[s0 + c] - max - logTotal);
  }
  let sq = 0;
  for (let i = 0; i < W1.length; i++) sq += W1[i] * W1[i];
  for (let i = 0; i < W2.length; i++) sq += W2[i] * W2[i];
  return dataLoss / N + 0.5 * reg * sq;
}

/** The data of a float64 tensor (the loops are written for float64 only). */
function f64(t: Tensor): Float64Array {
  if (!(t.data instanceof Float64Array)) throw new TypeError("the hand-written loops take float64 tensors");
  return t.data;
}

/** Forward only, as fused loops over Float64Array. */
export function twoLayerLoopsForward(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, X: Tensor, y: ArrayLike<number>, reg: number): number {
  const [N, D] = X.shape;
  const [H, C] = W2.shape;
  return loopsForward(f64(W1), f64(b1), f64(W2), f64(b2), f64(X), y, reg, N, D, H, C, workspace(N, H, C), false);
}

/** Loss and gradient as fused loops over Float64Array; allocates only the four gradient arrays. */
export function twoLayerLoopsGrad(
  W1: Tensor,
  b1: Tensor,
  W2: Tensor,
  b2: Tensor,
  X: Tensor,
  y: ArrayLike<number>,
  reg: number,
): TwoLayerGrad {
  const [N, D] = X.shape;
  const [H, C] = W2.shape;
  const ws = workspace(N, H, C);
  const w1 = f64(W1);
  const w2 = f64(W2);
  const x = f64(X);
  const value = loopsForward(w1, f64(b1), w2, f64(b2), x, y, reg, N, D, H, C, ws, true);
  const hidden = ws.hidden;
  const dscores = ws.scores; // probabilities, turned into dscores in place
  const dhidden = ws.dhidden;
  const dW1 = new Float64Array(D * H);
  const db1 = new Float64Array(H);
  const dW2 = new Float64Array(H * C);
  const db2 = new Float64Array(C);
  const invN = 1 / N;
  for (let r = 0; r < N; r++) {
    const s0 = r * C;
    dscores[s0 + y[r]] -= 1;
    for (let c = 0; c < C; c++) {
      dscores[s0 + c] *= invN;
      db2[c] += dscores[s0 + c];
    }
    // dW2 += hidden[r]ᵀ dscores[r];  dhidden[r] = (dscores[r]·W2ᵀ) masked by hidden[r] > 0
    const h0 = r * H;
    for (let j = 0; j < H; j++) {
      const hv = hidden[h0 + j];
      if (hv > 0) {
        const w0 = j * C;
        let acc = 0;
        for (let c = 0; c < C; c++) {
          const d = dscores[s0 + c];
          dW2[w0 + c] += hv * d;
          acc += d * w2[w0 + c];
        }
        dhidden[h0 + j] = acc;
        db1[j] += acc;
      } else {
        dhidden[h0 + j] = 0;
      }
    }
  }
  // dW1 = Xᵀ·dhidden, four rows of X per pass over a row of dW1
  for (let p = 0; p < D; p++) {
    const w0 = p * H;
    let r = 0;
    for (; r + 3 < N; r += 4) {
      const xa = x[r * D + p];
      const xb = x[(r + 1) * D + p];
      const xc = x[(r + 2) * D + p];
      const xd = x[(r + 3) * D + p];
      const ha = r * H;
      const hb = ha + H;
      const hc = hb + H;
      const hd = hc + H;
      for (let j = 0; j < H; j++) {
        dW1[w0 + j] += xa * dhidden[ha + j] + xb * dhidden[hb + j] + xc * dhidden[hc + j] + xd * dhidden[hd + j];
      }
    }
    for (; r < N; r++) {
      const xv = x[r * D + p];
      const h0 = r * H;
      for (let j = 0; j < H; j++) dW1[w0 + j] += xv * dhidden[h0 + j];
    }
  }
  for (let i = 0; i < dW1.length; i++) dW1[i] += reg * w1[i];
  for (let i = 0; i < dW2.length; i++) dW2[i] += reg * w2[i];
  return {
    value,
    grad: {
      W1: { data: dW1, shape: [D, H] },
      b1: { data: db1, shape: [H] },
      W2: { data: dW2, shape: [H, C] },
      b2: { data: db2, shape: [C] },
    },
  };
}
