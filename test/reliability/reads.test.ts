/**
 * Promise: reads never hang and never run away. An input, and a module it imports, is read
 * only if it is a regular file (a link to one is followed) of at most MAX_SOURCE_BYTES;
 * anything else — a FIFO, a device such as /dev/zero, a directory, a file too large — is a
 * located error saying what it is, all of them reported in one run.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_SOURCE_BYTES, readSource } from "../../compiler/io.ts";
import { removeDir, run, runProcess, tempDir, writeFile } from "./helpers/faults.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};

const importing = (specifier: string) =>
  `import { half } from "${specifier}";\n\n/** @differentiable */\nexport function f(x: number): number {\n  return half(x) * x;\n}\n`;

describe("reads", () => {
  it("as a process: FIFOs, /dev/zero, a directory and a file over the limit, as inputs and as imports, are each a located error in one run, and nothing hangs", () => {
    const dir = fresh();
    execFileSync("mkfifo", [join(dir, "fifo.ts"), join(dir, "pipe.ts")]);
    symlinkSync("/dev/zero", join(dir, "zero.ts"));
    symlinkSync("/dev/zero", join(dir, "zeros.ts"));
    mkdirSync(join(dir, "folder.ts"));
    writeFile(dir, "huge.ts", "");
    truncateSync(join(dir, "huge.ts"), MAX_SOURCE_BYTES + 1);
    const models = ["fifo", "zero", "huge"].map((m) => writeFile(dir, `uses-${m}.ts`, importing(`./${m === "fifo" ? "pipe" : m === "zero" ? "zeros" : m}.ts`)));
    const inputs = ["fifo.ts", "zero.ts", "folder.ts", "huge.ts"].map((n) => join(dir, n));
    const r = runProcess([...inputs, ...models]);
    expect(r.error, "the CLI did not finish: it hung").toBeUndefined();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "fifo.ts")}: error: cannot read the file: it is a FIFO (named pipe), not a regular file`);
    expect(r.stderr).toContain(`${join(dir, "zero.ts")}: error: cannot read the file: it is a character device, not a regular file`);
    // a directory given as an input stands for the modules under it (see the README's CLI section)
    expect(r.stderr).toContain(`${join(dir, "folder.ts")}: error: no module under this directory tags a function \`@differentiable\``);
    expect(r.stderr).toContain(`${join(dir, "huge.ts")}: error: cannot read the file: it is 8388609 bytes, more than the 8 MiB tsgrad reads`);
    expect(r.stderr).toMatch(new RegExp(`${join(dir, "uses-fifo.ts")}:1:\\d+: error: cannot read the module './pipe.ts' \\(.*pipe\\.ts\\): it is a FIFO \\(named pipe\\), not a regular file`));
    expect(r.stderr).toMatch(new RegExp(`${join(dir, "uses-zero.ts")}:1:\\d+: error: cannot read the module './zeros.ts' \\(.*zeros\\.ts\\): it is a character device, not a regular file`));
    expect(r.stderr).toMatch(new RegExp(`${join(dir, "uses-huge.ts")}:1:\\d+: error: cannot read the module './huge.ts' \\(.*huge\\.ts\\): it is 8388609 bytes, more than the 8 MiB tsgrad reads`));
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("a link to a regular file is read through, in inputs and imports", async () => {
    const dir = fresh();
    writeFile(dir, "real-helpers.ts", "export function half(v: number): number {\n  return v / 2;\n}\n");
    symlinkSync(join(dir, "real-helpers.ts"), join(dir, "helpers.ts"));
    writeFile(dir, "real.ts", importing("./helpers.ts"));
    symlinkSync(join(dir, "real.ts"), join(dir, "model.ts"));
    const r = await run(join(dir, "model.ts"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("readSource stops at the limit even where a file's size says nothing (/proc) and reads a file of exactly the limit", () => {
    const dir = fresh();
    const status = readSource("/proc/self/status");
    expect("text" in status && status.text).toMatch(/^Name:/);
    expect(readSource("/proc/self/status", 10)).toEqual({ error: "it is more than the 10 bytes tsgrad reads" });
    const exact = join(dir, "exact.ts");
    writeFileSync(exact, "x".repeat(4096));
    expect(readSource(exact, 4096)).toEqual({ text: "x".repeat(4096) });
    expect(readSource(exact, 4095)).toMatchObject({ error: expect.stringMatching(/more than/) });
    expect(readSource(join(dir, "absent.ts"))).toEqual({ error: "no such file or directory (ENOENT)", missing: true });
  });
});
