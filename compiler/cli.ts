/**
 * The command line: reads each input, compiles it, and writes `NAME.grad.ts` beside it.
 * All inputs are compiled before anything is written; on any error nothing is written.
 * `--watch` hands over to watch.ts. The package's bin (bin/tsgrad.js) calls `run`; in the
 * repository, `npx tsx compiler/cli.ts` runs this file directly.
 */
import { realpathSync, readFileSync, statSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { FileOptions } from "./files.ts";

/** `text` in lines of at most `width` characters, each indented by `indent` spaces. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => " ".repeat(indent) + l).join("\n");
}

const usage = (stages: readonly string[]) => `tsgrad: source-to-source reverse-mode automatic differentiation for TypeScript

Usage: tsgrad [options] <file.ts | dir> [more ...]
       tsgrad graph <file.ts> --at x=3,y=-4 [--fn NAME] [-o OUT.svg]   (see graph --help)
       (in tsgrad's own repository: npx tsx compiler/cli.ts ...)

For each function tagged /** @differentiable */ in <dir>/<name>.ts, writes
<dir>/<name>.grad.ts exporting <function>_grad(...params, dout = 1), which returns
{ value, grad: { param: gradient } }; a function also tagged @jvp gets
<function>_jvp(...params, tangents), forward mode, returning { value, tangent }; one tagged @hvp
gets <function>_hvp(...params, v), returning { value, grad, hvp } with hvp = H·v. A directory stands for every module under it that
tags a function @differentiable (node_modules and hidden directories are skipped).

Options:
  --stdout        print the generated code instead of writing files
  --check         write nothing; exit 1 if any <name>.grad.ts is missing or out of date
  --no-fuse       keep each loop's backward pass a separate loop run in reverse; by default a
                  loop whose backward pass only sums is fused into the forward loop, as
                  hand-written code would do (same gradient, up to the order of the sums)
  --no-combine    keep one statement per contribution to an array element; by default the
                  contributions one source line makes to one element are added in one
                  statement (dx[i] += a - b), one load and store instead of several
  --jvp           give every function its forward-mode <function>_jvp too, as @jvp does
  --hvp           give every function its Hessian-vector product <function>_hvp too, as @hvp does
  --watch         compile, then recompile each changed module and every module whose
                  gradient inlines it, until stopped (Ctrl-C); errors are printed and the
                  last good output stays
  --dump-ir       print the IR after each stage to stderr:
${wrap(stages.join(", "), 18, 92)}
  --progress      print "tsgrad: compiling <file> (<n> lines)…" to stderr when a compile has
                  run for 1.5 s (TSGRAD_PROGRESS_MS sets how long); by default only when
                  stderr is a terminal; --no-progress never
  -h, --help      show this help
  -v, --version   show the version

Exit status: 0 on success, 1 on errors in the input (reported as path:line:col: error: ...),
2 on bad usage.`;

interface Options {
  stdout: boolean;
  check: boolean;
  watch: boolean;
  dumpIr: boolean;
  fuse: boolean;
  combine: boolean;
  jvp: boolean;
  hvp: boolean;
  /** The progress line: "always", "never", or "tty" (when stderr is a terminal). */
  progress: "always" | "never" | "tty";
  files: string[];
}

function parseArgs(argv: readonly string[]): Options | string {
  const o: Options = { stdout: false, check: false, watch: false, dumpIr: false, fuse: true, combine: true, jvp: false, hvp: false, progress: "tty", files: [] };
  for (const a of argv) {
    if (a === "--stdout") o.stdout = true;
    else if (a === "--check") o.check = true;
    else if (a === "--watch" || a === "-w") o.watch = true;
    else if (a === "--dump-ir" || a === "--debug") o.dumpIr = true;
    else if (a === "--no-fuse") o.fuse = false;
    else if (a === "--jvp") o.jvp = true;
    else if (a === "--hvp") o.hvp = true;
    else if (a === "--no-combine") o.combine = false;
    else if (a === "--progress") o.progress = "always";
    else if (a === "--no-progress") o.progress = "never";
    else if (a.startsWith("-")) return `unknown option '${a}' (see --help)`;
    else o.files.push(a);
  }
  if (o.files.length === 0) return "no input files (see --help)";
  if (o.watch && (o.stdout || o.check)) return `--watch writes files: it does not go with ${o.stdout ? "--stdout" : "--check"}`;
  return o;
}

export { outputPath } from "./io.ts";

/** Where the CLI prints; process.stdout and process.stderr, or a capture in tests. */
export interface Output {
  write(text: string): unknown;
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

export async function main(argv: readonly string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  // `tsgrad graph ...` draws a function's computational graph (compiler/graph/cli.ts)
  if (argv[0] === "graph") return (await import("./graph/cli.ts")).graphMain(argv.slice(1), out, err);
  if (argv.includes("-h") || argv.includes("--help")) {
    const { STAGES } = await import("./index.ts");
    out.write(usage(STAGES) + "\n");
    return 0;
  }
  if (argv.includes("-v") || argv.includes("--version")) {
    out.write(`tsgrad ${version()}\n`);
    return 0;
  }
  const options = parseArgs(argv);
  if (typeof options === "string") {
    err.write(`tsgrad: error: ${options}\n`);
    return 2;
  }
  const dump = options.dumpIr
    ? (stage: string, fn: string, ir: string) => err.write(`=== ${stage}: ${fn} ===\n${ir}\n\n`)
    : undefined;
  const shown = options.progress === "always" || (options.progress === "tty" && err === process.stderr && process.stderr.isTTY === true);
  const progress = shown ? progressLine(err) : undefined;
  const fileOptions: FileOptions = { dump, fuse: options.fuse, combine: options.combine, jvp: options.jvp, hvp: options.hvp, progress };
  if (options.watch) {
    const { watch } = await import("./watch.ts");
    const watcher = await watch(options.files, fileOptions, out, err);
    const stop = () => void watcher.close();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await watcher.closed;
    return 0;
  }

  const { compileFiles, findModules } = await import("./files.ts");
  const inputs: string[] = [];
  let failed = false;
  for (const path of options.files) {
    if (!isDirectory(path)) {
      inputs.push(path);
      continue;
    }
    const found = findModules(path);
    if (found.length === 0) {
      err.write(`${path}: error: no module under this directory tags a function \`@differentiable\`\n`);
      failed = true;
    }
    inputs.push(...found);
  }
  const results = await compileFiles(inputs, fileOptions);
  for (const r of results) {
    for (const e of r.errors) err.write(e + "\n");
    if (r.text === null) failed = true;
  }
  if (failed) {
    err.write(`tsgrad: ${options.check ? "check failed" : "no files written"}: fix the errors above\n`);
    return 1;
  }
  const outputs = results.map((r) => ({ input: r.input, target: r.target, text: r.text! }));

  if (options.stdout) {
    for (const o of outputs) out.write(o.text);
    return 0;
  }
  const { formatIoError, readSource, writeOutputs } = await import("./io.ts");
  if (options.check) {
    const stale = outputs.filter((o) => {
      const current = readSource(o.target);
      return !("text" in current) || current.text !== o.text;
    });
    for (const o of stale) err.write(`${o.target}: error: out of date with ${o.input}; run tsgrad on it\n`);
    return stale.length > 0 ? 1 : 0;
  }
  const { written, errors } = writeOutputs(outputs);
  for (const e of errors) err.write(formatIoError(e) + "\n");
  for (const target of written) out.write(`wrote ${target}\n`);
  if (errors.length > 0) {
    err.write(`tsgrad: ${written.length === 0 ? "no files written" : "some files not written"}: fix the errors above\n`);
    return 1;
  }
  return 0;
}

