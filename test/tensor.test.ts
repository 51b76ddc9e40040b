/**
 * The vectorised half of the seeds, checked against backward code written by hand the
 * way the notes write it (CS231n style), and against the notes' own numbers.
 */
import { describe, expect, it } from "vitest";
import {
  add, gather, logSoftmax, mask, matmul, randn, rand, relu, softmax, oneHot, scale, sub, sum, tensor, transpose, mean, item,
  type Tensor,
} from "../runtime/tensor.ts";
import { product_grad, rectify_grad } from "../fixtures/tensor_seeds.grad.ts";
import { twoLayer_grad } from "../fixtures/two_layer.grad.ts";
import { svmLoss_grad } from "../fixtures/svm.grad.ts";
import { product } from "../fixtures/tensor_seeds.ts";

const close = (a: Tensor, b: Tensor, tol = 1e-12) => {
  expect(a.shape).toEqual(b.shape);
  a.data.forEach((v, i) => expect(Math.abs(v - b.data[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b.data[i]!))));
};
const labels = (n: number, classes: number, seed: number) => Int32Array.from(rand([n], seed).data, (u) => Math.floor(u * classes));

describe("the seeds' matrix product D = W·X (W 5×10, X 10×3)", () => {
  const W = randn([5, 10], 1);
  const X = randn([10, 3], 2);
  const dD = randn([5, 3], 3);
  const { value, grad } = product_grad(W, X, dD);

  it("computes D", () => close(value, product(W, X)));

  it("gives dW = dD·Xᵀ (5×10) and dX = Wᵀ·dD (10×3), by loops over the definition", () => {
    expect(grad.W.shape).toEqual([5, 10]);
    expect(grad.X.shape).toEqual([10, 3]);
    // ∂L/∂W[i][k] = Σ_j dD[i][j] · X[k][j];  ∂L/∂X[k][j] = Σ_i W[i][k] · dD[i][j]
    for (let i = 0; i < 5; i++) for (let k = 0; k < 10; k++) {
      let s = 0;
      for (let j = 0; j < 3; j++) s += dD.data[i * 3 + j]! * X.data[k * 3 + j]!;
      expect(grad.W.data[i * 10 + k]).toBeCloseTo(s, 12);
    }
    for (let k = 0; k < 10; k++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let i = 0; i < 5; i++) s += W.data[i * 10 + k]! * dD.data[i * 3 + j]!;
      expect(grad.X.data[k * 3 + j]).toBeCloseTo(s, 12);
    }
  });
});

describe("the seeds' ReLU backward", () => {
  it("passes [4, -1, 5, 9] through where x = [1, -2, 3, -1] is positive: [4, 0, 5, 0]", () => {
    const { value, grad } = rectify_grad(tensor([1, -2, 3, -1]), tensor([4, -1, 5, 9]));
    expect(Array.from(value.data)).toEqual([1, 0, 3, 0]);
    expect(Array.from(grad.x.data)).toEqual([4, 0, 5, 0]);
  });
});

describe("the two-layer net with softmax cross-entropy", () => {
  /** The notes' backward pass, by hand. */
  function handWritten(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, X: Tensor, y: Int32Array) {
    const N = X.shape[0]!;
    const hidden = relu(add(matmul(X, W1), b1));
    const scores = add(matmul(hidden, W2), b2);
    const loss = -item(mean(gather(logSoftmax(scores, 1), y)));
    const dscores = scale(sub(softmax(scores, 1), oneHot(y, scores.shape[1]!)), 1 / N);
    const dW2 = matmul(transpose(hidden), dscores);
    const db2 = sum(dscores, 0);
    const dhidden = mask(matmul(dscores, transpose(W2)), hidden); // dhidden[hidden <= 0] = 0
    const dW1 = matmul(transpose(X), dhidden);
    const db1 = sum(dhidden, 0);
    return { value: loss, grad: { W1: dW1, b1: db1, W2: dW2, b2: db2 } };
  }

  for (const seed of [1, 2, 3]) it(`matches the hand-written backward (seed ${seed}, N=8 D=4 H=6 C=3)`, () => {
    const args = [randn([4, 6], seed), randn([6], seed + 1), randn([6, 3], seed + 2), randn([3], seed + 3), randn([8, 4], seed + 4)] as const;
    const y = labels(8, 3, seed + 5);
    const generated = twoLayer_grad(...args, y);
    const hand = handWritten(...args, y);
    expect(generated.value).toBeCloseTo(hand.value, 12);
    for (const k of ["W1", "b1", "W2", "b2"] as const) close(generated.grad[k], hand.grad[k]);
  });

  it("gives the bias the sum of the score gradients over the batch (broadcasting undone)", () => {
    const { grad } = twoLayer_grad(randn([4, 6], 9), randn([6], 10), randn([6, 3], 11), randn([3], 12), randn([8, 4], 13), labels(8, 3, 14));
    expect(grad.b2.shape).toEqual([3]);
    expect(grad.b1.shape).toEqual([6]);
  });
});

describe("the seeds' SVM loss", () => {
  /** The notes' flat backward: dscores[margins > 0] = 1; dscores[y] -= count; dW = Xᵀ·dscores (per example, averaged). */
  function handWritten(W: Tensor, X: Tensor, y: Int32Array) {
    const scores = matmul(X, W);
    const [N, C] = scores.shape as [number, number];
    const dscores = new Float64Array(N * C);
    let loss = 0;
    for (let n = 0; n < N; n++) {
      const correct = scores.data[n * C + y[n]!]!;
      let count = 0;
      for (let c = 0; c < C; c++) {
        if (c === y[n]) continue;
        const margin = Math.max(0, scores.data[n * C + c]! - correct + 1);
        loss += margin;
        if (margin > 0) {
          dscores[n * C + c] = 1 / N;
          count++;
        }
      }
      dscores[n * C + y[n]!] = -count / N;
    }
    return { value: loss / N, grad: { W: matmul(transpose(X), { data: dscores, shape: [N, C] }) } };
  }

  for (const seed of [1, 2, 3]) it(`matches the hand-written backward (seed ${seed})`, () => {
    const W = scale(randn([5, 4], seed), 0.5);
    const X = randn([10, 5], seed + 1);
    const y = labels(10, 4, seed + 2);
    const generated = svmLoss_grad(W, X, y, 4);
    const hand = handWritten(W, X, y);
    expect(generated.value).toBeCloseTo(hand.value, 12);
    close(generated.grad.W, hand.grad.W);
  });
});

describe("shape errors in a model", () => {
  it("are reported by the operation that fails, with both shapes", () => {
    expect(() => product_grad(randn([5, 10], 1), randn([9, 3], 2), randn([5, 3], 3))).toThrow(
      "matmul: cannot multiply [5, 10] by [9, 3]: inner dimensions 10 and 9 differ",
    );
  });
});
