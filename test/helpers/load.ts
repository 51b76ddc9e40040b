/**
 * Loads TypeScript source (a user model or its generated gradient) in memory, with its
 * imports of tsgrad's runtime pointed at the real runtime, and returns its exports.
 */
import ts from "typescript";
import * as runtime from "../../runtime/index.ts";
import * as tensor from "../../runtime/tensor.ts";
import { compile, formatDiagnostic } from "../../compiler/index.ts";

type Exports = Record<string, (...args: any[]) => any>;

export function load(source: string, modules: Record<string, unknown> = {}): Exports {
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const exports: Exports = {};
  const require = (spec: string) => {
    if (spec in modules) return modules[spec];
    if (/(^|\/)runtime\/tensor(\.[jt]s)?$|^tsgrad\/tensor$/.test(spec)) return tensor;
    if (/(^|\/)runtime(\/index)?(\.[jt]s)?$|^tsgrad(\/runtime)?$/.test(spec)) return runtime;
    throw new Error(`load: unexpected import '${spec}'`);
  };
  new Function("require", "exports", js)(require, exports);
  return exports;
}

/** Compiles `source` and loads both it and its gradient module; throws with the diagnostics on error. */
export async function compileAndLoad(source: string, path = "model.ts"): Promise<{ original: Exports; grad: Exports; output: string }> {
  const result = await compile(source, path);
  if (result.output === null) {
    throw new Error(result.diagnostics.map((d) => formatDiagnostic(d, source)).join("\n"));
  }
  return { original: load(source), grad: load(result.output), output: result.output };
}
