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

describe("loops that leave an iteration early", () => {
  const grad = async (body: string, params = "x: number, xs: number[]") => {
    const source = wrap(body, params);
    const { original, grad, output } = await compileAndLoad(source);
    // the value is the original's, on arrays that take each way out
    for (const xs of [[0.5, -0.2, 0.9, 0.1], [2, 2, 2], [-1, -1], []]) expect(grad.f_grad!(0.3, xs).value, output).toBe(original.f!(0.3, xs));
    return output;
  };

  it("keep a `for` with `continue` counted: the rest of the body is the other arm, the update follows it", async () => {
    const output = await grad("  let s = x;\n  for (let i = 0; i < xs.length; i++) {\n    if (xs[i] < 0) continue;\n    s = s * xs[i] + 1;\n  }\n  return s;");
    expect(output).toContain("for (let i = 0; i < xs.length; i++) {");
    expect(output).toContain("for (let i = xs.length - 1; i >= 0; i--) {");
    // the iteration that continues keeps s; the other computes it (one assignment, a ternary)
    expect(output).toContain("s = xs[i]! < 0 ? s : s * xs[i]! + 1;");
  });

  it("test a flag for `break` in the condition, named apart from the user's `done`", async () => {
    const output = await grad("  let s = x;\n  let done = 0;\n  for (let i = 0; i < xs.length; i++) {\n    if (s > 1) break;\n    s = s + xs[i] * xs[i];\n    done += 1;\n  }\n  return s * done;");
    expect(output).toContain("let done_1 = false;");
    expect(output).toContain("while (!done_1 && i < xs.length) {");
    expect(output).toMatch(/if \(s > 1\) \{\n\s+done_1 = true;/);
  });

  it("run a `do` loop's test at the end of the body, into `again`", async () => {
    const output = await grad("  let i = 0;\n  let s = x;\n  do {\n    s = Math.sin(s) + i;\n    i++;\n  } while (i < xs.length);\n  return s;");
    expect(output).toContain("let again = true;");
    expect(output).toContain("while (again) {");
    expect(output).toContain("again = i < xs.length;");
  });

  it("carry `return` from an inner loop out through the outer one, then branch on it", async () => {
    const output = await grad("  let s = x;\n  for (let i = 0; i < xs.length; i++) {\n    for (let j = 0; j < i; j++) {\n      if (xs[j] > 0.8) return s * xs[i];\n      s = s + xs[j];\n    }\n    s = s * 0.5;\n  }\n  return s;");
    expect(output).toContain("while (!returned && i < xs.length) {");
    expect(output).toContain("const value = returned ? result : s;");
  });
});
