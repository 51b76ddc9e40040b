// The WebAssembly SIMD kernels of kernels.wat, instantiated, with the staging the tensor
// ops use around them.
//
// Tensors keep their data in ordinary JavaScript typed arrays, which WebAssembly cannot
// address; so an op copies its operands into this module's memory (a bump allocator that
// every op starts afresh), runs a kernel there, and copies the result out into a new
// array. Copies are memcpy speed, and the kernels do the arithmetic 2 or 4 lanes at a time.
// Where WebAssembly or its SIMD instructions are missing, `loadKernels` returns null and the
// tensor ops run their JavaScript loops instead.

import { kernelsBase64 } from "./kernels.bytes.ts";

export type Dtype = "float32" | "float64";
type Data = Float32Array | Float64Array;
type Kernel = (...args: number[]) => number;

// The part of the WebAssembly JS API used here (the project's type libraries do not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}

/** Each slot is followed by this much padding (whole-vector reads and writes run into it). */
const PADDING = 64;
const PAGE = 65536;

export class Kernels {
  private readonly memory: WasmMemory;
  private readonly fns: Readonly<Record<string, Kernel>>;
  private f32: Float32Array;
  private f64: Float64Array;
  private top = 0;

  constructor(instance: WasmInstance) {
    this.fns = instance.exports as unknown as Record<string, Kernel>;
    this.memory = instance.exports.memory as WasmMemory;
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }

  /** The exported kernel `name` (e.g. `add_vv_f32`). */
  fn(name: string): Kernel {
    const f = this.fns[name];
    if (typeof f !== "function") throw new Error(`tsgrad runtime: no WebAssembly kernel named ${name}`);
    return f;
  }

  /** Bytes of memory the kernels hold (it grows to the largest op seen, and stays). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Starts an op's staging: every slot of the previous op is free again. */
  begin(): void {
    this.top = 0;
  }

  /** Reserves room for `n` elements of `dtype` (plus padding); returns its byte offset. */
  slot(n: number, dtype: Dtype): number {
    const offset = this.top;
    const bytes = n * (dtype === "float32" ? 4 : 8);
    this.top = offset + Math.ceil(bytes / 16) * 16 + PADDING;
    if (this.top > this.memory.buffer.byteLength) this.grow(this.top);
    return offset;
  }

  /**
   * Copies `data` (converted to `dtype` if it is the other type) into a new slot of room for
   * `capacity` elements, and zeroes the padding after it; returns the slot's byte offset.
   */
  put(data: Data, dtype: Dtype, capacity = data.length): number {
    const offset = this.slot(capacity, dtype);
    const view = this.view(dtype);
    const start = offset / view.BYTES_PER_ELEMENT;
    const end = start + data.length;
    view.set(data, start);
    view.fill(0, end, end + PADDING / view.BYTES_PER_ELEMENT);
    return offset;
  }

  /** A slot holding the one value `x`. */
  putScalar(x: number, dtype: Dtype): number {
    const offset = this.slot(1, dtype);
    this.view(dtype)[offset / (dtype === "float32" ? 4 : 8)] = x;
    return offset;
  }

  /** A new array of `n` elements of `dtype` copied out of the slot at `offset`. */
  take(offset: number, n: number, dtype: Dtype): Data {
    const view = this.view(dtype);
    const start = offset / view.BYTES_PER_ELEMENT;
    return view.slice(start, start + n);
  }

  /** The memory as elements of `dtype` (valid until the next `slot`). */
  view(dtype: Dtype): Data {
    return dtype === "float32" ? this.f32 : this.f64;
  }

  private grow(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    // at least double, so a sequence of growing ops grows the memory a few times only
    const want = Math.max(bytes, 2 * have);
    this.memory.grow(Math.ceil((want - have) / PAGE));
    this.f32 = new Float32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 to bytes, here rather than `atob` or `Buffer`, which not every host's types declare. */
function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, "");
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let out = 0;
  for (let i = 0; i < clean.length; i++) {
    value = (value << 6) | BASE64.indexOf(clean[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (value >> bits) & 0xff;
    }
  }
  return bytes;
}

/**
 * The kernels, or null where this JavaScript engine has no WebAssembly or no SIMD for it
 * (the module does not validate without the v128 instructions).
 */
export function loadKernels(): Kernels | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (typeof wasm !== "object") return null;
  const bytes = decodeBase64(kernelsBase64);
  if (!wasm.validate(bytes)) return null;
  return new Kernels(new wasm.Instance(new wasm.Module(bytes), {}));
}
