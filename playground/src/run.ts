/**
 * The compiler, run in the page: the gradient module for the source (with its errors
 * located), the differentiable functions it has, and the graph of one at a point. Custom
 * gradients (`@gradient`) run the user's own functions: the module is transpiled and run
 * with its imports of tsgrad's runtime pointed at the runtime bundled here.
 */
import { ts } from "ts-morph";
import { compile } from "../../compiler/index.ts";
import { drawGraph, type GraphResult } from "../../compiler/graph/index.ts";
import type { Callable } from "../../compiler/graph/interpret.ts";
import type { FunctionIR } from "../../compiler/ir/ir.ts";
import { parse } from "../../compiler/parse/parse.ts";
import * as runtime from "../../runtime/index.ts";
import * as tensor from "../../runtime/tensor.ts";

export const PATH = "playground.ts";

export interface Located {
  readonly line: number;
  readonly col: number;
  readonly length: number;
  readonly message: string;
}

export interface Compiled {
  readonly output: string | null;
  readonly diagnostics: readonly Located[];
  readonly functions: readonly FunctionIR[];
}

export async function compileSource(source: string): Promise<Compiled> {
  const result = await compile(source, PATH);
  const functions = result.output === null ? [] : parse(source, PATH).functions;
  return { output: result.output, diagnostics: result.diagnostics.filter((d) => d.file === PATH), functions };
}

/** The user's module run in the page, for the functions a graph must call. */
function userModule(source: string): Record<string, unknown> {
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const exports: Record<string, unknown> = {};
  const require = (spec: string) => {
    if (/(^|\/)runtime\/tensor(\.[jt]s)?$|^tsgrad\/tensor$/.test(spec)) return tensor;
    if (/(^|\/)runtime(\/(index|scalar))?(\.[jt]s)?$|^tsgrad(\/runtime)?$/.test(spec)) return runtime;
    throw new Error(`the playground cannot load '${spec}': only tsgrad's runtime can be imported here`);
  };
  new Function("require", "exports", js)(require, exports);
  return exports;
}

export function graphOf(source: string, options: { fn: string; at: string; dout?: string; unroll: boolean }): GraphResult {
  let exports: Record<string, unknown> | undefined;
  let missed = false;
  const external = (name: string): Callable | undefined => {
    if (exports === undefined) missed = true;
    const f = exports?.[name];
    return typeof f === "function" ? (f as Callable) : undefined;
  };
  const draw = () => drawGraph(source, PATH, { fn: options.fn, at: options.at, dout: options.dout || undefined, unroll: options.unroll ? 8 : 0, external });
  const first = draw();
  if (first.svg !== null || !missed) return first;
  try {
    exports = userModule(source);
  } catch (e) {
    return { svg: null, diagnostics: [], errors: [`cannot run the module's own functions: ${e instanceof Error ? e.message : String(e)}`] };
  }
  return draw();
}
