// Which implementation the tensor ops run: the WebAssembly SIMD kernels, or the JavaScript
// loops. The kernels are the default wherever the engine supports SIMD WebAssembly (Node 16+,
// current browsers); elsewhere, or when asked, every op runs its JavaScript loop. Both give
// the same results up to rounding (the kernels add in a different order).

import { type Kernels, loadKernels } from "../wasm/kernels.ts";

export type TensorBackend = "wasm" | "js";

/** Ops on fewer elements than this run in JavaScript: the copies would cost more than they save. */
export const WASM_MIN_ELEMENTS = 32;

let loaded: Kernels | null | undefined;
let wanted: TensorBackend = initialBackend();

function initialBackend(): TensorBackend {
  const env = typeof process === "object" ? process.env?.TSGRAD_TENSOR_BACKEND : undefined;
  return env === "js" ? "js" : "wasm";
}

function kernelsOrNull(): Kernels | null {
  if (loaded === undefined) loaded = loadKernels();
  return loaded;
}

/**
 * Chooses the implementation of the tensor ops ("wasm" or "js") and returns the one now in
 * effect: "js" when asked for, or when this engine cannot run the SIMD kernels. The
 * environment variable TSGRAD_TENSOR_BACKEND=js starts a process with the JavaScript loops.
 */
export function setTensorBackend(backend: TensorBackend): TensorBackend {
  if (backend !== "wasm" && backend !== "js") {
    throw new TypeError(`setTensorBackend: expected "wasm" or "js", got ${JSON.stringify(backend)}`);
  }
  wanted = backend;
  return tensorBackend();
}

/** The implementation the tensor ops run now. */
export function tensorBackend(): TensorBackend {
  return wanted === "wasm" && kernelsOrNull() !== null ? "wasm" : "js";
}

/** Bytes of WebAssembly memory the kernels hold (0 before the first op that used them). */
export function kernelMemoryBytes(): number {
  return loaded ? loaded.memoryBytes : 0;
}

/**
 * The kernels, staging reset, when an op over `n` elements should run them; null when it
 * should run its JavaScript loop.
 */
export function kernelsFor(n: number): Kernels | null {
  if (wanted !== "wasm" || n < WASM_MIN_ELEMENTS) return null;
  const k = kernelsOrNull();
  k?.begin();
  return k;
}
