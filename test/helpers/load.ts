/**
 * Loads TypeScript source (a user model or its generated gradient) in memory, with its
 * imports of tsgrad's runtime pointed at the real runtime, and returns its exports.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import * as runtime from "../../runtime/index.ts";
import * as tensor from "../../runtime/tensor.ts";
import { compile, formatDiagnostic, type CompileOptions } from "../../compiler/index.ts";

type Exports = Record<string, (...args: any[]) => any>;

/** Runs a module's source; `other` gives the exports of an import that is not tsgrad's runtime. */
function run(source: string, other: (spec: string) => unknown, exports: Exports = {}): Exports {
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const require = (spec: string) => {
    const found = other(spec);
    if (found !== undefined) return found;
    if (/(^|\/)runtime\/tensor(\.[jt]s)?$|^tsgrad\/tensor$/.test(spec)) return tensor;
    if (/(^|\/)runtime(\/index)?(\.[jt]s)?$|^tsgrad(\/runtime)?$/.test(spec)) return runtime;
    throw new Error(`load: unexpected import '${spec}'`);
  };
  new Function("require", "exports", js)(require, exports);
  return exports;
}

export function load(source: string, modules: Record<string, unknown> = {}): Exports {
  return run(source, (spec) => modules[spec]);
}

/** Loads a module from disk, and its relative imports the same way (each once, cycles allowed). */
export function loadFile(path: string, cache = new Map<string, Exports>()): Exports {
  const file = resolve(path);
  const known = cache.get(file);
  if (known) return known;
  const exports: Exports = {};
  cache.set(file, exports);
  return run(readFileSync(file, "utf8"), (spec) => {
    if (!spec.startsWith(".")) return undefined;
    const base = join(dirname(file), spec);
    const found = [base, `${base}.ts`, join(base, "index.ts")].find((p) => p.endsWith(".ts") && existsSync(p));
    return found === undefined ? undefined : loadFile(found, cache);
  }, exports);
}

/** What compile() reads an imported module with in tests: the file system. */
export const readFixture: CompileOptions["readFile"] = (path) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

/** Compiles `source` and loads both it and its gradient module; throws with the diagnostics on error. */
export async function compileAndLoad(source: string, path = "model.ts", options: CompileOptions = {}): Promise<{ original: Exports; grad: Exports; output: string }> {
  const result = await compile(source, path, options);
  if (result.output === null) {
    throw new Error(result.diagnostics.map((d) => formatDiagnostic(d, source)).join("\n"));
  }
  const original = load(source);
  // a custom gradient's functions are imported from the module itself
  const self = `./${path.split("/").pop()}`;
  return { original, grad: load(result.output, { [self]: original }), output: result.output };
}

/** Runs generated code as if it were written beside `path` (its relative imports read from disk). */
export function loadBeside(source: string, path: string, cache = new Map<string, Exports>()): Exports {
  return run(source, (spec) => {
    if (!spec.startsWith(".")) return undefined;
    const base = join(dirname(resolve(path)), spec);
    const found = [base, `${base}.ts`, join(base, "index.ts")].find((p) => p.endsWith(".ts") && existsSync(p));
    return found === undefined ? undefined : loadFile(found, cache);
  });
}
