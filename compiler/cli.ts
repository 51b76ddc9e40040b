#!/usr/bin/env -S npx tsx
/**
 * The command line: reads each input, compiles it, and writes `NAME.grad.ts` beside it.
 * All inputs are compiled before anything is written; on any error nothing is written.
 */
import { readFileSync, realpathSync } from "node:fs";
import { compile, formatDiagnostic, STAGES } from "./index.ts";
import { formatIoError, outputPath, readSource, writeOutputs, type Output as OutputFile } from "./io.ts";

const USAGE = `tsgrad: source-to-source reverse-mode automatic differentiation for TypeScript

Usage: npx tsx compiler/cli.ts [options] <file.ts> [more.ts ...]
       npx tsx compiler/cli.ts graph <file.ts> --at x=3,y=-4 [--fn NAME] [-o OUT.svg]   (see graph --help)

For each function tagged /** @differentiable */ in <dir>/<name>.ts, writes
<dir>/<name>.grad.ts exporting <function>_grad(...params, dout = 1), which returns
{ value, grad: { param: gradient } }.

Options:
  --stdout        print the generated code instead of writing files
  --check         write nothing; exit 1 if any <name>.grad.ts is missing or out of date
  --no-fuse       keep each loop's backward pass a separate loop run in reverse; by default a
                  loop whose backward pass only sums is fused into the forward loop, as
                  hand-written code would do (same gradient, up to the order of the sums)
  --no-combine    keep one statement per contribution to an array element; by default the
                  contributions one source line makes to one element are added in one
                  statement (dx[i] += a - b), one load and store instead of several
  --dump-ir       print the IR after each stage (${STAGES.join(", ")}) to stderr
  -h, --help      show this help
  -v, --version   show the version

Exit status: 0 on success, 1 on errors in the input (reported as path:line:col: error: ...),
2 on bad usage.`;

interface Options {
  stdout: boolean;
  check: boolean;
  dumpIr: boolean;
  fuse: boolean;
  combine: boolean;
  files: string[];
}

function parseArgs(argv: readonly string[]): Options | string {
  const o: Options = { stdout: false, check: false, dumpIr: false, fuse: true, combine: true, files: [] };
  for (const a of argv) {
    if (a === "--stdout") o.stdout = true;
    else if (a === "--check") o.check = true;
    else if (a === "--dump-ir" || a === "--debug") o.dumpIr = true;
    else if (a === "--no-fuse") o.fuse = false;
    else if (a === "--no-combine") o.combine = false;
    else if (a.startsWith("-")) return `unknown option '${a}' (see --help)`;
    else o.files.push(a);
  }
  if (o.files.length === 0) return "no input files (see --help)";
  return o;
}

export { outputPath } from "./io.ts";

/** The inputs, each file once (`a.ts ./a.ts` name one file). */
function distinct(files: readonly string[]): string[] {
  const seen = new Set<string>();
  return files.filter((f) => {
    let key = f;
    try {
      key = realpathSync(f);
    } catch {
      // unreadable: reported when it is read
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Where the CLI prints; process.stdout and process.stderr, or a capture in tests. */
export interface Output {
  write(text: string): unknown;
}

export async function main(argv: readonly string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  // `tsgrad graph ...` draws a function's computational graph (compiler/graph/cli.ts)
  if (argv[0] === "graph") return (await import("./graph/cli.ts")).graphMain(argv.slice(1), out, err);
  if (argv.includes("-h") || argv.includes("--help")) {
    out.write(USAGE + "\n");
    return 0;
  }
  if (argv.includes("-v") || argv.includes("--version")) {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    out.write(`tsgrad ${pkg.version}\n`);
    return 0;
  }
  const options = parseArgs(argv);
  if (typeof options === "string") {
    err.write(`tsgrad: error: ${options}\n`);
    return 2;
  }

  const results: OutputFile[] = [];
  let failed = false;
  for (const input of distinct(options.files)) {
    const fail = (message: string) => {
      err.write(`${input}: error: ${message}\n`);
      failed = true;
    };
    if (!/\.(m|c)?ts$/.test(input) || /\.grad\.ts$/.test(input)) {
      fail("expected a TypeScript source file (.ts) that is not itself generated (.grad.ts)");
      continue;
    }
    const read = readSource(input);
    if ("error" in read) {
      fail(`cannot read the file: ${read.error}`);
      continue;
    }
    const text = read.text;
    const dump = options.dumpIr
      ? (stage: string, fn: string, ir: string) => err.write(`=== ${stage}: ${fn} ===\n${ir}\n\n`)
      : undefined;
    // the modules its calls import, read as the compiler asks for them (kept for code frames)
    const sources = new Map<string, string>([[input, text]]);
    const readFile = (path: string) => {
      const source = readSource(path);
      if ("text" in source) {
        sources.set(path, source.text);
        return source.text;
      }
      if (source.missing) return undefined;
      throw new Error(source.error);
    };
    const result = await compile(text, input, { dump, readFile, fuse: options.fuse, combine: options.combine });
    for (const d of result.diagnostics) err.write(formatDiagnostic(d, sources.get(d.file)) + "\n");
    if (result.output === null) {
      failed = true;
      continue;
    }
    results.push({ input, target: outputPath(input), text: result.output });
  }
  if (failed) {
    err.write(`tsgrad: ${options.check ? "check failed" : "no files written"}: fix the errors above\n`);
    return 1;
  }

  if (options.stdout) {
    for (const r of results) out.write(r.text);
    return 0;
  }
  if (options.check) {
    const stale = results.filter((r) => {
      const current = readSource(r.target);
      return !("text" in current) || current.text !== r.text;
    });
    for (const r of stale) err.write(`${r.target}: error: out of date with ${r.input}; run tsgrad on it\n`);
    return stale.length > 0 ? 1 : 0;
  }
  const { written, errors } = writeOutputs(results);
  for (const e of errors) err.write(formatIoError(e) + "\n");
  for (const target of written) out.write(`wrote ${target}\n`);
  if (errors.length > 0) {
    err.write(`tsgrad: ${written.length === 0 ? "no files written" : "some files not written"}: fix the errors above\n`);
    return 1;
  }
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && /cli\.(ts|js|mjs)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      // Never a stack trace for the user; set TSGRAD_DEBUG=1 to see one.
      process.stderr.write(`tsgrad: internal error: ${e instanceof Error ? e.message : String(e)}. This is a bug in tsgrad; please report it.\n`);
      if (process.env.TSGRAD_DEBUG) console.error(e);
      process.exit(70);
    },
  );
}
