/**
 * Compiling files: the one place the CLI, `--watch` and the bundler plugin share. Each input
 * is read, compiled with the modules its calls import (read as the compiler asks for them),
 * and given back with its output or its errors and with every file the compile read, which
 * is how watch mode and the plugin know what a change affects. Nothing is written here:
 * `writeOutputs` (io.ts) does that.
 */
import { readdirSync, realpathSync } from "node:fs";
import { join, relative } from "node:path";
import { compile, formatDiagnostic, type CompileOptions } from "./index.ts";
import { outputPath, readSource } from "./io.ts";
import type { PrettierOptions } from "./emit/prettier.ts";
import { projectPrettierOptions } from "./prettier-config.ts";

export interface FileOptions {
  readonly fuse?: boolean;
  readonly combine?: boolean;
  /** As `--jvp`: every function also gets its forward-mode `f_jvp`. */
  readonly jvp?: boolean;
  /** As `--hvp`: every function also gets its Hessian-vector product `f_hvp`. */
  readonly hvp?: boolean;
  readonly dump?: CompileOptions["dump"];
  /** Format with the project's prettier configuration when it has one (on by default). */
  readonly projectPrettier?: boolean;
  /** Called as each stage of compiling `input` (whose text is `text`) begins: the CLI's progress line. */
  readonly progress?: (input: string, text: string) => void;
}

export interface FileResult {
  readonly input: string;
  /** Where the output goes: `<dir>/<name>.grad.ts`. */
  readonly target: string;
  /** The generated module, or null when the input has errors. */
  readonly text: string | null;
  /** Each error as printed: `path:line:col: error: ...` with its code frame. */
  readonly errors: readonly string[];
  /** Every file the compile read: the input, then the modules its calls import. */
  readonly reads: readonly string[];
  /** Wall time of this file's read and compile, in milliseconds. */
  readonly ms: number;
}

const SOURCE = /\.(m|c)?ts$/;
const GENERATED = /\.grad\.(m|c)?ts$/;

/** Whether `path` names a module tsgrad compiles: TypeScript, not a declaration file or its own output. */
export const isSourcePath = (path: string) => SOURCE.test(path) && !GENERATED.test(path) && !/\.d\.(m|c)?ts$/.test(path);

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

/** Compiles each input; one result per distinct input, in order. */
export async function compileFiles(paths: readonly string[], options: FileOptions = {}): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const input of distinct(paths)) results.push(await compileFile(input, options));
  return results;
}

async function compileFile(input: string, options: FileOptions): Promise<FileResult> {
  const started = performance.now();
  const target = outputPath(input);
  const done = (text: string | null, errors: string[], reads: string[]): FileResult => ({ input, target, text, errors, reads, ms: performance.now() - started });
  if (!isSourcePath(input)) {
    return done(null, [`${input}: error: expected a TypeScript source file (.ts) that is not itself generated (.grad.ts)`], []);
  }
  const read = readSource(input);
  if ("error" in read) return done(null, [`${input}: error: cannot read the file: ${read.error}`], read.missing ? [] : [input]);
  // the modules its calls import, read as the compiler asks for them (kept for code frames)
  const sources = new Map<string, string>([[input, read.text]]);
  const readFile = (path: string) => {
    const source = readSource(path);
    if ("text" in source) {
      sources.set(path, source.text);
      return source.text;
    }
    if (source.missing) return undefined;
    throw new Error(source.error);
  };
  let prettier: PrettierOptions | null = null;
  try {
    if (options.projectPrettier !== false) prettier = await projectPrettierOptions(target);
  } catch (e) {
    return done(null, [`${target}: error: cannot read the project's prettier configuration for it: ${e instanceof Error ? e.message : String(e)}`], [input]);
  }
  const progress = options.progress && (() => options.progress!(input, read.text));
  const result = await compile(read.text, input, { dump: options.dump, readFile, fuse: options.fuse, combine: options.combine, jvp: options.jvp, hvp: options.hvp, prettier, progress });
  const shown = result.diagnostics.slice(0, MAX_ERRORS).map((d) => formatDiagnostic(d, sources.get(d.file)));
  const more = result.diagnostics.length - shown.length;
  if (more > 0) shown.push(`${input}: error: ${more} more error${more === 1 ? "" : "s"} not shown; fix these and compile again`);
  return done(result.output, shown, [...sources.keys()]);
}

/** How many errors of one module are printed (all are found, in one pass); a last line tells how many more. */
export const MAX_ERRORS = 50;

/**
 * The modules under `dir` (recursively) that tag a function `@differentiable`: TypeScript
 * sources, not generated files or declarations, outside node_modules and hidden directories.
 * A file is chosen by a look at its text; compiling it says whether the tag is on a function.
 */
export function findModules(dir: string): string[] {
  const found: string[] = [];
  const visit = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith(".")) continue;
      const path = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules") visit(path);
      } else if (e.isFile() && isSourcePath(e.name) && mentionsDifferentiable(path)) {
        found.push(path);
      }
    }
  };
  visit(dir);
  return found;
}

/** A doc-comment line holding the tag: `/** @differentiable *\/`, or ` * @differentiable` inside a block. */
const TAG_LINE = /^[ \t]*(?:\/\*\*|\*)[^\n]*?@differentiable\b/m;

/** Whether a file's text has the tag in a doc comment (a module to compile); a string that mentions it does not count. */
export function mentionsDifferentiable(path: string): boolean {
  const read = readSource(path);
  return "text" in read && TAG_LINE.test(read.text);
}

/** A path as a person reads it in a message: relative to the working directory when inside it. */
export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}
