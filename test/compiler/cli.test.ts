/**
 * The command line: writes NAME.grad.ts beside each input, all or nothing; never clobbers
 * a file it did not generate; never shows a stack trace.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import { main } from "../../compiler/cli.ts";
import { GENERATED_MARKER, STAGES } from "../../compiler/index.ts";

const GOOD = "/** @differentiable */\nexport function f(x: number, y: number): number {\n  return x * y;\n}\n";
const BAD = "/** @differentiable */\nexport function f(x: number): number {\n  for (;;) { x = x / 2; }\n  return x;\n}\n";

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

async function run(...args: string[]) {
  const out = new Capture();
  const err = new Capture();
  const code = await main(args, out, err);
  return { code, stdout: out.text, stderr: err.text };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsgrad-cli-"));
});
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("tsgrad CLI", () => {
  it("writes NAME.grad.ts beside the input with the generated header, and no temporary file", async () => {
    const input = file("model.ts", GOOD);
    const r = await run(input);
    expect(r.code).toBe(0);
    const out = readFileSync(join(dir, "model.grad.ts"), "utf8");
    expect(out.startsWith(`${GENERATED_MARKER} from model.ts.`)).toBe(true);
    expect(out).toContain("export function f_grad(x: number, y: number, dout = 1)");
    expect(readdirSync(dir).sort()).toEqual(["model.grad.ts", "model.ts"]);
  });

  it("accepts several files", async () => {
    const a = file("a.ts", GOOD);
    const b = file("b.ts", GOOD.replace("x * y", "x + y"));
    expect((await run(a, b)).code).toBe(0);
    expect(existsSync(join(dir, "a.grad.ts")) && existsSync(join(dir, "b.grad.ts"))).toBe(true);
  });

  it("on an error prints path:line:col with a code frame, exits 1 and writes nothing, not even for the good files", async () => {
    const good = file("good.ts", GOOD);
    const bad = file("bad.ts", BAD);
    const r = await run(good, bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:3: error: this loop has no condition and no \`break\` or \`return\` inside: it would never end`);
    expect(r.stderr).toContain(" 3 |   for (;;) { x = x / 2; }");
    expect(readdirSync(dir).sort()).toEqual(["bad.ts", "good.ts"]);
  });

  it("prints every error of a module in one run and exits 1; past 50, a last line says how many more", async () => {
    const many = file("many.ts", "/** @differentiable */\nexport function f(x: number): number {\n  var a = x;\n  let s = x;\n  try { s = 1; } catch { s = 2; }\n  class C {}\n  s = s * null;\n  return s;\n}\n");
    const r = await run(many);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").filter((l) => l.includes(": error: "))).toEqual([
      `${many}:3:3: error: \`var\` is not supported: use \`let\` or \`const\``,
      `${many}:5:3: error: \`try\` is not supported here: a differentiable function cannot catch exceptions; check the inputs before calling it`,
      `${many}:6:3: error: a class is not supported here: declare an object type outside the function (\`type Point = { x: number; y: number }\`) and pass records of it`,
      `${many}:7:11: error: \`null\` is not supported here: use a number (\`NaN\`) or a flag parameter`,
    ]);
    expect(readdirSync(dir)).toEqual(["many.ts"]);
    const lots = file("lots.ts", `/** @differentiable */\nexport function f(x: number): number {\n${"  x = x * Math.random();\n".repeat(60)}  return x;\n}\n`);
    const capped = await run(lots);
    expect(capped.code).toBe(1);
    const lines = capped.stderr.split("\n").filter((l) => l.includes(": error: "));
    expect(lines).toHaveLength(51);
    expect(lines[49]).toMatch(/lots\.ts:52:11: error: `Math\.random\(\)`/);
    expect(lines[50]).toBe(`${lots}: error: 10 more errors not shown; fix these and compile again`);
  });

  it("reads the modules a relative import names, and shows an error inside one with that module's code frame", async () => {
    file("helpers.ts", "export function half(v: number): number {\n  return v / 2;\n}\n");
    const input = file("model.ts", `import { half } from "./helpers";\n\n/** @differentiable */\nexport function f(x: number): number {\n  return half(x) * x;\n}\n`);
    expect((await run(input)).code).toBe(0);
    expect(readFileSync(join(dir, "model.grad.ts"), "utf8")).toContain("const half = x / 2; // line 2 (half, helpers.ts)");
    writeFileSync(join(dir, "helpers.ts"), "export function half(v: number): number {\n  return v * Math.random();\n}\n");
    const r = await run(input);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "helpers.ts")}:2:14: error: \`Math.random()\` is not supported here`);
    expect(r.stderr).toContain(" 2 |   return v * Math.random();");
  });

  it("refuses to overwrite a file it did not generate", async () => {
    const input = file("model.ts", GOOD);
    const mine = file("model.grad.ts", "// my own hand-written gradient\n");
    const r = await run(input);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to overwrite .*model\.grad\.ts: it was not generated by tsgrad/);
    expect(readFileSync(mine, "utf8")).toBe("// my own hand-written gradient\n");
  });

  it("overwrites a file it generated earlier", async () => {
    const input = file("model.ts", GOOD);
    await run(input);
    writeFileSync(input, GOOD.replace("x * y", "x - y"));
    expect((await run(input)).code).toBe(0);
    expect(readFileSync(join(dir, "model.grad.ts"), "utf8")).toContain("const value = x - y;");
  });

  it("--check passes when the output is up to date and fails when it is stale, writing nothing", async () => {
    const input = file("model.ts", GOOD);
    expect((await run("--check", input)).code).toBe(1);
    expect(existsSync(join(dir, "model.grad.ts"))).toBe(false);
    await run(input);
    expect((await run("--check", input)).code).toBe(0);
    writeFileSync(input, GOOD.replace("x * y", "x - y"));
    const stale = await run("--check", input);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/out of date/);
  });

  it("--stdout prints the code instead of writing it", async () => {
    const input = file("model.ts", GOOD);
    const r = await run("--stdout", input);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("export function f_grad");
    expect(existsSync(join(dir, "model.grad.ts"))).toBe(false);
  });

  it("--dump-ir prints the IR after every stage", async () => {
    const r = await run("--dump-ir", "--stdout", file("model.ts", GOOD));
    for (const stage of ["parse", "activity", "reverse", "fuse", "combine", "emit"]) expect(r.stderr).toContain(`=== ${stage}: `);
    expect(r.stderr).toContain("function f(x: number wrt, y: number wrt)");
    expect(r.stderr).not.toContain("=== hvp: ");
  });

  it("--dump-ir --hvp --jvp also prints the forward-mode stages and the hvp stage, which starts from the finished f_grad", async () => {
    const r = await run("--dump-ir", "--hvp", "--jvp", "--stdout", file("model.ts", GOOD));
    expect(r.code).toBe(0);
    const order = [...r.stderr.matchAll(/^=== ([\w-]+): /gm)].map((m) => m[1]);
    // every stage, in STAGES' order: one function down all three modes
    expect(order).toEqual(STAGES);
    expect(r.stderr.slice(r.stderr.indexOf("=== hvp: "))).toMatch(/^=== hvp: f ===\n[^]*export function f_hvp\(/);
  });

  // each switch that turns an optimisation off doubles what it counts in a loop `s += term`: one loop or statement becomes two
  for (const { option, term, count, what } of [
    { option: "--no-fuse", term: "xs[i] * xs[i]", count: /\bfor \(/g, what: "keeps a sum's backward pass a second loop" },
    { option: "--no-combine", term: "Math.sin(xs[i]) * xs[i]", count: /dxs\[i\]!? \+=/g, what: "keeps one statement per contribution to an element" },
  ]) {
    it(`${option} ${what}`, async () => {
      const input = file(`${option.slice(2)}.ts`, `/** @differentiable */\nexport function f(xs: number[]): number {\n  let s = 0;\n  for (let i = 0; i < xs.length; i++) {\n    s += ${term};\n  }\n  return s;\n}\n`);
      expect((await run("--stdout", input)).stdout.match(count)?.length).toBe(1);
      const apart = await run(option, "--stdout", input);
      expect(apart.code).toBe(0);
      expect(apart.stdout.match(count)?.length).toBe(2);
      expect((await run("--help")).stdout).toContain(option);
    });
  }

  it("--help explains usage; bad usage exits 2; a missing file exits 1", async () => {
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: tsgrad \[options\] <file.ts \| dir>/);
    expect((await run("--frobnicate", "x.ts")).code).toBe(2);
    expect((await run()).code).toBe(2);
    const missing = await run(join(dir, "nope.ts"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.ts: error: cannot read the file: no such file or directory \(ENOENT\)/);
    const generated = await run(join(dir, "x.grad.ts"));
    expect(generated.code).toBe(1);
  });

  it("as a process, shows no JavaScript stack trace for nonsense input", () => {
    const junk = file("junk.ts", "\u0000\u0001 }{ @differentiable ))) function function <<<\n/** @differentiable */ export function f(");
    const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, ["compiler/cli.ts", junk], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/junk\.ts:\d+:\d+: error: syntax error/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("the progress line", () => {
  // the threshold is set, so what is printed does not depend on how fast this machine is
  const withThreshold = async (ms: string, ...args: string[]) => {
    const before = process.env.TSGRAD_PROGRESS_MS;
    process.env.TSGRAD_PROGRESS_MS = ms;
    try {
      return await run(...args);
    } finally {
      if (before === undefined) delete process.env.TSGRAD_PROGRESS_MS;
      else process.env.TSGRAD_PROGRESS_MS = before;
    }
  };

  it("--progress prints one line per input still compiling after TSGRAD_PROGRESS_MS, to stderr", async () => {
    const a = file("a.ts", GOOD);
    const b = file("b.ts", GOOD + "// one more line\n");
    const r = await withThreshold("0", "--progress", a, b);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`tsgrad: compiling ${a} (4 lines)…\ntsgrad: compiling ${b} (5 lines)…\n`);
    expect(r.stdout).toBe(`wrote ${join(dir, "a.grad.ts")}\nwrote ${join(dir, "b.grad.ts")}\n`);
  });

  it("is not printed for a compile that ends before the threshold, nor when stderr is not a terminal, nor with --no-progress", async () => {
    const a = file("a.ts", GOOD);
    expect((await withThreshold("3600000", "--progress", a)).stderr).toBe("");
    // here stderr is a capture, not a terminal
    expect((await withThreshold("0", a)).stderr).toBe("");
    expect((await withThreshold("0", "--progress", "--no-progress", a)).stderr).toBe("");
  });
});
