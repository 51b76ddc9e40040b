/** What the parse stage makes of the source. */
import { describe, expect, it } from "vitest";
import { compileAndLoad } from "../helpers/load.ts";

const wrap = (body: string, params = "x: number") => `/** @differentiable */\nexport function f(${params}): number {\n${body}\n}\n`;

describe("numeric literals", () => {
  it("keep their value in every notation: exponents, hex, separators, a leading dot", async () => {
    const source = wrap("  return x * 1e-12 + 2e3 + 1e21 + 0x10 + 1_000 - -2e-3 + .5;");
    const { original, grad } = await compileAndLoad(source);
    expect(grad.f_grad!(3).value).toBe(original.f!(3));
    expect(grad.f_grad!(3).grad.x).toBe(1e-12);
  });
});
