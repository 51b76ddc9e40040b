/**
 * Input outside the supported subset: a located error that says what is not supported,
 * never a crash, never output.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { RULES } from "../../compiler/rules/rules.ts";

const wrap = (body: string, params = "x: number") => `/** @differentiable */\nexport function f(${params}): number {\n${body}\n}\n`;

/** [what, source, message pattern, line, column] */
const CASES: [string, string, RegExp, number, number][] = [
  ["a labelled loop (break outer)", wrap("  outer: for (let i = 0; i < 3; i++) {\n    for (let j = 0; j < 3; j++) {\n      if (j > i) break outer;\n      x = x * 2;\n    }\n  }\n  return x;"), /a labelled statement is not supported yet: instead of `break outer` or `continue outer`, set a flag/, 3, 3],
  ["break with a label", wrap("  for (let i = 0; i < 3; i++) {\n    if (i > 1) break nowhere;\n  }\n  return x;"), /`break` with a label is not supported yet/, 4, 16],
  ["break outside a loop", wrap("  if (x > 0) break;\n  return x;"), /`break` outside a loop is not supported/, 3, 14],
  ["code after break", wrap("  while (x > 1) {\n    break;\n    x = x / 2;\n  }\n  return x;"), /unreachable code after `break`/, 5, 5],
  ["a loop that never ends", wrap("  for (;;) {\n    x = x / 2;\n  }\n  return x;"), /this loop has no condition and no `break` or `return` inside: it would never end/, 3, 3],
  ["a do-while test reading the body's const", wrap("  do {\n    const d = x / 2;\n    x -= d;\n  } while (d > 0.1);\n  return x;"), /`d` is not a parameter or local variable of `f`/, 6, 12],
  ["a path without a return", wrap("  if (x > 0) {\n    return x;\n  } else {\n    x = 1;\n  }"), /this path through the function does not end with `return <expression>`/, 5, 10],
  ["a redeclared name", wrap("  if (x > 0) {\n    const x = 2;\n  }\n  return x;"), /`x` is already declared in this function/, 4, 11],
  ["a call of a function without a body", `declare function opaque(v: number): number;\n${wrap("  return opaque(x);")}`, /`opaque` has no body tsgrad can read/, 4, 10],
  ["a call of another function", `function helper(v: number) { return v; }\n${wrap("  return helper(x);")}`, /calling `helper` is not supported yet/, 4, 10],
  ["Math.random()", wrap("  return x * Math.random();"), /`Math.random\(\)` is not supported here: randomness belongs in a parameter/, 3, 14],
  ["eval", wrap("  return eval(\"x\");"), /`eval` is not supported here/, 3, 10],
  ["an async function", "/** @differentiable */\nexport async function f(x: number) {\n  return x;\n}\n", /an `async` function is not supported here/, 2, 8],
  ["a generator function", "/** @differentiable */\nexport function* f(x: number) {\n  yield x;\n}\n", /a generator function is not supported here/, 2, 18],
  ["try", wrap("  try {\n    return x;\n  } catch {\n    return 0;\n  }"), /`try` is not supported here/, 3, 3],
  ["an object literal", wrap("  const o = { a: x };\n  return x;"), /an object literal is not supported yet/, 3, 13],
  ["a class method", "class C {\n  /** @differentiable */\n  f(x: number) {\n    return x;\n  }\n}\n", /@differentiable on a class method is not supported: tag a top-level `function` declaration/, 3, 3],
  ["an arrow function", "/** @differentiable */\nexport const f = (x: number) => x;\n", /@differentiable on a variable/, 2, 1],
  ["an array element write", wrap("  x[0] = 1;\n  return x[0];", "x: number[]"), /writing to an array element is not supported yet/, 3, 3],
  ["a missing type annotation", wrap("  return x;", "x"), /parameter `x` needs a type annotation/, 2, 19],
  ["a string parameter", wrap("  return 1;", "s: string"), /has type `string`: supported types are `number`, `boolean`, the runtime's `Tensor`, and arrays of numbers/, 2, 22],
  ["var", wrap("  var y = x;\n  return y;"), /`var` is not supported: use `let` or `const`/, 3, 3],
  ["writing outside the function", `let total = 0;\n${wrap("  total = x;\n  return x;")}`, /writing to state outside the function is not supported \(the gradient could not see it\)/, 4, 3],
  ["reading a module-level variable", `const scale = 2;\n${wrap("  return scale * x;")}`, /`scale` is a module-level variable: reading it is not supported yet, pass it as a parameter/, 4, 10],
  ["an undefined name", wrap("  return y * x;"), /`y` is not a parameter or local variable of `f`/, 3, 10],
  ["a closure", wrap("  const g = (v: number) => v;\n  return x;"), /a closure \(arrow function\) is not supported here/, 3, 13],
  ["return inside a loop of a Tensor function", `import type { Tensor } from "../runtime/tensor.ts";\n/** @differentiable */\nexport function f(t: Tensor, n: number): Tensor {\n  for (let i = 0; i < n; i++) {\n    if (i > 2) return t;\n  }\n  return t;\n}\n`, /`return` inside a loop is not supported yet in a function that returns a Tensor/, 5, 16],
  ["a loop left without returning, at the end", wrap("  while (x > 1) {\n    if (x > 5) return x;\n    x = x / 2;\n  }"), /the function can leave this loop without returning, and no `return <expression>` follows it/, 3, 3],
  ["assigning a constant", wrap("  const y = x;\n  y = 2;\n  return y;"), /cannot assign to `y` because it is a constant/, 4, 3],
  ["the % operator", wrap("  return x % 2;"), /the `%` operator is not supported yet/, 3, 12],
  ["a string", wrap("  const s = \"a\";\n  return x;"), /a string is not supported here/, 3, 13],
  ["code after return", wrap("  return x;\n  const y = 1;"), /unreachable code after `return`/, 4, 3],
  ["no return", wrap("  const y = x;"), /`f` must end with `return <expression>`/, 2, 17],
  ["@wrt naming a non-parameter", "/**\n * @differentiable\n * @wrt x q\n */\nexport function f(x: number): number {\n  return x;\n}\n", /@wrt names `q`, which is not a parameter of `f`/, 3, 4],
  ["@wrt naming a boolean", "/**\n * @differentiable\n * @wrt b\n */\nexport function f(x: number, b: boolean): number {\n  return b ? x : 0;\n}\n", /only `number`, `number\[\]`, `Float64Array` and `Tensor` parameters can be differentiated/, 3, 4],
  ["a boolean result", wrap("  return x > 0;"), /the result must be a number or a Tensor, not a boolean/, 3, 10],
  ["a number as a condition", wrap("  return x ? 1 : 0;"), /a condition must be a comparison or another boolean/, 3, 10],
  ["a wrong argument count", wrap("  return Math.exp(x, x);"), /Math.exp takes 1 argument, got 2/, 3, 10],
  ["an unsupported Math function", wrap("  return Math.clz32(x);"), /`Math.clz32` is not supported yet/, 3, 10],
  ["an import from elsewhere", `import { helper } from "./helpers.ts";\n${wrap("  return helper(x);")}`, /`helper` is imported from '.\/helpers.ts': calls to other functions are not supported yet/, 4, 10],
  ["a syntax error", "/** @differentiable */\nexport function f(x: number { return x; }\n", /syntax error: ',' expected/, 2, 29],
  ["no tagged function", "export function f(x: number) { return x; }\n", /no function is tagged `@differentiable`/, 1, 1],
];

describe("unsupported input", () => {
  it.each(CASES)("%s gives a located error and no output", async (_what, source, message, line, col) => {
    const result = await compile(source, "model.ts");
    expect(result.output).toBeNull();
    expect(result.diagnostics.length).toBeGreaterThan(0);
    const d = result.diagnostics[0]!;
    expect(d.message).toMatch(message);
    expect([d.line, d.col]).toEqual([line, col]);
    expect(d.file).toBe("model.ts");
  });

  it("formats an error as path:line:col with a code frame pointing at the construct", async () => {
    const source = wrap("  return x * Math.random();");
    const { diagnostics } = await compile(source, "src/model.ts");
    expect(formatDiagnostic(diagnostics[0]!, source)).toBe(
      [
        "src/model.ts:3:14: error: `Math.random()` is not supported here: randomness belongs in a parameter (draw the numbers outside and pass them in)",
        " 3 |   return x * Math.random();",
        "   |              ^^^^^^^^^^^^^",
      ].join("\n"),
    );
  });

  it("reports an error in one function and still names the right place when another is fine", async () => {
    const source = `${wrap("  return x * 2;")}\n/** @differentiable */\nexport function g(y: number): number {\n  for (;;) {}\n}\n`;
    const { output, diagnostics } = await compile(source, "m.ts");
    expect(output).toBeNull();
    expect(diagnostics.map((d) => [d.line, d.col])).toEqual([[8, 3]]);
  });

  it("turns a compiler bug into an internal-error diagnostic at the function, not a crash", async () => {
    const rule = RULES["Math.exp"] as { vjp?: unknown };
    const saved = rule.vjp;
    rule.vjp = () => [];
    try {
      const { output, diagnostics } = await compile(wrap("  return Math.exp(x);"), "m.ts");
      expect(output).toBeNull();
      expect(diagnostics[0]!.message).toMatch(/^internal error while compiling `f`: rule 'Math.exp' returned 0 gradients for 1 inputs/);
      expect([diagnostics[0]!.line, diagnostics[0]!.col]).toEqual([2, 17]);
    } finally {
      rule.vjp = saved;
    }
  });
});

describe("mangled input", () => {
  it("never makes compile() throw: random edits of the fixtures give output or located errors", async () => {
    const { readFileSync } = await import("node:fs");
    const fc = (await import("fast-check")).default;
    const { fixtureInputs } = await import("../helpers/fixtures.ts");
    const sources = fixtureInputs().map((f) => readFileSync(f, "utf8"));
    const snippets = ["(", ")", "{", "}", ";", "for", "if", "=", "+=", "x", "[0]", "?", ":", "\"", "/*", "@differentiable", "async ", "=>", "new ", "\n"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...sources),
        fc.array(fc.tuple(fc.nat(), fc.nat(40), fc.constantFrom(...snippets)), { minLength: 1, maxLength: 4 }),
        async (source, edits) => {
          let text = source;
          for (const [at, cut, insert] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + (cut % 5));
          }
          const result = await compile(text, "mangled.ts");
          if (result.output === null) {
            expect(result.diagnostics.length).toBeGreaterThan(0);
            for (const d of result.diagnostics) {
              expect(d.line).toBeGreaterThanOrEqual(1);
              expect(d.message, text).not.toMatch(/^internal error/);
            }
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  }, 60_000);
});
