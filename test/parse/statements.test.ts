/** Statements beyond the first subset: `let x: number;` assigned later, nested blocks, `switch`, labels. */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { gradcheck } from "../../runtime/index.ts";
import { compileAndLoad } from "../helpers/load.ts";

const wrap = (body: string, params = "x: number") => `/** @differentiable */\nexport function f(${params}): number {\n${body}\n}\n`;

/** The one located error `body` gives, as `line:col: message`. */
async function errorOf(body: string, params?: string): Promise<string> {
  const { output, diagnostics } = await compile(wrap(body, params), "m.ts");
  expect(output).toBeNull();
  expect(diagnostics.length).toBe(1);
  const d = diagnostics[0]!;
  return `${d.line}:${d.col}: ${d.message}`;
}

/** Compiles `body`, checks the value against the original and the gradient against finite differences at `points`. */
async function check(body: string, params: string, points: unknown[][]) {
  const { original, grad, output } = await compileAndLoad(wrap(body, params));
  const names = params.split(",").map((p) => p.split(":")[0]!.trim());
  for (const args of points) {
    expect(grad.f_grad!(...args).value, output).toBe(original.f!(...args));
    const r = gradcheck(original.f!, grad.f_grad!, args as number[], { names });
    expect(r.ok, `${r.report}\n${output}`).toBe(true);
  }
  return output;
}

describe("`let x: number;` assigned later", () => {
  it("takes its value from both arms of an `if`, from a loop body, and from a later statement", async () => {
    const output = await check(
      "  let y: number;\n  if (x > 0) y = x * x;\n  else y = Math.sin(x);\n  let s = 0;\n  for (let i = 0; i < 3; i++) {\n    let t: number;\n    t = y * i;\n    s += t;\n  }\n  let z: number;\n  z = s;\n  z += x;\n  return z;",
      "x: number", [[0.7], [-1.3]]);
    expect(output).toContain("let y_3: number;");
  });

  it("is an error where a path reads it before assigning it: after one arm, after a loop, in `+=`", async () => {
    expect(await errorOf("  let y: number;\n  if (x > 0) {\n    y = x;\n  }\n  return y;")).toMatch(/^7:10: `y` is read before it is assigned: give it a value on every path/);
    expect(await errorOf("  let y: number;\n  for (let i = 0; i < 2; i++) y = x * i;\n  return y;")).toMatch(/^5:10: `y` is read before it is assigned/);
    expect(await errorOf("  let y: number;\n  y += x;\n  return y;")).toMatch(/^4:3: `y` is read before it is assigned/);
  });

  it("needs `let` and a type", async () => {
    expect(await errorOf("  let y;\n  y = x;\n  return y;")).toMatch(/`let y` without a value needs a type: write `let y: number;`/);
  });
});

describe("nested blocks", () => {
  it("let an inner `const` shadow an outer one until the block ends, in loops and arms that leave early too", async () => {
    const body = [
      "  const t = x * 2;", "  let s = 0;", "  {", "    const t = x * x;", "    s += t;", "    {", "      const t = Math.sin(s);", "      s += t;", "    }", "    s += t;", "  }",
      "  for (let i = 0; i < xs.length; i++) {", "    const t = xs[i] * x;", "    if (t > 0) {", "      const x = t * 3;", "      s += x;", "      continue;", "    }",
      "    for (let i = 0; i < 2; i++) s += t * i;", "    {", "      let x = t;", "      x += 1;", "      s += x;", "      if (s > 3) break;", "    }", "  }", "  return s + t;",
    ].join("\n");
    await check(body, "x: number, xs: number[]", [[0.7, [0.5, -1, 2, 0.3]], [-0.4, [0.5, -1, 2, 0.3, 1, 1]], [0.2, []]]);
  });

  it("keep a name declared twice in one block an error", async () => {
    expect(await errorOf("  const y = x;\n  {\n    const z = y;\n  }\n  const x = 1;\n  return y;")).toMatch(/^7:9: `x` is already declared in this function/);
  });
});

