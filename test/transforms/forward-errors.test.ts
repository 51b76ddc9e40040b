/**
 * Forward mode's one refusal: a call of a function with a custom gradient (a backward only)
 * and no `@tangent`; and the checks of a `@tangent` annotation.
 */
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
    expect(d!.message).toMatch(/`square` has a custom gradient \(`@gradient squareBackward`\).*`f_jvp`.*`@tangent squareTangent`.*leave `@jvp` off `f`/);
  });

  it("compiles the same module without @jvp", async () => {
    const { output } = await compile(source.replace(" @jvp", ""), "model.ts");
    expect(output).toContain("export function f_grad");
  });

  const withTangent = (tangent: string) => source.replace(" * @gradient squareBackward\n", " * @gradient squareBackward\n * @tangent squareTangent\n") + tangent;

  it("calls the @tangent function in f_jvp", async () => {
    const { output, diagnostics } = await compile(withTangent("\nexport function squareTangent(x: number, _out: number, x_dot: number): number {\n  return 2 * x * x_dot;\n}\n"), "model.ts");
    expect(diagnostics).toEqual([]);
    expect(output).toMatch(/const squareOut_dot = squareTangent\(x, squareOut, x_dot\);/);
  });

  it.each([
    ["missing", "", /`@tangent` names `squareTangent`, which is not a function declared in this module|@tangent names `squareTangent`, which is not a function declared in this module/],
    ["not exported", "\nfunction squareTangent(x: number, _out: number, x_dot: number): number {\n  return 2 * x * x_dot;\n}\n", /export it \(`export function squareTangent`\)/],
    ["with the wrong parameters", "\nexport function squareTangent(x: number, x_dot: number): number {\n  return 2 * x * x_dot;\n}\n", /takes its parameters, the result, then the tangent of each differentiated parameter: \(x, out, x_dot\), 3 parameters, not 2/],
  ])("rejects a @tangent function %s with a located error", async (_what, tangent, message) => {
    const { output, diagnostics } = await compile(withTangent(tangent), "model.ts");
    expect(output).toBeNull();
    expect(diagnostics.map((d) => d.message)).toEqual([expect.stringMatching(message)]);
    expect(diagnostics[0]!.line).toBeGreaterThan(0);
  });
});
