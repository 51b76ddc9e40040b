/** Forward mode's one refusal: a call of a function with a custom gradient (a backward only). */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";

const source = `/**
 * @differentiable
 * @gradient squareBackward
 */
export function square(x: number): number {
  return x * x;
}

export function squareBackward(x: number, _out: number, dout: number): number {
  return 2 * x * dout;
}

/** @differentiable @jvp */
export function f(x: number): number {
  return square(x) + x;
}
`;

describe("forward mode and custom gradients", () => {
  it("rejects a call of a @gradient function under @jvp with a located error saying what to do, and writes nothing", async () => {
    const { output, diagnostics } = await compile(source, "model.ts");
    expect(output).toBeNull();
    expect(diagnostics).toHaveLength(1);
    const [d] = diagnostics;
    expect([d!.file, d!.line, d!.col]).toEqual(["model.ts", 15, 10]);
    expect(d!.message).toMatch(/`square` has a custom gradient \(`@gradient squareBackward`\).*`f_jvp`.*leave `@jvp` off `f`/);
  });

  it("compiles the same module without @jvp", async () => {
    const { output } = await compile(source.replace(" @jvp", ""), "model.ts");
    expect(output).toContain("export function f_grad");
  });
});