describe("switch", () => {
  const cases = [[0.4, 0], [0.4, 1], [-0.8, 2], [1.1, 3], [0.3, 7]];

  it("runs the matching case and falls through to the next until a `break`; `default` wherever it is written", async () => {
    const body = "  let y = x;\n  switch (n) {\n    default:\n      y = y * 3;\n    case 0:\n      y += Math.sin(x);\n      break;\n    case 1:\n    case 2: {\n      const t = x * x;\n      y = t * 2;\n      if (y > 1) break;\n      y += 1;\n    }\n  }\n  return y;";
    const output = await check(body, "x: number, n: number", cases);
    // the discriminant is read once per case, in order: a chain of `if`s
    expect(output).toMatch(/if \(n === 0\) \{/);
  });

  it("returns from a case: the rest of the function goes into the cases that do not return", async () => {
    await check("  switch (n) {\n    case 0:\n      return x * x;\n    case 1:\n      x = Math.exp(x);\n      break;\n    case 2:\n      if (x < 0) return -x;\n  }\n  return x + 1;", "x: number, n: number", cases);
  });

  it("inside a loop: `break` leaves the switch, `continue` the iteration; inside an `if` arm too", async () => {
    const body = [
      "  let s = 0;", "  for (let i = 0; i < xs.length; i++) {", "    if (xs[i] > -1) {", "      switch (i % 3) {", "        case 0:", "          s += xs[i] * x;", "          break;",
      "        case 1:", "          if (s > 1) continue;", "          s *= x;", "          break;", "        default:", "          s -= 0.5;", "      }", "      s += 0.1;", "    }", "  }", "  return s;",
    ].join("\n");
    await check(body, "x: number, xs: number[]", [[0.7, [0.5, -1.5, 2, 0.3, 1, 1, -0.2]], [-0.4, [0.5, 1.5, 0.3, 2]], [0.2, []]]);
  });

  it("compares a string constant parameter (a union of literals) that `@wrt` leaves out", async () => {
    const source = `/**\n * @differentiable\n * @wrt x\n */\nexport function f(x: number, kind: "relu" | "tanh"): number {\n  switch (kind) {\n    case "relu":\n      return Math.max(0, x);\n  }\n  return kind === "tanh" ? Math.tanh(x) : x;\n}\n`;
    const { original, grad, output } = await compileAndLoad(source);
    expect(output).toContain(`export function f_grad(x: number, kind: "relu" | "tanh", dout = 1)`);
    for (const kind of ["relu", "tanh"]) {
      expect(grad.f_grad!(0.5, kind).value).toBe(original.f!(0.5, kind));
      expect(gradcheck(original.f!, grad.f_grad!, [0.5, kind] as unknown as number[], { names: ["x", "kind"] }).ok).toBe(true);
    }
  });

  it("takes `break outer` and `continue outer` from inner loops, two deep, to `for`, `while` and `do` loops around them", async () => {
    // the flag of the loop labelled `outer` ends the loops in between and skips the rest of their iterations
    await check("  let s = 0;\n  outer: for (let i = 0; i < 3; i++) {\n    for (let j = 0; j < 3; j++) {\n      if (j > i) continue outer;\n      s += x * j;\n    }\n    s = s * x;\n  }\n  return s;", "x: number", [[0.7], [-1.2]]);
    await check("  let s = x;\n  let i = 0;\n  outer: while (i < 4) {\n    i++;\n    for (let j = 0; j < 2; j++) {\n      let k = 0;\n      while (k < 3) {\n        k++;\n        if (s > 3) break outer;\n        if (s < -3) continue outer;\n        s = s * 1.5 + w;\n      }\n      s -= w;\n    }\n    s += 0.1;\n  }\n  return s;", "x: number, w: number", [[0.5, 0.3], [-0.4, -0.9], [1.1, 0.2]]);
    await check("  let s = x;\n  let n = 0;\n  outer: do {\n    n++;\n    for (let j = 0; j < 3; j++) {\n      s = s * w;\n      if (s > 2) break outer;\n    }\n    s += 1;\n  } while (n < 3);\n  return s;", "x: number, w: number", [[0.5, 1.3], [0.9, 0.7], [1.8, 1.1]]);
  });

  it("keeps what stays out a located error", async () => {
    expect(await errorOf("  switch (xs) {\n    case xs:\n      return 1;\n  }\n  return 0;", "xs: number[]")).toMatch(/^3:11: a `switch` compares a number or a string, not an array/);
    expect(await errorOf("  for (let i = 0; i < 3; i++) {\n    for (let j = 0; j < 3; j++) {\n      if (j > i) continue nowhere;\n    }\n  }\n  return x;")).toMatch(/^5:18: `continue nowhere` names no loop around it/);
    expect(await errorOf("  block: {\n    x = 1;\n  }\n  return x;")).toMatch(/^3:3: a label is supported on a loop only/);
    expect(await errorOf(`  const k = "a";\n  return x;`)).toMatch(/^3:13: a string is a constant here/);
    expect(await errorOf(`  return x * "a";`)).toMatch(/needs number operands, got a string/);
  });
});
