/**
 * A code cache for the command line's cold start. Most of a run's start is V8 compiling the
 * CommonJS it loads: ts-morph and the TypeScript compiler it bundles (9 MB of JavaScript),
 * and prettier. V8 can save what it compiled (its "code cache") and load it the next time
 * instead of compiling again; Node 22.1+ does this itself (`module.enableCompileCache`),
 * which is used where it exists. On Node 20 this module does the same for CommonJS: it
 * compiles each large module with `vm.Script` and the cache saved for that file by an
 * earlier run, and saves a new cache at exit when there was none or V8 rejected it.
 *
 * A cache file is named for the module's path, size and modification time and for the
 * Node version, so a changed module or another Node compiles afresh; V8 checks the rest
 * (its version and flags, the source's length). Any failure to read or write the cache only
 * means compiling as usual. The API (`import { compile } from "tsgrad"`) never installs it:
 * only the bin does, in its own process.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";

/** Modules smaller than this compile faster than their cache loads. */
const MIN_BYTES = 64 * 1024;

/**
 * The modules cached: those the command line loads, known to run no `import()` (code
 * loaded from a cache loses its dynamic-import callback on Node 20, so a module that calls
 * `import()` must not be).
 */
export const CACHED_MODULES = /[\\/]node_modules[\\/](ts-morph|@ts-morph[\\/]common|prettier)[\\/]/;

interface CjsModule {
  exports: unknown;
  filename: string;
  require(id: string): unknown;
}

interface ModuleInternals {
  prototype: { _compile(this: CjsModule, content: string, filename: string): unknown };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: CjsModule, isMain: boolean, options?: unknown): string;
  _cache: Record<string, unknown>;
  _extensions: Record<string, unknown>;
  enableCompileCache?: (dir: string) => unknown;
}

/** Turns the cache on for this process, keeping it in `dir`, for the modules whose path `only` matches. */
export function enableCompileCache(dir: string, only: RegExp = CACHED_MODULES): void {
  const M = Module as unknown as ModuleInternals;
  if (typeof M.enableCompileCache === "function") {
    M.enableCompileCache(dir);
    return;
  }
  const compile = M.prototype._compile;
  const pending: { path: string; script: Script }[] = [];
  M.prototype._compile = function (this: CjsModule, content: string, filename: string) {
    if (content.length < MIN_BYTES || !only.test(filename)) return compile.call(this, content, filename);
    let path: string;
    let cachedData: Buffer | undefined;
    try {
      const st = statSync(filename);
      const key = createHash("sha256").update(`${process.version}\0${process.arch}\0${filename}\0${st.size}\0${st.mtimeMs}`).digest("hex").slice(0, 32);
      path = join(dir, `${key}.cache`);
      cachedData = readFileSync(path);
    } catch {
      path ??= "";
    }
    const script = new Script(M.wrap(content), { filename, cachedData });
    if (path !== "" && (cachedData === undefined || script.cachedDataRejected)) pending.push({ path, script });
    const run = script.runInThisContext() as (exports: unknown, require: unknown, module: unknown, filename: string, dirname: string) => unknown;
    return run.call(this.exports, this.exports, requireFor(this, M), this, filename, dirname(filename));
  };
  // saved at exit, so the cache holds the functions this run compiled as well
  process.once("exit", () => {
    if (pending.length === 0) return;
    try {
      mkdirSync(dir, { recursive: true });
      for (const { path, script } of pending) {
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, path);
      }
    } catch {
      // a read-only or full disk: the next run compiles as this one did
    }
  });
}

/** The `require` a module's code is given, as Node makes it. */
function requireFor(module: CjsModule, M: ModuleInternals) {
  const require = (id: string) => module.require(id);
  require.resolve = (request: string, options?: unknown) => M._resolveFilename(request, module, false, options);
  require.cache = M._cache;
  require.extensions = M._extensions;
  return require;
}

/**
 * Where the bin keeps the cache: `node_modules/.cache/tsgrad` of the project tsgrad is
 * installed in (beside the package), or of tsgrad's own checkout.
 */
export function cacheDirFor(packageRoot: string): string {
  const parent = dirname(packageRoot);
  const nodeModules = basename(parent) === "node_modules" ? parent : basename(dirname(parent)) === "node_modules" && basename(parent).startsWith("@") ? dirname(parent) : join(packageRoot, "node_modules");
  return join(nodeModules, ".cache", "tsgrad");
}
