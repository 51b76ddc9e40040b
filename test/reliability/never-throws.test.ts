/**
 * Promise: compile() never throws; its contract is diagnostics only. Deep nesting compiles
 * up to tsgrad's limits (compiler/parse/depth.ts) and past them is a located error, at every
 * depth up to 2,000 (prettier overflowed its stack at ~400 before); odd paths (a newline in
 * the name) and odd text compile or are diagnostics.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, type CompileResult } from "../../compiler/index.ts";
import { MAX_BLOCKS, MAX_EXPRESSION } from "../../compiler/parse/depth.ts";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { load } from "../helpers/load.ts";
import { GOOD, removeDir, run, tempDir, writeFile } from "./helpers/faults.ts";

const fn = (body: string) => `/** @differentiable */\nexport function f(x: number): number {\n${body}\n}\n`;

/** Sources nested n deep, by shape; each compiles at every depth up to `supported`. */
const SHAPES: Record<string, { source: (n: number) => string; supported: number }> = {
  "nested parentheses": { source: (n) => fn(`  return ${"(".repeat(n)}x${" * 1.01)".repeat(n)};`), supported: 100 },
  "nested calls": { source: (n) => fn(`  return ${"Math.sin(".repeat(n)}x${")".repeat(n)};`), supported: 200 },
  "a long sum": { source: (n) => fn(`  return ${Array.from({ length: n }, (_, i) => `${i + 1} * x`).join(" + ")};`), supported: 200 },
  "nested ifs": {
    source: (n) => fn("  let y = x;\n" + "  if (x > 0) {\n".repeat(n) + "  y = y * x;\n" + "  }\n".repeat(n) + "  return y;"),
    supported: MAX_BLOCKS,
  },
  "else-if chains": {
    source: (n) => fn("  let y = x;\n  if (x > 10) { y = 2 * x; }\n" + Array.from({ length: n }, (_, i) => `  else if (x > ${-i}) { y = y * x + ${i}; }\n`).join("") + "  return y;"),
    supported: MAX_BLOCKS - 1,
  },
  "a chain of ** (right to left)": { source: (n) => fn(`  return x${" ** 1".repeat(n)};`), supported: 100 },
  "nested ternaries": { source: (n) => fn(`  return ${"x > 0 ? ".repeat(n)}x * x${" : x".repeat(n)};`), supported: MAX_BLOCKS },
  "nested blocks": { source: (n) => fn("  let y = x;\n" + "  {\n".repeat(n) + "  y = y * x;\n" + "  }\n".repeat(n) + "  return y;"), supported: MAX_BLOCKS },
};

const DEPTHS = [1, 10, 50, 99, 100, 101, 127, 128, 200, 256, 257, 300, 400, 800, 1000, 1500, 2000, 3000];
/** Past this depth every shape is over one of the limits. */
const HARD = Math.max(MAX_BLOCKS, MAX_EXPRESSION);

/** Either an output, or located diagnostics that are not internal errors. */
function expectCompiledOrLocated(r: CompileResult, source: string) {
  if (r.output !== null) return true;
  expect(r.diagnostics.length).toBeGreaterThan(0);
  const lines = source.split("\n").length;
  for (const d of r.diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines);
    expect(d.col).toBeGreaterThanOrEqual(1);
    expect(d.message).not.toMatch(/internal error|ran out of stack/);
  }
  return false;
}

describe("compile() never throws", () => {
  for (const [shape, { source, supported }] of Object.entries(SHAPES)) {
    it(`${shape}: every depth up to 3,000 compiles (at least up to ${supported}) or is a located limit, and past a limit stays past it`, async () => {
      let failedAt: number | null = null;
      let deepest: { n: number; text: string; output: string } | null = null;
      for (const n of DEPTHS) {
        const text = source(n);
        const r = await compile(text, "deep.ts");
        const compiled = expectCompiledOrLocated(r, text);
        const why = `${shape} at depth ${n}: ${r.diagnostics[0]?.message}`;
        if (n <= supported) expect(compiled, why).toBe(true);
        if (n > HARD || failedAt !== null) expect(compiled, why).toBe(false);
        if (!compiled) expect(r.diagnostics[0]!.message, why).toMatch(n > HARD ? /at most \d+/ : /at most \d+|not supported/);
        if (compiled) deepest = { n, text, output: r.output! };
        else failedAt ??= n;
      }
      // the gradient at the deepest level that compiles is right
      if (deepest) {
        const f = load(deepest.text.replace("/** @differentiable */\n", "")).f!;
        const grad = load(deepest.output).f_grad!;
        expect(gradcheck(f, grad, [0.7]).ok, `${shape} at depth ${deepest.n}`).toBe(true);
      }
    });
  }

  it("after running past the limits, a module compiles to the same bytes as before", async () => {
    const before = await compile(GOOD, "m.ts");
    for (const { source } of Object.values(SHAPES)) await compile(source(2000), "deep.ts");
    expect((await compile(GOOD, "m.ts")).output).toBe(before.output);
  });

  it("a path with a newline, a carriage return or a line separator compiles, with the name escaped in the header", async () => {
    for (const [path, shown] of [["dir/a\nb.ts", "a\\nb.ts"], ["a\rb.ts", "a\\rb.ts"], ["a\u2028b.ts", "a\\u2028b.ts"], ["a\u0000b.ts", "a\\u0000b.ts"]] as const) {
      const r = await compile(GOOD, path);
      expect(r.diagnostics).toEqual([]);
      expect(r.output!.split("\n")[0]).toBe(`// @generated by tsgrad from ${shown}. Do not edit: change ${shown} and run tsgrad again.`);
    }
  });

  it("an imported module with a newline in its name is named on one line in the comments", async () => {
    const source = `import { half } from "./we\\nird.ts";\n\n/** @differentiable */\nexport function f(x: number): number {\n  return half(x) * x;\n}\n`;
    const r = await compile(source, "m.ts", { readFile: (p) => (p === "we\nird.ts" ? "export function half(v: number): number {\n  return v / 2;\n}\n" : undefined) });
    expect(r.diagnostics).toEqual([]);
    expect(r.output).toContain("// line 2 (half, we\\nird.ts)");
  });

  it("the CLI writes and later replaces the output of a file whose name holds a newline", async () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir, "sub\ndir"));
      const input = writeFile(join(dir, "sub\ndir"), "a\nb.ts", GOOD);
      expect((await run(input)).code).toBe(0);
      expect((await run(input)).code).toBe(0);
      expect(readdirSync(join(dir, "sub\ndir")).sort()).toEqual(["a\nb.grad.ts", "a\nb.ts"]);
      expect(readFileSync(join(dir, "sub\ndir", "a\nb.grad.ts"), "utf8")).toMatch(/^\/\/ @generated by tsgrad from a\\nb\.ts\./);
    } finally {
      removeDir(dir);
    }
  });

  it("odd text and odd arguments are diagnostics, not exceptions", async () => {
    const odd: unknown[][] = [
      ["", "m.ts"], ["\u0000\u0001\u0002", "m.ts"], ["\uFEFF" + GOOD, "m.ts"], ["\uD800" + GOOD, "m.ts"], [`// ${"x".repeat(1 << 20)}\n${GOOD}`, "m.ts"],
      [GOOD, ""], [undefined, "m.ts"], [GOOD, 42], [GOOD.replace("x * y", "x * /[(((((]/.source.length"), "m.ts"],
      // operators without operands: TypeScript's parser recovers from each, one level deeper
      [GOOD.replace("x * y", `x ${"** ".repeat(3000)}y`), "m.ts"], [GOOD.replace("x * y", `x ${"? ".repeat(3000)}y`), "m.ts"],
    ];
    for (const [text, path] of odd) {
      const r = await (compile as (t: unknown, p: unknown) => Promise<CompileResult>)(text, path);
      expect(r.output !== null || r.diagnostics.length > 0).toBe(true);
      for (const d of r.diagnostics) expect(d.message).not.toMatch(/internal error|ran out of stack/);
    }
  });
});

