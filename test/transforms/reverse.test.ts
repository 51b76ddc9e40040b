/** What the reverse transform promises about the code it writes, checked on small inputs. */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { analyseActivity } from "../../compiler/analyses/activity.ts";
import { parse } from "../../compiler/parse/parse.ts";

async function gradOf(body: string, params = "x: number, y: number", doc = "@differentiable") {
  const source = `/** ${doc} */\nexport function f(${params}): number {\n${body}\n}\n`;
  const { output, diagnostics } = await compile(source, "m.ts");
  if (!output) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return { source, output, backward: output.slice(output.indexOf("\n\n", output.indexOf("export function"))) };
}

async function compileTensor(body: string) {
  const source = `import { Tensor, item, mul, sum } from "../runtime/index.ts";\n/** @differentiable */\nexport function f(W: Tensor): number {\n${body}\n}\n`;
  const { output, diagnostics } = await compile(source, "m.ts");
  if (!output) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return { output };
}

describe("reverse mode", () => {
  it("gives a parameter nobody asked for no adjoint code at all", async () => {
    const { output } = await gradOf("  const q = x * y;\n  return Math.sin(q) * y;", "x: number, y: number", "@differentiable\n * @wrt y");
    expect(output).not.toMatch(/\bdx\b/);
    expect(output).toContain("grad: { y: dy }");
  });

  it("gives values that do not depend on a differentiated parameter no adjoint code", async () => {
    const { output } = await gradOf("  const k = n * n + 1;\n  return k * x;", "x: number, n: number", "@differentiable\n * @wrt x");
    expect(output).not.toMatch(/\bdk\b|\bdn\b/);
  });

  it("accumulates a value used many times: `let dx = ...` first, then `dx += ...`", async () => {
    const { backward } = await gradOf("  const a = x * y;\n  const b = x + a;\n  return a * b;");
    expect(backward).toMatch(/let da = .*\n[\s\S]*da \+= /);
    expect(backward.match(/let dx = /g)).toHaveLength(1);
    expect(backward.match(/dx \+= /g)!.length).toBeGreaterThanOrEqual(1);
  });

  it("gives a value one operation reads twice its contribution once, doubled", async () => {
    const { backward } = await gradOf("  const s = x * x + y;\n  return s * y;");
    expect(backward).toMatch(/const dx = 2 \* x \* ds;/);
    expect(backward).not.toContain("dx +=");
    // a tensor's once, scaled: one product and one sumTo instead of two and an add
    const { output } = await compileTensor("  return item(sum(mul(W, W)));");
    expect(output).toMatch(/const dW = scale\(sumTo\(mul\(dprod, W\), W\.shape\), 2\);/);
    expect(output.match(/mul\(dprod, W\)/g)).toHaveLength(1);
  });

  it("writes no zero initialisation and no multiplication by one in straight-line code", async () => {
    const { backward } = await gradOf("  const a = x + y;\n  const b = a - y;\n  const c = -b;\n  return c * 1;");
    expect(backward).toContain("const dc = dout;");
    expect(backward.replace(/\/\/.*$/gm, "")).not.toMatch(/= 0;|\* 1\b|\b1 \*/);
  });

  it("points every adjoint statement at the forward line it differentiates", async () => {
    const { source, output } = await gradOf("  const s = Math.sin(x);\n  const p = s * y;\n  const q = p + x;\n  return q / y;");
    const lines = source.split("\n");
    const backward = output.split("export function")[1]!.split("\n\n")[1]!.split("\n").filter((l) => l.includes("+=") || /const d|let d/.test(l));
    expect(backward.length).toBeGreaterThan(4);
    for (const stmt of backward) {
      const m = /\/\/ line (\d+)(?:: (.*))?$/.exec(stmt);
      expect(m, stmt).not.toBeNull();
      if (m![2]) expect(lines[Number(m![1]) - 1]).toContain(m![2]!.replace(/…$/, ""));
    }
  });

  it("keeps only the intermediates the backward pass reads; folds the rest back into the user's line", async () => {
    const { output } = await gradOf("  return 3 * (x + y) + Math.exp(x * y);");
    expect(output).toContain("const exp = Math.exp(x * y);");
    expect(output).toMatch(/const value = 3 \* \(x \+ y\) \+ exp;/);
  });

  it("renames its own variables, never the user's, when names clash", async () => {
    const { output } = await gradOf("  const dx = x * 2;\n  const dout = dx + y;\n  return dout;");
    expect(output).toContain("const dx = x * 2;");
    expect(output).toContain("dout_1 = 1");
    expect(output).toMatch(/const ddx = /);
    expect(output).toMatch(/grad: \{ x: dx_1, y: dy \}/);
  });

  it("routes a ternary's gradient only into the branch taken", async () => {
    const { output } = await gradOf("  return x > y ? x * x : y;");
    expect(output).toMatch(/if \(x > y\) \{\n\s+dx \+= 2 \* x \* dout;.*\n\s+\} else \{\n\s+dy \+= dout;/);
  });
});

describe("activity analysis", () => {
  it("marks as active exactly the values between a differentiated parameter and the result", () => {
    const { functions } = parse("/**\n * @differentiable\n * @wrt x\n */\nfunction f(x: number, n: number) {\n  const k = n * 2;\n  const u = x * k;\n  const unused = x * 3;\n  return u + k;\n}\n", "m.ts");
    const fn = functions[0]!;
    const act = analyseActivity(fn);
    const active = fn.values.filter((v) => act.isActive(v.id)).map((v) => v.name ?? `%${v.hint}`);
    expect(active).toEqual(["x", "u", "%value"]);
  });
});
