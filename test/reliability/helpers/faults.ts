/**
 * Real faults for the reliability tests: a directory nothing may be written into, the CLI
 * run as a separate process (as another user, or killed at a chosen moment), and a
 * capture of the CLI run in this process.
 *
 * Tests may run as root, for whom `chmod a-w` stops nothing. Then a read-only directory is
 * made immutable instead (`chattr +i`, which stops root too), and the CLI can also be run
 * as the unprivileged user `nobody`, for whom a root-owned directory is not writable.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { main } from "../../../compiler/cli.ts";

export const GOOD = "/** @differentiable */\nexport function f(x: number, y: number): number {\n  return x * y;\n}\n";

export const isRoot = process.getuid?.() === 0;

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in this process. */
export async function run(...args: string[]) {
  const out = new Capture();
  const err = new Capture();
  const code = await main(args, out, err);
  return { code, stdout: out.text, stderr: err.text };
}

/** A fresh directory that everyone may read (the CLI may run as `nobody`). */
export function tempDir(prefix = "tsgrad-rel-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o644 });
  return path;
}

function canCreateIn(dir: string): boolean {
  const probe = join(dir, `.probe-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes `dir` a directory no file can be created in, for this process too; says how:
 * `chmod` (an ordinary user), `immutable` (root: `chattr +i`), or null when neither holds
 * (root without the capability to set the attribute: the test is then skipped, and the
 * unprivileged-user and other faults still run).
 */
export function makeReadOnly(dir: string): "chmod" | "immutable" | null {
  chmodSync(dir, 0o555);
  if (!canCreateIn(dir)) return "chmod";
  try {
    execFileSync("chattr", ["+i", dir], { stdio: "ignore" });
  } catch {
    return null;
  }
  return canCreateIn(dir) ? null : "immutable";
}

/** Undoes makeReadOnly, so the directory can be removed. */
export function undoReadOnly(dir: string): void {
  try {
    execFileSync("chattr", ["-i", dir], { stdio: "ignore" });
  } catch {
    // never made immutable
  }
  try {
    chmodSync(dir, 0o755);
  } catch {
    // removed already
  }
}

export function removeDir(dir: string): void {
  undoReadOnly(dir);
  rmSync(dir, { recursive: true, force: true });
}

const TSX_LOADER = join(process.cwd(), "node_modules", "tsx", "dist", "loader.mjs");
const CLI = join(process.cwd(), "compiler", "cli.ts");
/** Preloaded into the CLI process to interrupt it at a chosen file operation (see interrupt.cjs). */
export const INTERRUPT = join(process.cwd(), "test", "reliability", "helpers", "interrupt.cjs");

export interface ProcessOptions {
  /** Run as the unprivileged user `nobody` (only when this process is root). */
  readonly asNobody?: boolean;
  /** What interrupt.cjs does, and when (TSGRAD_TEST_FAULT). */
  readonly fault?: string;
}

/** Whether the CLI can be run as `nobody` here. */
export const canRunAsNobody = isRoot && spawnSync("setpriv", ["--version"]).status === 0;

/** Runs the CLI as a separate Node process. */
export function runProcess(args: readonly string[], options: ProcessOptions = {}): SpawnSyncReturns<string> {
  const node = [...(options.fault ? ["--require", INTERRUPT] : []), "--import", TSX_LOADER, CLI, ...args];
  const env = { ...process.env, ...(options.fault ? { TSGRAD_TEST_FAULT: options.fault } : {}) };
  const [command, argv] = options.asNobody
    ? ["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...node]]
    : [process.execPath, node];
  return spawnSync(command, argv, { encoding: "utf8", env: { ...env, HOME: tmpdir() }, timeout: 45_000 });
}
