/**
 * The pipeline, top to bottom:
 *
 *   source --parse--> graph IR --activity--> annotated IR --reverse--> code IR --fuse--> code IR --emit--> TypeScript
 *                                                          \--forward (`@jvp`)--> code IR ------------------/
 *
 * `compile` is pure: text in, text and diagnostics out, no file system. The CLI does I/O.
 */
import { basename } from "node:path";
import { CompileError, internalError, type Diagnostic } from "./diagnostics.ts";
import { analyseActivity, checkCallsWithoutGradient } from "./analyses/activity.ts";
import type { CodeFunction } from "./ir/code.ts";
import { printIR } from "./ir/print.ts";
import { parse, type ReadFile } from "./parse/parse.ts";
import { formatModule, printModule } from "./emit/emit.ts";
import type { PrettierOptions } from "./emit/prettier.ts";
import { reverseMode } from "./transforms/reverse.ts";
import { fuseLoops } from "./transforms/fuse.ts";
import { combineSums } from "./transforms/combine.ts";
import { carrySums, symbolsAfter } from "./transforms/carry.ts";
import { forwardMode } from "./transforms/forward.ts";
import { hvpFor } from "./transforms/hvp.ts";

export interface CompileOptions {
  /** Receives a dump of each stage's output (the `--dump-ir` switch). */
  readonly dump?: (stage: string, functionName: string, text: string) => void;
  /**
   * Reads a module that a relative import names, for calls of functions defined there:
   * given the importing module's path joined with the specifier (relative when `path` is),
   * returns its text, or undefined when there is no such file. Without it, such calls are
   * errors at the import. The CLI reads the file system.
   */
  readonly readFile?: ReadFile;
  /**
   * Runs the backward body of a loop that only accumulates inside the forward loop, as
   * hand-written code does (see transforms/fuse.ts). On by default; `--no-fuse` turns it off
   * and keeps every loop's backward pass a second loop, in reverse.
   */
  readonly fuse?: boolean;
  /**
   * Adds the contributions one source line makes to one array element in one statement
   * (`dx[i] += a - b`), one load and store instead of several (see transforms/combine.ts).
   * On by default; `--no-combine` turns it off.
   */
  readonly combine?: boolean;
  /**
   * Prettier options to format the output with (the project's, as prettier.resolveConfig
   * gives them); by default tsgrad's own style.
   */
  readonly prettier?: PrettierOptions | null;
  /** Also emits the forward-mode `f_jvp` of every function, as `@jvp` does for one (the `--jvp` switch). */
  readonly jvp?: boolean;
  /** Also emits the Hessian-vector product `f_hvp` of every function, as `@hvp` does for one (the `--hvp` switch). */
  readonly hvp?: boolean;
  /**
   * Called as each stage begins (each function's, then the emit's), so a caller can tell
   * that a long compile is still running: the CLI's progress line.
   */
  readonly progress?: (stage: (typeof STAGES)[number]) => void;
}

export interface CompileResult {
  /** The generated module, or null when there were errors. */
  readonly output: string | null;
  readonly diagnostics: readonly Diagnostic[];
  /** Names of the functions compiled. */
  readonly functions: readonly string[];
}

export const STAGES = ["parse", "activity", "reverse", "fuse", "combine", "forward", "emit"] as const;

/** Never throws: whatever the input, the result is an output or diagnostics. */
export async function compile(text: string, path: string, options: CompileOptions = {}): Promise<CompileResult> {
  const failed = (d: Omit<Diagnostic, "file">): CompileResult => ({ output: null, diagnostics: [{ ...d, file: String(path) }], functions: [] });
  if (typeof text !== "string" || typeof path !== "string") {
    return failed({ line: 1, col: 1, length: 1, message: "compile(text, path) takes the module's text and its path as strings" });
  }
  try {
    // parse checks the nesting limits first (parse/depth.ts)
    return await compileModule(text, path, options);
  } catch (e) {
    return failed(internalError({ line: 1, col: 1 }, basename(path) || "the module", e));
  }
}

async function compileModule(text: string, path: string, options: CompileOptions): Promise<CompileResult> {
  const located = (d: Omit<Diagnostic, "file"> & { file?: string }): Diagnostic => ({ ...d, file: d.file ?? path });
  const progress = options.progress ?? (() => {});
  progress("parse");
  const parsed = parse(text, path, options.readFile);
  const diagnostics = parsed.diagnostics.map(located);
  const dump = options.dump ?? (() => {});

  const compiled: CodeFunction[] = [];
  for (const fn of parsed.functions) {
    try {
      dump("parse", fn.name, printIR(fn));
      progress("activity");
      const activity = analyseActivity(fn);
      checkCallsWithoutGradient(fn, activity);
      dump("activity", fn.name, printIR(fn, { describe: (id) => (activity.isActive(id) ? "active" : "") }));
      progress("reverse");
      const reversed = reverseMode(fn, activity);
      dump("reverse", fn.name, printModule([reversed], basename(path)));
      const fused = options.fuse === false ? reversed : { ...reversed, body: fuseLoops(reversed.body) };
      if (options.fuse !== false) dump("fuse", fn.name, printModule([fused], basename(path)));
      // sums into one element are joined, within an iteration (combine.ts) and across two (carry.ts)
      const fresh = symbolsAfter(fused.body, [...fused.params.map((p) => p.sym), fused.dout.sym, ...(fused.into ? [fused.into.sym] : [])]);
      const code = options.combine === false ? fused : { ...fused, body: carrySums(combineSums(fused.body), fresh) };
      if (options.combine !== false) dump("combine", fn.name, printModule([code], basename(path)));
      compiled.push(code);
      if (fn.jvp || options.jvp) {
        const tangent = forwardMode(fn, activity);
        dump("forward", fn.name, printModule([tangent], basename(path)));
        compiled.push(tangent);
      }
      const hvp = hvpFor(fn, code, options.hvp ?? false);
      if (hvp) compiled.push(hvp);
    } catch (e) {
      if (e instanceof CompileError) diagnostics.push(located(e.diagnostic));
      else diagnostics.push(located(internalError(fn.loc, fn.name, e)));
    }
  }
  if (diagnostics.length === 0 && parsed.functions.length === 0) {
    diagnostics.push({ file: path, line: 1, col: 1, length: 1, message: "no function is tagged `@differentiable`: put `/** @differentiable */` above a function declaration" });
  }
  // an error inside a function that several functions call is reported once
  const unique = diagnostics.filter((d, i) => diagnostics.findIndex((e) => e.file === d.file && e.line === d.line && e.col === d.col && e.message === d.message) === i);
  if (unique.length > 0) return { output: null, diagnostics: unique, functions: [] };

  progress("emit");
  const output = await formatModule(printModule(compiled, basename(path)), options.prettier);
  dump("emit", "*", output);
  return { output, diagnostics, functions: [...new Set(compiled.map((c) => c.source))] };
}

export { formatDiagnostic, type Diagnostic } from "./diagnostics.ts";
export { GENERATED_MARKER } from "./emit/emit.ts";
