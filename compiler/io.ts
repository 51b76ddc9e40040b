/**
 * The file system, for the CLI and watch mode: `compile` itself touches none.
 *
 * Reading: a source is read only if it is a regular file no larger than MAX_SOURCE_BYTES,
 * opened without blocking, so a FIFO, a device (`/dev/zero`) or a huge file is a clear
 * error instead of a hang or gigabytes of memory.
 *
 * Writing, all or nothing (`writeOutputs`): every output is first written in full to a new
 * temporary file beside its target, created exclusively (`O_EXCL`: never through a planted
 * symbolic link) under an unpredictable name; only when every one is ready are they renamed
 * into place. A failure before the renames removes the temporary files and leaves every
 * target as it was. Every failure is a located error (`path: error: cannot write path:
 * permission denied`), never an exception.
 */
import {
  closeSync, constants, fstatSync, fsyncSync, lstatSync, openSync, readdirSync, readSync, realpathSync, renameSync, unlinkSync, writeSync,
  accessSync, type Stats,
} from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import { generatedHeader, generatedSource } from "./emit/emit.ts";

/** The largest source tsgrad reads (a module or a module it imports): 8 MiB. */
export const MAX_SOURCE_BYTES = 8 * 1024 * 1024;

/** A file-system problem, printed `path: error: message`. */
export interface IoError {
  readonly path: string;
  readonly message: string;
}

export const formatIoError = (e: IoError) => `${e.path}: error: ${e.message}`;

/** The system's words for an error, and its code: `permission denied (EACCES)`. */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== "string") return e instanceof Error ? e.message : String(e);
  // Node's messages read "EACCES: permission denied, open 'x'": keep the middle
  const words = /^[A-Z0-9_]+: ([^,]+)/.exec(err.message)?.[1];
  return words ? `${words} (${err.code})` : err.code;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

const OPEN_NONBLOCK = constants.O_NONBLOCK ?? 0;
const OPEN_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export type ReadResult =
  | { readonly text: string }
  /** `missing`: there is no such file (a module import tries the next candidate). */
  | { readonly error: string; readonly missing?: boolean };

/**
 * Reads a source file as UTF-8: a regular file (a symbolic link to one is followed) of at
 * most `limit` bytes. Never blocks on a FIFO or device, never reads past the limit.
 */
export function readSource(path: string, limit = MAX_SOURCE_BYTES): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | OPEN_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: describeError(e), missing: code === "ENOENT" || code === "ENOTDIR" };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: `it is ${kindOf(st)}, not a regular file` };
    if (st.size > limit) return { error: `it is ${st.size} bytes, more than the ${megabytes(limit)} tsgrad reads` };
    // the size can be wrong (a file growing, /proc): read until the end, or one byte past the limit
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size - total + 1, 1 << 16), limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > limit) return { error: `it is more than the ${megabytes(limit)} tsgrad reads` };
    }
    return { text: Buffer.concat(chunks, total).toString("utf8") };
  } catch (e) {
    return { error: describeError(e) };
  } finally {
    closeSync(fd);
  }
}

const megabytes = (bytes: number) => (bytes % 1024 === 0 ? `${bytes / 1024 ** 2} MiB` : `${bytes} bytes`);

/** Where the gradient of `input` goes: `<dir>/<name>.grad.ts` beside it. */
export function outputPath(input: string): string {
  return join(dirname(input), `${basename(input).replace(/\.(m|c)?ts$/, "")}.grad.ts`);
}

/**
 * One file to write: the generated text of `input` for `target`. Without `input` (a picture,
 * not a generated module) there is no header to match: any regular, writable file is replaced.
 */
export interface Output {
  readonly input?: string;
  readonly target: string;
  readonly text: string;
}

export interface WriteResult {
  /** The targets replaced, in order; empty when anything failed before the renames. */
  readonly written: readonly string[];
  readonly errors: readonly IoError[];
}

/** A temporary file: `.<target name>.<pid>-<16 random hex digits>.tsgrad-tmp` beside the target. */
const TEMP = /^\.(.+)\.(\d+)(?:-[0-9a-f]+)?\.tsgrad-tmp$/;

/**
 * How a target's temporary files start: its name, or for a name so long that the temporary
 * name would pass the file system's 255 bytes, its first 100 bytes and a hash of the rest.
 */
function tempPrefix(target: string): string {
  const name = basename(target);
  if (Buffer.byteLength(name) <= 200) return name;
  let head = name.slice(0, 100);
  while (Buffer.byteLength(head) > 100) head = head.slice(0, -1);
  return `${head}~${createHash("sha256").update(name).digest("hex").slice(0, 16)}`;
}

function tempName(target: string): string {
  return join(dirname(target), `.${tempPrefix(target)}.${process.pid}-${randomBytes(8).toString("hex")}.tsgrad-tmp`);
}

/**
 * Writes every output, or none: prepares each (checks its target, writes a temporary file
 * beside it), and only when all are ready renames them into place. Watch mode calls it
 * with one output per changed file; the CLI with all of a run's outputs at once.
 *
 * A target is replaced only if it is absent or a regular, writable file whose first line is
 * exactly the header tsgrad writes for this input: a file someone wrote, one generated
 * from another source (`a.mts` for `a.ts`), a read-only file, a symbolic link or a
 * directory are refused. Two outputs for one target are refused. Temporary files that
 * killed runs left beside a target are removed (those of live processes are left alone).
 */
