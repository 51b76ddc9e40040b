// vitest global setup: the runtime's WebAssembly kernels are built from runtime/wasm/kernels.wat
// before any test imports the runtime (a no-op when they are up to date), so a single test file
// run with `npx vitest run` works on a fresh edit of the kernels too.
import { buildKernels } from "../../runtime/wasm/build.ts";

export default async function setup(): Promise<void> {
  await buildKernels();
}
