/**
 * `tsgrad graph` on the command line: it writes the picture where it is told, loads the
 * module only when the graph must call its functions (a custom gradient), and every
 * mistake a user can make is one located or explained error, exit code 1 or 2, no file.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli.ts";

async function run(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(["graph", ...argv], { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), "tsgrad-graph-"));

describe("tsgrad graph", () => {
  it("writes the staged example's picture to -o, with the seeds' numbers on it", async () => {
    const target = join(dir, "staged.svg");
    const r = await run("fixtures/staged.ts", "--at", "x=3,y=-4", "-o", target);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toBe(`wrote ${target}\n`);
    const svg = readFileSync(target, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("2.06 = 0.512 - 0.0358 + 1.58");
  });

  it("prints the picture with -o -, and draws a custom gradient by running the module's own backward", async () => {
    const r = await run("fixtures/custom.ts", "--fn", "spreadScore", "--at", "a=0.5,x=[1,-0.5,2]", "-o", "-");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain('class="gate"');
    expect(r.out).toContain("logSumExp");
  });

  it("writes NAME.FN.graph.svg beside the input by default", async () => {
    const input = join(dir, "model.ts");
    writeFileSync(input, "/** @differentiable */\nexport function f(x: number): number {\n  return x * x;\n}\n");
    const r = await run(input, "--at", "x=3");
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, "model.f.graph.svg"))).toBe(true);
  });

  it.each([
    [["fixtures/staged.ts"], 2, "give the point to draw the graph at with --at"],
    [["fixtures/max_gate.ts", "--at", "a=1,b=2"], 1, "has 2 differentiable functions (gates, maxGate): choose one with --fn NAME"],
    [["fixtures/max_gate.ts", "--fn", "nope", "--at", "a=1"], 1, "no differentiable function `nope` in this module (it has: gates, maxGate)"],
    [["fixtures/staged.ts", "--at", "x=3"], 1, "give a value for `y`"],
    [["fixtures/staged.ts", "--at", "x=3,y=oops"], 1, "cannot read `oops` as a value"],
    [["fixtures/staged.ts", "--at", "x=3,z=1,y=2"], 1, "has no parameter `z`"],
    [["fixtures/arrays.ts", "--fn", "softmax", "--at", "z=[1,2]"], 1, "give its upstream gradient (dout)"],
    [["fixtures/arrays.ts", "--fn", "softmax", "--at", "z=3", "--dout", "[1,0]"], 1, "is written as a flat array of numbers"],
    [["fixtures/staged.ts", "--at", "x=1,y=2", "--depth", "two"], 2, "--depth takes a whole number"],
    [["fixtures/staged.ts", "--at", "x=1,y=2", "--colour"], 2, "unknown option '--colour'"],
    [["missing.ts", "--at", "x=1"], 1, "cannot read the file: no such file or directory (ENOENT)"],
  ])("%j exits %i saying what to do: %s", async (argv, code, message) => {
    const target = join(dir, "never.svg");
    const r = await run(...argv, ...(argv.includes("-o") ? [] : ["-o", target]));
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(target)).toBe(false);
  });

  it("reports an error in the source at its line and column, and writes nothing", async () => {
    const input = join(dir, "bad.ts");
    writeFileSync(input, "/** @differentiable */\nexport function f(x: number): number {\n  return Math.random() * x;\n}\n");
    const r = await run(input, "--at", "x=1", "-o", join(dir, "bad.svg"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`${input.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:\\d+: error: `));
    expect(existsSync(join(dir, "bad.svg"))).toBe(false);
  });

  it("lists the graph command in --help, and graph --help lists its options", async () => {
    let out = "";
    await main(["--help"], { write: (s: string) => (out += s) }, { write: () => 0 });
    expect(out).toContain("tsgrad graph <file.ts> --at");
    const r = await run("--help");
    for (const option of ["--fn", "--at", "--dout", "--unroll", "--depth", "-o"]) expect(r.out).toContain(option);
  });
});
