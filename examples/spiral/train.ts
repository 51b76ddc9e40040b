// Trains the two-layer net of model.ts on the spiral data set with plain gradient descent,
// using the gradient tsgrad generated into model.grad.ts. Run it from the repository root:
//
//   npx tsx compiler/cli.ts examples/spiral/model.ts   # (re)generate model.grad.ts
//   npx tsx examples/spiral/train.ts [--steps N] [--out path.svg] [--dtype float32]
//
// With --dtype float32 the weights and the data are float32 tensors, and so is every value
// the generated gradient computes (the runtime's ops keep their operands' dtype).
//
// It prints its progress, the final loss and training accuracy, writes the loss curve as
// an SVG picture, and exits with status 1 if the accuracy is not above 90%.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sgd } from "../../runtime/optim.ts";
import { type DType, type Tensor, astype, randn, scale, zeros } from "../../runtime/tensor.ts";
import { spiral } from "./data.ts";
import { loss, predict } from "./model.ts";
import { loss_grad } from "./model.grad.ts";
import { writeCurveSvg } from "./svg.ts";

// ---------------------------------------------------------------------------
// Command line

const usage = `usage: npx tsx examples/spiral/train.ts [--steps N] [--out path.svg] [--seed S] [--dtype D]
  --steps N      number of gradient-descent steps (default 3000)
  --out FILE     where to write the loss curve (default examples/spiral/loss.svg)
  --seed S       seed of the data noise and the initial weights (default 42)
  --dtype D      float64 (default) or float32: the tensors' element type`;

const commandLineOptions = {
  steps: { type: "string", default: "3000" },
  out: { type: "string", default: fileURLToPath(new URL("./loss.svg", import.meta.url)) },
  seed: { type: "string", default: "42" },
  dtype: { type: "string", default: "float64" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The options given on the command line; prints the usage and exits 2 on an unknown one. */
function parseCommandLine() {
  try {
    return parseArgs({ options: commandLineOptions }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}

const args = parseCommandLine();
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const steps = Number(args.steps);
if (!Number.isInteger(steps) || steps < 1) {
  console.error(`--steps must be a positive integer, got "${args.steps}"\n${usage}`);
  process.exit(2);
}
const seed = Number(args.seed); // fixes the data noise and the initial weights: every run is the same
if (!Number.isInteger(seed)) {
  console.error(`--seed must be an integer, got "${args.seed}"\n${usage}`);
  process.exit(2);
}
if (args.dtype !== "float64" && args.dtype !== "float32") {
  console.error(`--dtype must be float64 or float32, got "${args.dtype}"\n${usage}`);
  process.exit(2);
}
const dtype: DType = args.dtype;

// ---------------------------------------------------------------------------
// Settings (those of the CS231n case study)

const hiddenSize = 100; // neurons in the hidden layer
const learningRate = 1; // step size of gradient descent
const reg = 1e-3; // strength of the L2 penalty on the weights

// ---------------------------------------------------------------------------
// Data: 3 classes × 100 points in 2-D, arranged as three interleaved spiral arms.

const numClasses = 3;
const points = spiral({ classes: numClasses, pointsPerClass: 100, seed });
const X = astype(points.X, dtype);
const y = points.y;
const [, inputSize] = X.shape; // 2: each point is (x, y)

// ---------------------------------------------------------------------------
// Parameters: small random weights (0.01 · standard normal) and zero biases. Different
// seeds for W1 and W2 so the two matrices are not built from the same random numbers.

let params: { W1: Tensor; b1: Tensor; W2: Tensor; b2: Tensor } = {
  W1: scale(randn([inputSize, hiddenSize], seed + 1, dtype), 0.01),
  b1: zeros([hiddenSize], dtype),
  W2: scale(randn([hiddenSize, numClasses], seed + 2, dtype), 0.01),
  b2: zeros([numClasses], dtype),
};

/** Fraction of the training points whose predicted class is their label. */
function accuracy(): number {
  const { W1, b1, W2, b2 } = params;
  const predicted = predict(W1, b1, W2, b2, X);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return correct / y.length;
}

// ---------------------------------------------------------------------------
// Training loop. Each step: one call of the generated gradient gives the loss and its
// gradient with respect to every parameter; sgd moves each parameter a little downhill
// (p ← p − learningRate · dp, updating the tensors in place).

const interactive = process.stdout.isTTY === true;
// On a terminal, redraw one status line every 50 steps; in a log, print ~10 lines in all.
const reportEvery = interactive ? 50 : Math.max(1, Math.round(steps / 10));
// Keep at most ~1000 points of the loss curve: one every `recordEvery` steps.
const recordEvery = Math.max(1, Math.ceil(steps / 1000));
const curveSteps: number[] = [];
const curveLosses: number[] = [];

const started = performance.now();
for (let step = 0; step < steps; step++) {
  const { W1, b1, W2, b2 } = params;
  const { value, grad } = loss_grad(W1, b1, W2, b2, X, y, reg);
  params = sgd(params, grad, learningRate);

  if (step % recordEvery === 0) {
    curveSteps.push(step);
    curveLosses.push(value);
  }
  const done = step + 1;
  if (done % reportEvery === 0 || done === steps) {
    // `value` is the loss before this step's update; the accuracy is after it.
    const line = `step ${String(done).padStart(String(steps).length)}/${steps}  loss ${value.toFixed(4)}  accuracy ${(100 * accuracy()).toFixed(1).padStart(5)}%`;
    if (interactive) process.stdout.write(`\r${line}`);
    else console.log(line);
  }
}
if (interactive) process.stdout.write("\n");
const seconds = (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------
// Results: the loss and accuracy of the trained parameters.

const { W1, b1, W2, b2 } = params;
const finalLoss = loss(W1, b1, W2, b2, X, y, reg);
const finalAccuracy = accuracy();
curveSteps.push(steps);
curveLosses.push(finalLoss);
console.log(`trained ${steps} steps in ${dtype} in ${seconds.toFixed(2)} s (${((1000 * seconds) / steps).toFixed(3)} ms/step)`);
console.log(`final loss ${finalLoss.toFixed(4)}`);
console.log(`training accuracy ${(100 * finalAccuracy).toFixed(1)}%`);

// ---------------------------------------------------------------------------
// The loss curve, as a picture.

writeCurveSvg(args.out, curveSteps, curveLosses, {
  title: `Spiral: softmax loss of a 2-layer net (${hiddenSize} hidden units${dtype === "float32" ? ", float32" : ""})`,
  xLabel: "step",
  yLabel: "loss",
});
console.log(`wrote the loss curve to ${args.out}`);

if (!(finalAccuracy > 0.9)) {
  console.error(`training accuracy ${(100 * finalAccuracy).toFixed(1)}% is not above 90%`);
  process.exitCode = 1;
}
