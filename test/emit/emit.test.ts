/** What the emitted module holds besides the adjoint arithmetic: its imports, how it declares variables. */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";

const importsOf = (output: string | null) => (output ?? "").split("\n").filter((l) => l.startsWith("import "));

describe("imports", () => {
  it("imports only what the emitted code calls: a runtime helper in dead code is left out", async () => {
    const source = (result: string) =>
      `import { sigmoid, relu } from "../runtime/index.ts";\n/** @differentiable */\nexport function f(x: number, y: number): number {\n  y = relu(y) + sigmoid(x);\n  return ${result};\n}\n`;
    expect(importsOf((await compile(source("x * 2"), "m.ts")).output)).toEqual([]);
    expect(importsOf((await compile(source("y * 2"), "m.ts")).output)).toEqual(['import { relu, sigmoid } from "../runtime/index.ts";']);
  });

  it("keeps a Tensor import that is used only as a type, beside the helpers the backward pass calls", async () => {
    const source = `import { Tensor, sum } from "../runtime/tensor.ts";\n/** @differentiable */\nexport function f(t: Tensor): number {\n  return 1;\n}\n`;
    expect(importsOf((await compile(source, "m.ts")).output)).toEqual(['import { Tensor, zerosLike } from "../runtime/tensor.ts";']);
  });
});

describe("declarations", () => {
  it("declares an adjoint const when nothing assigns it again", async () => {
    const source = `/** @differentiable */\nexport function f(xs: number[]): number {\n  let total = 0;\n  for (let i = 0; i < xs.length; i++) {\n    total += Math.exp(xs[i]);\n  }\n  let unused = 2;\n  return Math.log(total) * unused;\n}\n`;
    const { output } = await compile(source, "m.ts");
    // the loop's carried adjoint: its backward body sums into dxs[i] but never changes dtotal
    expect(output).toMatch(/const dtotal = /);
    expect(output).toMatch(/let total = 0;/);
    // summed into by element, never rebound
    expect(output).toMatch(/const dxs = new Float64Array\(xs\.length\);/);
  });
});
