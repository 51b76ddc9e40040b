// Plain-data tensors and CPU ops for tsgrad's runtime: what models and generated code import.
//
// A Tensor is row-major float64 or float32 data plus a shape: no graph, no tape. Every op
// returns a new tensor and never mutates its inputs; gradients are produced by compiled code
// calling these same ops (e.g. `sumTo` is the VJP of broadcasting, `mask` the VJP of `relu`).
// The ops run WebAssembly SIMD kernels (runtime/wasm/kernels.wat) where the engine has them,
// else JavaScript loops; `setTensorBackend("js")` chooses the loops.
//
// The pieces: tensor/shape.ts (the type, dtypes, shapes), tensor/create.ts (constructors,
// access), tensor/linalg.ts (matmul, transpose, reshape), tensor/elementwise.ts,
// tensor/reduce.ts (sums, softmax, broadcastTo), tensor/labels.ts (gather, scatter, oneHot),
// tensor/backend.ts (which implementation runs).

export {
  broadcastShapes,
  dtypeOf,
  formatShape,
  isTensor,
  shapeEq,
  size,
  TensorShapeError,
  type DType,
  type NestedArray,
  type Shape,
  type Tensor,
  type TensorData,
} from "./tensor/shape.ts";
export { astype, full, get, item, ones, onesLike, rand, randn, tensor, toArray, zeros, zerosLike } from "./tensor/create.ts";
export { matmul, reshape, transpose } from "./tensor/linalg.ts";
export { add, div, exp, gt, log, mask, maximum, mul, neg, relu, scale, sigmoid, sub, tanh } from "./tensor/elementwise.ts";
export { axisSize, broadcastTo, logSoftmax, mean, softmax, sum, sumTo } from "./tensor/reduce.ts";
export { gather, oneHot, scatter } from "./tensor/labels.ts";
export { kernelMemoryBytes, setTensorBackend, tensorBackend, type TensorBackend } from "./tensor/backend.ts";
