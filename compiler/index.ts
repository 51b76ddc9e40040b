/**
 * The pipeline, as one ordered list per function (as the TypeScript compiler's list of
 * transformers), each stage a function of its own with its `--dump-ir` dump:
 *
 *   parse      source --> graph IR, every `@differentiable` function (parse/)
 *   activity   which values need derivatives (analyses/activity.ts)
 *   then, for each mode in MODES that applies to the function, its stages:
 *     reverse (f_grad)   checkpoint, adjoints, tape, primal, reverse, fuse, combine
 *     forward (f_jvp)    tangents, loops, tangent-primal, forward
 *     hvp (f_hvp)        hvp: the tangent of reverse's finished f_grad (derived from reverse)
 *   emit       code IR of every function --> one formatted TypeScript module (emit/)
 *
 * A mode is an entry of MODES: its name, the suffix of the function it writes, when it
 * applies (a tag, an option), how a function starts down it, and its stages. Most start
 * from the IR and its activity (`mode`); a derived mode (`derived`, as `hvp`) starts from
 * the function an earlier mode finished (`from`), is listed after it, and may leave a
 * function without one (`leftWithout`: `--hvp` skips what `@hvp` would report). To add one:
 * write its stage functions in compiler/transforms/<mode>.ts, each taking what the stage
 * before it gives (a mode may reuse tape.ts's planning and primal.ts's forward half, as
 * forward mode does, with a `Beside` of its own), list them here with
 * `stages<Start, CompileOptions>().then(name, fn, dump)...`, ending in a stage that gives a
 * CodeFunction, and add its entry to MODES. Stage names are unique across the list
 * (they name the dumps and the progress line: STAGES).
 *
 * `compile` is pure: text in, text and diagnostics out, no file system. The CLI does I/O.
 */
import { basename } from "node:path";
import { CompileError, internalError, type Diagnostic } from "./diagnostics.ts";
import { analyseActivity, checkCallsWithoutGradient, type Activity } from "./analyses/activity.ts";
import type { CodeFunction, CodeStmt } from "./ir/code.ts";
import { reservedNames, type FunctionIR } from "./ir/ir.ts";
import type { Sym } from "./ir/expr.ts";
import { printIR } from "./ir/print.ts";
import { parse, type ReadFile } from "./parse/parse.ts";
import { formatModule, printModule } from "./emit/emit.ts";
import type { PrettierOptions } from "./emit/prettier.ts";
import { stages, type StageHooks, type Stages } from "./stages.ts";
import { adjoints, assembleGradient, primalHalf, startGradient, tape, type Gradient } from "./transforms/reverse.ts";
import { describePlans } from "./transforms/tape.ts";
import { fusedLoops } from "./transforms/checkpoint.ts";
import { fuseLoops } from "./transforms/fuse.ts";
import { combineSums } from "./transforms/combine.ts";
import { carrySums } from "./transforms/carry.ts";
import { symbolsAfter } from "./emit/names.ts";
import { assembleTangent, startTangents, tangentLoops, tangentPrimal, tangentReads } from "./transforms/forward.ts";
import { hvpMode } from "./transforms/hvp.ts";

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
  readonly progress?: (stage: string) => void;
}

export interface CompileResult {
  /** The generated module, or null when there were errors. */
  readonly output: string | null;
  readonly diagnostics: readonly Diagnostic[];
  /** Names of the functions compiled. */
  readonly functions: readonly string[];
}

/** A mode's statements so far, printed as the body of its function (without the header and doc comment), for a dump. */
function printCode(fn: FunctionIR, name: string, dout: Sym, body: readonly CodeStmt[]): string {
  const shell: CodeFunction = { name, source: fn.name, params: [], dout: { sym: dout, init: null, type: "number" }, into: null, runtimeModule: fn.runtimeModule, body, imports: [], reserved: reservedNames(fn) };
  const text = printModule([shell], fn.name);
  return text.slice(text.indexOf("export function"));
}
const printFunction = (code: CodeFunction) => printModule([code], code.source);

/** Reverse mode, `f_grad` (transforms/reverse.ts). */
const REVERSE: Stages<Gradient, CodeFunction, CompileOptions> = stages<Gradient, CompileOptions>()
  // under @checkpoint, a loop that fusion runs in one sweep keeps no tape: it stays as it is
  .then("checkpoint", (g) => (g.checkpointing ? { ...g, fused: plainFused(g) } : g),
    (g) => (g.fused ? `left as they are: ${[...g.fused].map((l) => `the loop at line ${l.loc.line}`).join(", ") || "none"}` : "no @checkpoint"))
  .then("adjoints", adjoints, (g) => printCode(g.fn, g.name, g.dout, g.adjoints.backward))
  .then("tape", tape, (g) => describePlans(g.cx, g.tape))
  .then("primal", primalHalf, (g) => printCode(g.fn, g.name, g.dout, g.primal))
  .then("reverse", assembleGradient, printFunction)
  // the backward body of a loop that only accumulates runs inside the forward loop
  .optional("fuse", (o) => o.fuse !== false, (code) => ({ ...code, body: fuseLoops(code.body) }), printFunction)
  // sums into one element are joined, within an iteration (combine.ts) and across two (carry.ts)
  .optional("combine", (o) => o.combine !== false, (code) => {
    const symbols = symbolsAfter(code.body, [...code.params.map((p) => p.sym), code.dout.sym, ...(code.into ? [code.into.sym] : [])]);
    return { ...code, body: carrySums(combineSums(code.body), (hint) => symbols.fresh(hint)) };
  }, printFunction);

