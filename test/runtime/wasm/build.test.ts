// The kernels' build: templates expanded for both element types and every elementwise op,
// assembled by wabt, and the module the runtime imports is the build of kernels.wat as it is.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assemble, expand } from "../../../runtime/wasm/build.ts";
import { kernelsBase64 } from "../../../runtime/wasm/kernels.bytes.ts";

const source = readFileSync(new URL("../../../runtime/wasm/kernels.wat", import.meta.url), "utf8");

describe("the kernels' build", () => {
  it("expands every template for float32 and float64, leaving no placeholder", () => {
    const text = expand(source).replace(/;;.*$/gm, "");
    expect(text).not.toMatch(/\{\w+\}/);
    const exports = [...text.matchAll(/\(export "(\w+)"\)/g)].map((m) => m[1]);
    for (const op of ["add", "sub", "mul", "div", "max", "gt", "mask"]) {
      for (const mode of ["vv", "vs", "sv"]) {
        expect(exports).toContain(`${op}_${mode}_f32`);
        expect(exports).toContain(`${op}_${mode}_f64`);
      }
    }
    for (const kernel of ["sum_all", "sum_rows", "sum_last", "transpose", "matmul"]) {
      expect(exports).toContain(`${kernel}_f32`);
      expect(exports).toContain(`${kernel}_f64`);
    }
    expect(text).toContain("f64x2.add");
    expect(text).not.toMatch(/f64x2\.(load32|demote)|f32x4\.promote/);
  });

  it("gives the module the runtime loads: kernels.bytes.ts is up to date with kernels.wat", async () => {
    const bytes = await assemble(source);
    expect(Buffer.from(bytes).toString("base64")).toBe(kernelsBase64);
  });
});
