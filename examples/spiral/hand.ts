// The gradient of `loss` in model.ts, written by hand (CS231n, "Putting it together:
// minimal neural network case study"). It has the same signature as the `loss_grad` that
// tsgrad generates into model.grad.ts, so the two can be compared line for line and value
// for value. Each backward line is the local gradient times the upstream gradient.

import {
  type Tensor,
  add,
  gather,
  item,
  logSoftmax,
  mask,
  matmul,
  mean,
  mul,
  oneHot,
  relu,
  scale,
  softmax,
  sub,
  sum,
  transpose,
} from "../../runtime/tensor.ts";

export function loss_grad(
  W1: Tensor,
  b1: Tensor,
  W2: Tensor,
  b2: Tensor,
  X: Tensor,
  y: Int32Array,
  reg: number,
  dout = 1,
): { value: number; grad: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor } } {
  // Forward pass: the same statements as model.ts.
  const hidden = relu(add(matmul(X, W1), b1)); // [N, H]
  const scores = add(matmul(hidden, W2), b2); // [N, C]
  const logp = logSoftmax(scores, 1);
  const dataLoss = -item(mean(gather(logp, y)));
  const regLoss = 0.5 * reg * (item(sum(mul(W1, W1))) + item(sum(mul(W2, W2))));
  const value = dataLoss + regLoss;

  // Backward pass.
  const [N, C] = scores.shape;
  // d(dataLoss)/d(scores) = (softmax(scores) - oneHot(y)) / N, times the upstream gradient.
  const dscores = scale(sub(softmax(scores, 1), oneHot(y, C)), dout / N);
  // scores = hidden·W2 + b2; regLoss adds 0.5·reg·|W2|², whose gradient is reg·W2.
  const dW2 = add(matmul(transpose(hidden), dscores), scale(W2, reg * dout));
  const db2 = sum(dscores, 0);
  // Into the hidden layer, then through the ReLU (gradient only where hidden > 0).
  const dhidden = mask(matmul(dscores, transpose(W2)), hidden);
  // hidden_pre = X·W1 + b1; plus reg·W1 from regLoss.
  const dW1 = add(matmul(transpose(X), dhidden), scale(W1, reg * dout));
  const db1 = sum(dhidden, 0);
  return { value, grad: { W1: dW1, b1: db1, W2: dW2, b2: db2 } };
}