/** The loops fusion runs in one sweep in the function's plain gradient (no checkpoints). */
function plainFused(g: Gradient) {
  const plain = REVERSE.run({ ...startGradient(g.fn, g.activity, g.name), checkpointing: false }, { options: {}, until: "reverse" });
  return fusedLoops(plain.body);
}

/** Forward mode, `f_jvp` (transforms/forward.ts). */
const FORWARD = stages<ReturnType<typeof startTangents>, CompileOptions>()
  .then("tangents", tangentReads, (t) => `kept: ${[...t.needed].sort((a, b) => a - b).map((id) => t.cx.valueSym(id).hint).join(", ") || "nothing"}`)
  .then("loops", tangentLoops, (t) => describePlans(t.cx, { needed: t.needed, plans: t.plans }))
  .then("tangent-primal", tangentPrimal, (t) => printCode(t.fn, t.name, t.tangents, t.code))
  .then("forward", assembleTangent, printFunction);

/** Second order, `f_hvp` (transforms/hvp.ts): the tangent of the finished `f_grad`, after fuse and combine. */
const HVP = stages<{ readonly fn: FunctionIR; readonly grad: CodeFunction }, CompileOptions>()
  .then("hvp", ({ fn, grad }) => hvpMode(fn, grad), printFunction);

/** A way of differentiating a function: one generated function each. */
interface Mode {
  readonly name: string;
  /** What the generated function's name adds to the function's: `f_grad`. */
  readonly suffix: string;
  readonly applies: (fn: FunctionIR, options: CompileOptions) => boolean;
  /** The earlier mode whose finished function this one starts from (`hvp`: `reverse`), or null: it starts from the IR. */
  readonly from: string | null;
  readonly stages: readonly string[];
  /** The generated function, or null where the mode leaves the function without one; `done` has the earlier modes' functions, by mode. */
  readonly compile: (fn: FunctionIR, activity: Activity, hooks: StageHooks<CompileOptions>, done: ReadonlyMap<string, CodeFunction>) => CodeFunction | null;
}

type ModeBase = Pick<Mode, "name" | "suffix" | "applies">;

/** A mode that starts from the IR and its activity. */
function mode<Start>(m: ModeBase & {
  readonly start: (fn: FunctionIR, activity: Activity, name: string) => Start;
  readonly list: Stages<Start, CodeFunction, CompileOptions>;
}): Mode {
  return {
    name: m.name, suffix: m.suffix, applies: m.applies, from: null, stages: m.list.names,
    compile: (fn, activity, hooks) => m.list.run(m.start(fn, activity, `${fn.name}${m.suffix}`), hooks),
  };
}

/**
 * A mode that starts from the function an earlier mode wrote (`from`), listed after it.
 * Where `leftWithout` says so (the mode was asked for by an option, not by the function's
 * tag), a function it cannot differentiate (a located error) is left without one.
 */
function derived<Start>(m: ModeBase & {
  readonly from: string;
  readonly start: (fn: FunctionIR, code: CodeFunction) => Start;
  readonly list: Stages<Start, CodeFunction, CompileOptions>;
  readonly leftWithout: (fn: FunctionIR, options: CompileOptions) => boolean;
}): Mode {
  return {
    name: m.name, suffix: m.suffix, applies: m.applies, from: m.from, stages: m.list.names,
    compile: (fn, _activity, hooks, done) => {
      try {
        return m.list.run(m.start(fn, done.get(m.from)!), hooks);
      } catch (e) {
        if (e instanceof CompileError && m.leftWithout(fn, hooks.options)) return null;
        throw e;
      }
    },
  };
}

/** The modes, in the order their functions are written; a derived mode after the one it starts from. */
export const MODES: readonly Mode[] = [
  mode({ name: "reverse", suffix: "_grad", applies: () => true, start: startGradient, list: REVERSE }),
  mode({ name: "forward", suffix: "_jvp", applies: (fn, o) => fn.jvp || o.jvp === true, start: startTangents, list: FORWARD }),
  // `--hvp` asks for every function that can have one; `@hvp` for this one, and an error says why it cannot
  derived({ name: "hvp", suffix: "_hvp", from: "reverse", applies: (fn, o) => fn.hvp || o.hvp === true, start: (fn, grad) => ({ fn, grad }), list: HVP, leftWithout: (fn) => !fn.hvp }),
];

/** Every stage's name, in order (the dumps', the progress line's). */
export const STAGES: readonly string[] = ["parse", "activity", ...MODES.flatMap((m) => m.stages), "emit"];

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
      if (options.dump) dump("parse", fn.name, printIR(fn));
      progress("activity");
      const activity = analyseActivity(fn);
      checkCallsWithoutGradient(fn, activity);
      if (options.dump) dump("activity", fn.name, printIR(fn, { describe: (id) => (activity.isActive(id) ? "active" : "") }));
      const stageDump = options.dump && ((stage: string, text: string) => dump(stage, fn.name, text));
      const done = new Map<string, CodeFunction>();
      for (const m of MODES) {
        if (!m.applies(fn, options) || (m.from !== null && !done.has(m.from))) continue;
        const code = m.compile(fn, activity, { options, progress, ...(stageDump ? { dump: stageDump } : {}) }, done);
        if (code) done.set(m.name, code);
      }
      compiled.push(...done.values());
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
  if (options.dump) dump("emit", "*", output);
  return { output, diagnostics, functions: [...new Set(compiled.map((c) => c.source))] };
}

export { formatDiagnostic, type Diagnostic } from "./diagnostics.ts";
export { GENERATED_MARKER } from "./emit/emit.ts";