/** How long a compile runs before the progress line, unless TSGRAD_PROGRESS_MS says otherwise. */
const PROGRESS_AFTER_MS = 1500;

/**
 * The progress line: `tsgrad: compiling model.ts (50,012 lines)…`, once per input whose
 * compile is still running after PROGRESS_AFTER_MS. It is checked as each stage begins
 * (FileOptions.progress), so it shows at the first stage after the threshold.
 */
function progressLine(err: Output): (input: string, text: string) => void {
  const setting = Number(process.env.TSGRAD_PROGRESS_MS);
  const after = process.env.TSGRAD_PROGRESS_MS && Number.isFinite(setting) && setting >= 0 ? setting : PROGRESS_AFTER_MS;
  let current: string | undefined;
  let started = 0;
  let printed = false;
  return (input, text) => {
    if (input !== current) {
      current = input;
      started = performance.now();
      printed = false;
    }
    if (printed || performance.now() - started < after) return;
    printed = true;
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    err.write(`tsgrad: compiling ${input} (${lines.toLocaleString("en-US")} lines)…\n`);
  };
}

function version(): string {
  return (JSON.parse(readFileSync(new URL(PACKAGE_JSON, import.meta.url), "utf8")) as { version: string }).version;
}

/** package.json as seen from this module: compiler/cli.ts in the repository, dist/cli.js when built. */
const PACKAGE_JSON = "../package.json";

/**
 * Runs the command line as a process: the exit code is main's; anything main throws is a
 * bug in tsgrad, reported in one line, never as a stack trace (TSGRAD_DEBUG=1 shows it).
 */
export function run(argv: readonly string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`tsgrad: internal error: ${e instanceof Error ? e.message : String(e)}. This is a bug in tsgrad; please report it.\n`);
      if (process.env.TSGRAD_DEBUG) console.error(e);
      process.exitCode = 70;
    },
  );
}

/** Whether this module is the script node was started with (`npx tsx compiler/cli.ts ...`), not imported. */
function isMainModule(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMainModule()) run(process.argv.slice(2));
