/**
 * Promise: writes are all or nothing. Every output is written to a temporary file before
 * any is renamed into place; a failure before the renames leaves every output as it was
 * and no temporary file behind; an I/O failure is a located error and exit 1, never an
 * internal error (exit 70).
 */
import { chownSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GOOD, canRunAsNobody, isRoot, makeReadOnly, removeDir, run, runProcess, tempDir, writeFile } from "./helpers/faults.ts";

const OTHER = GOOD.replace("x * y", "x + y");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};

/** Two inputs in two directories, the first compiled once already (its old output is kept to compare). */
async function twoInputs() {
  const a = fresh();
  const b = fresh();
  const inputA = writeFile(a, "a.ts", GOOD);
  const inputB = writeFile(b, "b.ts", GOOD);
  expect((await run(inputA)).code).toBe(0);
  const before = readFileSync(join(a, "a.grad.ts"), "utf8");
  writeFile(a, "a.ts", OTHER); // a new run would change a.grad.ts
  return { a, b, inputA, inputB, before };
}

const noInternal = (stderr: string) => {
  expect(stderr).not.toMatch(/internal error/);
  expect(stderr).not.toMatch(/\n\s+at /);
};

describe("writes are all or nothing under I/O faults", () => {
  it("a read-only directory for the second output leaves the first output as it was, no temporary file, and says where, exit 1", async (ctx) => {
    const { a, b, inputA, inputB, before } = await twoInputs();
    const how = makeReadOnly(b);
    if (how === null) ctx.skip("cannot make a directory read-only here (root without CAP_LINUX_IMMUTABLE); the unprivileged-user case covers it");
    const r = await run(inputA, inputB);
    expect(r.code).toBe(1);
    const reason = how === "chmod" ? "permission denied \\(EACCES\\)" : "operation not permitted \\(EPERM\\)";
    expect(r.stderr).toMatch(new RegExp(`^${join(b, "b.grad.ts")}: error: cannot write ${join(b, "b.grad.ts")}: ${reason}$`, "m"));
    expect(r.stderr).toContain("tsgrad: no files written");
    noInternal(r.stderr);
    expect(readFileSync(join(a, "a.grad.ts"), "utf8")).toBe(before);
    expect(readdirSync(a).sort()).toEqual(["a.grad.ts", "a.ts"]);
    expect(readdirSync(b)).toEqual(["b.ts"]);
  });

  it.skipIf(!canRunAsNobody && isRoot)("run as a process by a user who may not write the directory: `permission denied`, exit 1, nothing written", async () => {
    const { a, b, inputA, inputB, before } = await twoInputs();
    // as root: run as nobody, who owns a's directory and for whom b's (root's, 755) is read-only; otherwise chmod does it
    if (isRoot) for (const p of [a, inputA, join(a, "a.grad.ts")]) chownSync(p, 65534, 65534);
    else makeReadOnly(b);
    const r = runProcess([inputA, inputB], { asNobody: isRoot });
    expect(r.stderr).toMatch(new RegExp(`^${join(b, "b.grad.ts")}: error: cannot write ${join(b, "b.grad.ts")}: permission denied \\(EACCES\\)$`, "m"));
    expect(r.status).toBe(1);
    noInternal(r.stderr);
    expect(readFileSync(join(a, "a.grad.ts"), "utf8")).toBe(before);
    expect(readdirSync(a).sort()).toEqual(["a.grad.ts", "a.ts"]);
    expect(readdirSync(b)).toEqual(["b.ts"]);
  });

  it("a directory where the second output should go is refused before anything is written", async () => {
    const { a, b, inputA, inputB, before } = await twoInputs();
    mkdirSync(join(b, "b.grad.ts"));
    const r = await run(inputA, inputB);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(b, "b.grad.ts")}: error: refusing to replace ${join(b, "b.grad.ts")}: it is a directory`);
    noInternal(r.stderr);
    expect(readFileSync(join(a, "a.grad.ts"), "utf8")).toBe(before);
    expect(readdirSync(a).sort()).toEqual(["a.grad.ts", "a.ts"]);
  });

  it("an output directory removed mid-run (after compiling, before writing) is a located error; the other output stays as it was", async () => {
    const { a, b, inputA, inputB, before } = await twoInputs();
    const r = runProcess([inputA, inputB], { fault: `remove-dir:${b}` });
    expect(r.stderr).toMatch(new RegExp(`^${join(b, "b.grad.ts")}: error: cannot write ${join(b, "b.grad.ts")}: no such file or directory \\(ENOENT\\)$`, "m"));
    expect(r.status).toBe(1);
    noInternal(r.stderr);
    expect(readFileSync(join(a, "a.grad.ts"), "utf8")).toBe(before);
    expect(readdirSync(a).sort()).toEqual(["a.grad.ts", "a.ts"]);
  });

  it("without faults, both outputs are written and nothing else is left", async () => {
    const { a, b, inputA, inputB, before } = await twoInputs();
    const r = await run(inputA, inputB);
    expect(r.code).toBe(0);
    expect(readFileSync(join(a, "a.grad.ts"), "utf8")).not.toBe(before);
    expect(readdirSync(a).sort()).toEqual(["a.grad.ts", "a.ts"]);
    expect(readdirSync(b).sort()).toEqual(["b.grad.ts", "b.ts"]);
  });
});
