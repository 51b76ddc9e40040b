/**
 * Incremental builds (what --watch and the bundler plugin run): which modules are found,
 * which a change recompiles, what a failure leaves on disk, and what `refresh` finds by
 * looking.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { IncrementalBuild, reportLine } from "../../compiler/incremental.ts";

let dir: string;
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};
const read = (path: string) => readFileSync(join(dir, path), "utf8");

const HELPER = "export function twice(v: number): number {\n  return 2 * v;\n}\n";
const model = (body: string) => `import { twice } from "./helpers.ts";\n\n/** @differentiable */\nexport function f(x: number): number {\n  return ${body};\n}\n`;
const PLAIN = "/** @differentiable */\nexport function g(y: number): number {\n  return y * y;\n}\n";

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsgrad-incremental-"));
  write("src/helpers.ts", HELPER);
  write("src/model.ts", model("twice(x) * x"));
  write("src/nested/deep/plain.ts", PLAIN);
  // not modules: the tag in a string, in node_modules, in a hidden directory, a generated file
  write("src/mention.ts", `export const doc = "/** @differentiable */ tags a function";\n`);
  write("src/node_modules/pkg/index.ts", PLAIN);
  write("src/.hidden/h.ts", PLAIN);
  return () => rmSync(dir, { recursive: true, force: true });
});

describe("an incremental build", () => {
  it("finds the modules under a directory that tag a function in a doc comment, and compiles each", async () => {
    const build = new IncrementalBuild([join(dir, "src")]);
    const reports = await build.buildAll();
    expect(build.modules).toEqual([join(dir, "src/model.ts"), join(dir, "src/nested/deep/plain.ts")]);
    expect(reports.map((r) => r.outcome)).toEqual(["wrote", "wrote"]);
    expect(read("src/model.grad.ts")).toContain("export function f_grad(");
    expect(reportLine(reports[0]!)).toMatch(/^wrote .*src\/model\.grad\.ts \(\d+ ms\)$/);
    // what a watcher watches: the directory and every file a compile read
    expect(build.watched).toEqual([join(dir, "src"), join(dir, "src/helpers.ts"), join(dir, "src/model.ts"), join(dir, "src/nested/deep/plain.ts")]);
  });

  it("recompiles, after a helper changes, exactly the modules whose gradient inlines it", async () => {
    const build = new IncrementalBuild([join(dir, "src")]);
    await build.buildAll();
    write("src/helpers.ts", HELPER.replace("2 * v", "3 * v"));
    const reports = await build.changed([join(dir, "src/helpers.ts")]);
    expect(reports.map((r) => [r.input.endsWith("src/model.ts"), r.outcome])).toEqual([[true, "wrote"]]);
    expect(read("src/model.grad.ts")).toContain("3 * x");
  });

  it("says a module is up to date when its output did not change, and leaves the file alone", async () => {
    const build = new IncrementalBuild([join(dir, "src")]);
    await build.buildAll();
    const [r] = await build.changed([join(dir, "src/model.ts")]);
    expect(r!.outcome).toBe("unchanged");
    expect(reportLine(r!)).toMatch(/src\/model\.grad\.ts is up to date \(\d+ ms\)$/);
  });

  it("keeps the last good output when a change breaks a module, and reports the error located in the file that has it", async () => {
    const build = new IncrementalBuild([join(dir, "src")]);
    await build.buildAll();
    const good = read("src/model.grad.ts");
    write("src/helpers.ts", HELPER.replace("2 * v", "v * Math.random()"));
    const [r] = await build.changed([join(dir, "src/helpers.ts")]);
    expect(r!.outcome).toBe("failed");
    expect(r!.errors.join("\n")).toMatch(/helpers\.ts:2:14: error: `Math\.random\(\)` is not supported here/);
    expect(reportLine(r!)).toMatch(/model\.ts: 1 error; .*model\.grad\.ts left as it was \(\d+ ms\)$/);
    expect(read("src/model.grad.ts")).toBe(good);
    // fixed again, it is written again
    write("src/helpers.ts", HELPER);
    expect((await build.changed([join(dir, "src/helpers.ts")]))[0]!.outcome).toBe("unchanged");
  });

  it("compiles a new module in a new directory, and forgets one that is removed", async () => {
    const build = new IncrementalBuild([join(dir, "src")]);
    await build.buildAll();
    write("src/new/one.ts", PLAIN.replace("g(", "h("));
    expect((await build.changed([join(dir, "src/new/one.ts")])).map((r) => r.outcome)).toEqual(["wrote"]);
    expect(read("src/new/one.grad.ts")).toContain("export function h_grad(");
    rmSync(join(dir, "src/new/one.ts"));
    expect(await build.changed([join(dir, "src/new/one.ts")])).toEqual([]);
    expect(build.modules).not.toContain(join(dir, "src/new/one.ts"));
  });

  it("refresh finds by looking what changed since the last build (esbuild says no more than that it builds again)", async () => {
    const build = new IncrementalBuild([join(dir, "src")]);
    await build.buildAll();
    expect(await build.refresh()).toEqual([]);
    write("src/helpers.ts", HELPER.replace("2 * v", "4 * v"));
    // a change within the same clock tick would keep the time: move it on
    utimesSync(join(dir, "src/helpers.ts"), new Date(), new Date(Date.now() + 5000));
    write("src/later.ts", PLAIN.replace("g(", "k("));
    const reports = await build.refresh();
    expect(reports.map((r) => r.input.replace(/.*src\//, "")).sort()).toEqual(["later.ts", "model.ts"]);
    expect(read("src/model.grad.ts")).toContain("4 * x");
  });

  it("compiles a file named by itself even without the tag, and reports that it has none", async () => {
    const build = new IncrementalBuild([join(dir, "src/mention.ts")]);
    const [r] = await build.buildAll();
    expect(r!.outcome).toBe("failed");
    expect(r!.errors[0]).toMatch(/no function is tagged `@differentiable`/);
  });
});
