/**
 * The graph view, as one pure function: source text and a point in, an SVG of the
 * function's computational graph at that point out (or messages saying what to change).
 *
 *   source --parse--> graph IR --evaluate--> values and adjoints --scene--> nodes and wires --layout, svg--> picture
 *
 * No file system: the CLI (cli.ts) and the playground do their own I/O.
 */
import type { LocalDiagnostic } from "../diagnostics.ts";
import type { FunctionIR } from "../ir/ir.ts";
import { parse, type ReadFile } from "../parse/parse.ts";
import { evaluate, EvaluationError, type Evaluation } from "./evaluate.ts";
import type { Callable } from "./interpret.ts";
import { formatValue } from "./labels.ts";
import { parseDout, parsePoint, PointError } from "./point.ts";
import { buildScene, type Scene } from "./scene.ts";
import { renderSvg } from "./svg.ts";
import type { Grad } from "./values.ts";

export interface GraphOptions {
  /** The function to draw; may be left out when the module has one differentiable function. */
  readonly fn?: string;
  /** The point, as `x=3,y=-4` (arrays `xs=[1,2]`, tensors as nested arrays). */
  readonly at: string;
  /** The upstream gradient, as text (`1`, `[1,0]`); 1 for a number result when left out. */
  readonly dout?: string;
  /** Loops that run at most this many times are drawn iteration by iteration; 0 (the default): every loop is one box. */
  readonly unroll?: number;
  /** Calls, loops and branches nested deeper than this are drawn as one box each (default: no limit). */
  readonly depth?: number;
  readonly readFile?: ReadFile;
  /** Functions of the module that the graph must call (custom gradients, package functions). */
  readonly external?: (name: string) => Callable | undefined;
  /** Lay out and write the SVG (default); false stops at the scene. */
  readonly svg?: boolean;
}

export interface GraphResult {
  readonly svg: string | null;
  /** Errors in the source, located. */
  readonly diagnostics: readonly LocalDiagnostic[];
  /** Errors in the options (no such function, a bad point), as sentences. */
  readonly errors: readonly string[];
  readonly scene?: Scene;
  readonly evaluation?: Evaluation;
}

/** Picks the function to draw, or says why none can be. */
export function chooseFunction(functions: readonly FunctionIR[], name: string | undefined): FunctionIR | string {
  const names = functions.map((f) => f.name);
  if (name !== undefined) {
    return functions.find((f) => f.name === name) ?? `no differentiable function \`${name}\` in this module (it has: ${names.join(", ") || "none"})`;
  }
  if (functions.length === 1) return functions[0]!;
  if (functions.length === 0) return "no function is tagged `@differentiable`: put `/** @differentiable */` above a function declaration";
  return `this module has ${functions.length} differentiable functions (${names.join(", ")}): choose one with --fn NAME`;
}

export function drawGraph(text: string, path: string, options: GraphOptions): GraphResult {
  const parsed = parse(text, path, options.readFile);
  if (parsed.diagnostics.length > 0) return { svg: null, diagnostics: parsed.diagnostics, errors: [] };
  const fn = chooseFunction(parsed.functions, options.fn);
  if (typeof fn === "string") return { svg: null, diagnostics: [], errors: [fn] };
  try {
    const args = parsePoint(options.at, fn);
    const dout: Grad | undefined = options.dout === undefined ? undefined : parseDout(options.dout, fn);
    let evaluation: Evaluation;
    try {
      evaluation = evaluate(fn, args, { dout, external: options.external });
    } catch (e) {
      // running the function at this point failed (a runtime shape error, a user's function that throws)
      if (e instanceof EvaluationError) throw e;
      throw new EvaluationError(`\`${fn.name}\` cannot be run at this point: ${e instanceof Error ? e.message : String(e)}`);
    }
    const scene = buildScene(evaluation, { unroll: options.unroll ?? 0, depth: options.depth ?? Infinity });
    const point = fn.params.map((p, i) => `${p.name} = ${formatValue(args[i])}`).join(", ");
    const caption = `${fn.name}(${point}) = ${formatValue(evaluation.value)}` +
      (evaluation.dout === undefined ? "" : `, upstream gradient ${formatValue(evaluation.dout)}`);
    return { svg: options.svg === false ? null : renderSvg(scene, { caption }), diagnostics: [], errors: [], scene, evaluation };
  } catch (e) {
    if (e instanceof PointError || e instanceof EvaluationError) return { svg: null, diagnostics: [], errors: [e.message] };
    throw e;
  }
}
