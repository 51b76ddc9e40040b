/**
 * Bytes kept by the tape: what a gradient holds alive when its backward pass starts.
 *
 * A gradient's forward pass keeps what the backward pass reads (intermediate tensors, the
 * values a loop overwrites). `measureTape` runs one call after a full garbage collection and
 * records the live heap and array-buffer bytes at the moment `tapeProbe()` runs, minus those
 * before the call. Hand-written gradients call `tapeProbe()` where their backward pass starts;
 * a generated one gets the call inserted by `instrumented` before its first backward statement
 * (the first line whose comment names a source line and expression, `// line 12: ...`).
 * The copy is fresh, so it runs unoptimised and every forward local is still in scope: the
 * figure is everything the forward pass built and the backward pass could read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function liveBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let before = 0;
let kept: number | undefined;

/** Marks where a gradient's backward pass starts (a no-op outside `measureTape`). */
export function tapeProbe(): void {
  if (before > 0) kept = liveBytes() - before;
}
// The instrumented copies call it through a global: a module loaded from a temporary file
// may get its own instance of this one.
(globalThis as { __tsgradTapeProbe?: () => void }).__tsgradTapeProbe = tapeProbe;

/** Bytes alive at `tapeProbe()` during one call of `run`, beyond those alive before it; undefined if it never probed. */
export function measureTape(run: () => unknown): number | undefined {
  kept = undefined;
  before = liveBytes();
  try {
    run();
  } finally {
    before = 0;
  }
  return kept;
}

/**
 * Imports a copy of the module at `url` whose function `fn` calls `tapeProbe()` just before its
 * first line matching `marker` (by default a backward statement's `// line N: expr` comment).
 */
export async function instrumented<M>(url: URL, fn: string, marker = /\/\/ line \d+:/): Promise<M> {
  const source = readFileSync(url, "utf8");
  const start = source.indexOf(`function ${fn}(`);
  if (start === -1) throw new Error(`${url.pathname}: no function ${fn}`);
  const lines = source.slice(start).split("\n");
  const at = lines.findIndex((line) => marker.test(line));
  if (at === -1) throw new Error(`${url.pathname}: ${fn} has no line matching ${marker}`);
  lines.splice(at, 0, "(globalThis as { __tsgradTapeProbe?: () => void }).__tsgradTapeProbe?.();");
  // Relative imports resolved against the original, so the copy can live anywhere.
  const head = source.slice(0, start).replace(/from "(\.{1,2}\/[^"]+)"/g, (_, spec: string) => `from "${new URL(spec, url).href}"`);
  const text = `${head}${lines.join("\n")}`;
  const dir = mkdtempSync(join(tmpdir(), "tsgrad-bench-"));
  const file = join(dir, `${fn}.probe.ts`);
  writeFileSync(file, text);
  try {
    return (await import(pathToFileURL(file).href)) as M;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