export function writeOutputs(outputs: readonly Output[]): WriteResult {
  const errors: IoError[] = [...collisions(outputs)];
  const prepared: { readonly target: string; readonly temp: string }[] = [];
  if (errors.length === 0) {
    for (const o of outputs) {
      removeStaleTemps(o.target);
      const problem = checkTarget(o);
      if (problem) {
        errors.push({ path: o.target, message: problem });
        continue;
      }
      const temp = writeTemp(o);
      if (typeof temp === "string") prepared.push({ target: o.target, temp });
      else errors.push(temp);
    }
  }
  if (errors.length > 0) {
    for (const p of prepared) removeQuietly(p.temp);
    return { written: [], errors };
  }
  const written: string[] = [];
  for (const [i, p] of prepared.entries()) {
    try {
      renameSync(p.temp, p.target);
      written.push(p.target);
    } catch (e) {
      // only a change to the directory since the checks gets here; say what was replaced
      const left = prepared.slice(i).map((rest) => removeQuietly(rest.temp)).join("");
      errors.push({ path: p.target, message: `cannot write ${p.target}: ${describeError(e)}${written.length > 0 ? ` (already replaced: ${written.join(", ")})` : ""}${left}` });
      break;
    }
  }
  return { written, errors };
}

/** Outputs of different inputs that would land on one file (`a.ts` and `a.mts` both make `a.grad.ts`). */
function collisions(outputs: readonly Output[]): IoError[] {
  const byTarget = new Map<string, Output>();
  const errors: IoError[] = [];
  for (const o of outputs) {
    const key = canonical(o.target);
    const first = byTarget.get(key);
    if (!first) {
      byTarget.set(key, o);
      continue;
    }
    const [a, b] = [first.input ?? first.target, o.input ?? o.target];
    errors.push({
      path: b,
      message: `${a} and ${b} would both be written to ${o.target}; rename one of them, or compile them in separate directories`,
    });
  }
  return errors;
}

/** The target's real place: its directory's real path (links and `..` resolved) and its name. */
function canonical(target: string): string {
  try {
    return join(realpathSync(dirname(target)), basename(target));
  } catch {
    return resolve(target);
  }
}

/** Why `o.target` must not be replaced, or null when it may be. */
function checkTarget(o: Output): string | null {
  let st: Stats;
  try {
    st = lstatSync(o.target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    return `cannot write ${o.target}: ${describeError(e)}`;
  }
  if (!st.isFile()) return `refusing to replace ${o.target}: it is ${kindOf(st)}; tsgrad replaces only a regular file it generated (move it away or delete it)`;
  const first = o.input === undefined ? null : firstLine(o.target);
  if (o.input !== undefined && first === null) return `cannot read ${o.target} to see whether tsgrad generated it`;
  const expected = o.input === undefined ? null : generatedHeader(basename(o.input));
  if (first !== null && o.input !== undefined && first !== expected) {
    const other = generatedSource(first);
    return other !== null
      ? `refusing to overwrite ${o.target}: it was generated from ${other}, not ${basename(o.input)}; delete it if ${other} is gone`
      : `refusing to overwrite ${o.target}: it was not generated by tsgrad (its first line is not '${expected}'); move it away or delete it`;
  }
  // chmod a-w says "keep this file"; root may write it anyway, so look at the mode itself
  let writable = (st.mode & 0o200) !== 0;
  try {
    accessSync(o.target, constants.W_OK);
  } catch {
    writable = false;
  }
  if (!writable) return `refusing to replace ${o.target}: it is read-only; make it writable (chmod u+w) or delete it to have tsgrad write it again`;
  return null;
}

/** The first line of a file (at most 4 KiB are read), or null if it cannot be read. */
function firstLine(path: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | OPEN_NONBLOCK | OPEN_NOFOLLOW);
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString("utf8").split(/\r?\n/)[0]!;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `o.text` to a new temporary file beside the target; its path, or the error. */
function writeTemp(o: Output): string | IoError {
  let mode = 0o666;
  try {
    mode = lstatSync(o.target).mode & 0o777;
  } catch {
    // a new file: the default mode, less the umask
  }
  for (let attempt = 0; ; attempt++) {
    const temp = tempName(o.target);
    let fd: number;
    try {
      // "wx": O_CREAT | O_EXCL, which fails on anything already there, a symbolic link included
      fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | OPEN_NOFOLLOW, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST" && attempt < 5) continue;
      return { path: o.target, message: `cannot write ${o.target}: ${describeError(e)}` };
    }
    try {
      const bytes = Buffer.from(o.text, "utf8");
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
      closeSync(fd);
      return temp;
    } catch (e) {
      try { closeSync(fd); } catch { /* already closed */ }
      removeQuietly(temp);
      return { path: o.target, message: `cannot write ${o.target}: ${describeError(e)}` };
    }
  }
}

/** Removes the temporary files of `target` that a process no longer running left behind. */
function removeStaleTemps(target: string): void {
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || m[1] !== tempPrefix(target) || isRunning(Number(m[2]))) continue;
    const path = join(dirname(target), name);
    try {
      // unlink removes a link itself, never what it points to
      if (lstatSync(path).isFile() || lstatSync(path).isSymbolicLink()) unlinkSync(path);
    } catch {
      // gone already, or not ours to remove: it is ignored either way
    }
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes a temporary file; says why not when it cannot (an append-only directory), or "" . */
function removeQuietly(path: string): string {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return ` (and cannot remove the temporary file ${path}: ${describeError(e)}; the next run removes it)`;
  }
  return "";
}
