import { type Tensor, add, gather, item, logSoftmax, matmul, mean, mul, relu, sum } from "../../runtime/tensor.ts";

/**
 * Softmax cross-entropy loss of a two-layer net, scores = max(0, X·W1 + b1)·W2 + b2
 * (one example per row of X), plus L2 regularisation of the weights.
 * @differentiable
 * @wrt W1 b1 W2 b2
 */
export function loss(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, X: Tensor, y: Int32Array, reg: number): number {
  const hidden = relu(add(matmul(X, W1), b1));
  const scores = add(matmul(hidden, W2), b2);
  const logp = logSoftmax(scores, 1);
  const dataLoss = -item(mean(gather(logp, y)));
  const regLoss = 0.5 * reg * (item(sum(mul(W1, W1))) + item(sum(mul(W2, W2))));
  return dataLoss + regLoss;
}

/** The class the net predicts for each row of X: the index of the row's highest score. */
export function predict(W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, X: Tensor): Int32Array {
  const hidden = relu(add(matmul(X, W1), b1));
  const scores = add(matmul(hidden, W2), b2);
  const [rows, classes] = scores.shape;
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (scores.data[r * classes + c] > scores.data[r * classes + best]) best = c;
    }
    labels[r] = best;
  }
  return labels;
}
