/**
 * Promise: temporary files are safe. Each is created exclusively (O_EXCL, never through a
 * symbolic link someone planted) under an unpredictable name; a run that is killed leaves
 * every output as it was, and the temporary file it leaves is never read and is removed by
 * the next run (unless the process that made it is still running).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GOOD, removeDir, run, runProcess, tempDir, writeFile } from "./helpers/faults.ts";

const OTHER = GOOD.replace("x * y", "x + y");
const TEMP = /^\.a\.grad\.ts\.(\d+)-[0-9a-f]{16}\.tsgrad-tmp$/;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A directory with a.ts compiled once, then changed so that the next run rewrites a.grad.ts. */
async function compiledOnce() {
  const dir = tempDir();
  dirs.push(dir);
  const input = writeFile(dir, "a.ts", GOOD);
  expect((await run(input)).code).toBe(0);
  const before = readFileSync(join(dir, "a.grad.ts"), "utf8");
  writeFile(dir, "a.ts", OTHER);
  const victim = writeFile(dir, "victim.txt", "precious\n");
  return { dir, input, before, victim, target: join(dir, "a.grad.ts") };
}

const temps = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tsgrad-tmp"));

describe("temporary files", () => {
  it("a symbolic link planted at the temporary file's exact name is not followed: the file it points to is untouched", async () => {
    const { dir, input, victim, target } = await compiledOnce();
    const r = runProcess([input], { fault: `plant-symlink:${victim}` });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(readFileSync(target, "utf8")).toContain("const value = x + y;");
    // the planted link is still there, named for the dead process: the next run removes the link, not what it points to
    expect(temps(dir)).toHaveLength(1);
    expect((await run(input)).code).toBe(0);
    expect(temps(dir)).toEqual([]);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });

  it("a link planted at the name earlier versions used (.a.grad.ts.<pid>.tsgrad-tmp) is not followed", async () => {
    const { dir, input, victim, target } = await compiledOnce();
    symlinkSync(victim, join(dir, `.a.grad.ts.${process.pid}.tsgrad-tmp`));
    expect((await run(input)).code).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(readFileSync(target, "utf8")).toContain("const value = x + y;");
  });

  it("a run killed after writing its temporary files, before any rename, leaves the output as it was; the next run removes the stale file", async () => {
    const { dir, input, before, target } = await compiledOnce();
    const r = runProcess([input], { fault: "kill-before-rename" });
    expect(r.signal).toBe("SIGKILL");
    expect(readFileSync(target, "utf8")).toBe(before);
    const [stale] = temps(dir);
    expect(stale).toMatch(TEMP);
    expect(readFileSync(join(dir, stale!), "utf8")).toContain("const value = x + y;");
    const next = await run(input);
    expect(next.code).toBe(0);
    expect(temps(dir)).toEqual([]);
    expect(readFileSync(target, "utf8")).toContain("const value = x + y;");
  });

  it("a run killed halfway through writing its temporary file leaves the output whole; the half-written file is never read, and removed next time", async () => {
    const { dir, input, before, target } = await compiledOnce();
    const killed = runProcess([input], { fault: "kill-mid-write" });
    expect(killed.signal).toBe("SIGKILL");
    expect(readFileSync(target, "utf8")).toBe(before);
    const [half] = temps(dir);
    expect(half).toMatch(TEMP);
    expect(readFileSync(join(dir, half!), "utf8").length).toBeLessThan(before.length);
    expect((await run(input)).code).toBe(0);
    expect(temps(dir)).toEqual([]);
  });

  it("an output whose name is near the file system's 255 bytes gets a temporary name that fits", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const long = `${"é".repeat(60)}${"x".repeat(120)}`; // 240 bytes + ".grad.ts"
    const input = writeFile(dir, `${long}.ts`, GOOD);
    const r = await run(input);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([`${long}.grad.ts`, `${long}.ts`]);
  });

  it("the graph command writes its picture the same way: a link at the name it used to write through is not followed", async () => {
    const { dir, input, victim } = await compiledOnce();
    symlinkSync(victim, join(dir, `.a.f.graph.svg.${process.pid}.tsgrad-tmp`));
    const r = await run("graph", input, "--at", "x=3,y=-4");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(readFileSync(join(dir, "a.f.graph.svg"), "utf8")).toMatch(/^<svg/);
  });

  it("a temporary file of a process that is still running is left alone", async () => {
    const { dir, input } = await compiledOnce();
    const live = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      const name = `.a.grad.ts.${live.pid}-0123456789abcdef.tsgrad-tmp`;
      writeFileSync(join(dir, name), "in progress");
      expect((await run(input)).code).toBe(0);
      expect(temps(dir)).toEqual([name]);
    } finally {
      live.kill();
    }
  });
});
