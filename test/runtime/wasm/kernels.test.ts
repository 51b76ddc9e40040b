// Loading the kernels: where the engine cannot run SIMD WebAssembly there are none, and the
// tensor ops run their JavaScript loops (which test/runtime/tensor/backend.test.ts checks).
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadKernels } from "../../../runtime/wasm/kernels.ts";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("loadKernels", () => {
  it("instantiates the module, whose memory starts empty and grows on demand", () => {
    const kernels = loadKernels();
    expect(kernels).not.toBeNull();
    kernels!.begin();
    const offset = kernels!.put(new Float32Array(100_000).fill(1), "float32");
    expect(kernels!.memoryBytes).toBeGreaterThanOrEqual(400_000);
    expect(kernels!.fn("sum_all_f32")(offset, 100_000)).toBe(100_000);
  });

  it("gives none where the engine rejects the module (no SIMD)", () => {
    const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    vi.spyOn(wasm, "validate").mockReturnValue(false);
    expect(loadKernels()).toBeNull();
  });

  it("gives none where there is no WebAssembly at all", () => {
    vi.stubGlobal("WebAssembly", undefined);
    expect(loadKernels()).toBeNull();
  });
});
