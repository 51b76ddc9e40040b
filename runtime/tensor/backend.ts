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
  // read through globalThis: outside Node there is no `process`
  const host = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return host.process?.env?.TSGRAD_TENSOR_BACKEND === "js" ? "js" : "wasm";
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

/** Ops whose operands hold more elements than this run in JavaScript: the kernels' memory is 32-bit (4 GB). */
const WASM_MAX_ELEMENTS = 2 ** 27;

/**
 * The kernels, staging reset, when an op doing `work` (its element count, or a matmul's
 * m·k·n) on operands of `elements` elements in all should run them; null when it should run
 * its JavaScript loop. An op reads every operand's `data` before calling this: reading a
 * transpose's data for the first time runs a kernel, which resets the staging.
 */
export function kernelsFor(work: number, elements = work): Kernels | null {
  if (wanted !== "wasm" || work < WASM_MIN_ELEMENTS || elements > WASM_MAX_ELEMENTS) return null;
  const k = kernelsOrNull();
  k?.begin();
  return k;
}
