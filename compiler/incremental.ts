/**
 * Keeping a project's generated files up to date, for `--watch` and the bundler plugin: the
 * modules under some roots that tag a function `@differentiable`, and for each the files its
 * compile read (itself and every module its calls import, inlined into its gradient). A
 * change to a file recompiles every module that read it; a good output is written (only if
 * its text changed), a failed one leaves the last good output as it was.
 */
import { statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { compileFiles, findModules, isSourcePath, mentionsDifferentiable, shown, type FileOptions } from "./files.ts";
import { formatIoError, readSource, writeOutputs } from "./io.ts";

/** What happened to one module in a build. */
export interface ModuleReport {
  /** The module, and its output, as shown to a person (relative to the working directory). */
  readonly input: string;
  readonly target: string;
  /** `wrote`: its output changed and was written; `unchanged`: it was already what the module gives; `failed`: errors, nothing written. */
  readonly outcome: "wrote" | "unchanged" | "failed";
  readonly errors: readonly string[];
  /** Wall time to read, compile and write it, in milliseconds. */
  readonly ms: number;
}

/** One line for a report: `wrote src/model.grad.ts (84 ms)`. */
export function reportLine(r: ModuleReport): string {
  const ms = `(${Math.round(r.ms)} ms)`;
  if (r.outcome === "wrote") return `wrote ${r.target} ${ms}`;
  if (r.outcome === "unchanged") return `${r.target} is up to date ${ms}`;
  const count = `${r.errors.length} error${r.errors.length === 1 ? "" : "s"}`;
  return `${r.input}: ${count}; ${r.target} left as it was ${ms}`;
}

/** A file's size and modification time, or "gone". */
function stampOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return "gone";
  }
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

export class IncrementalBuild {
  /** Absolute paths of the directories searched for modules, and of the files named one by one. */
  private readonly dirs: string[] = [];
  private readonly files: string[] = [];
  /** Each module (absolute path) and the absolute paths its last compile read. */
  private readonly reads = new Map<string, ReadonlySet<string>>();
  /** What each file read looked like when it was read (size and modification time), for `refresh`. */
  private readonly seen = new Map<string, string>();

  constructor(roots: readonly string[], private readonly options: FileOptions = {}) {
    for (const root of roots) (isDirectory(root) ? this.dirs : this.files).push(resolve(root));
  }

  /** The modules, absolute paths, sorted. */
  get modules(): string[] {
    return [...this.reads.keys()].sort();
  }

  /** The directories searched and every file a module's compile read (what a watcher watches). */
  get watched(): string[] {
    const all = new Set<string>([...this.dirs, ...this.files]);
    for (const reads of this.reads.values()) for (const r of reads) all.add(r);
    return [...all].sort();
  }

  /** Finds the modules under the roots and compiles every one. */
  async buildAll(): Promise<ModuleReport[]> {
    const found = new Set([...this.files, ...this.dirs.flatMap((d) => findModules(d))]);
    for (const m of this.reads.keys()) if (!found.has(m)) this.reads.delete(m);
    return this.build([...found].sort());
  }

  /**
   * After the files at `paths` changed (were written, added or removed): compiles every
   * module that read one of them, and any of them that is a module under a root (a new
   * one, or one given a `@differentiable` tag). A module whose output changed may be read
   * by another (a gradient calling a generated gradient): that one is compiled next, each
   * module at most once per call.
   */
  async changed(paths: readonly string[]): Promise<ModuleReport[]> {
    const reports: ModuleReport[] = [];
    const done = new Set<string>();
    let pending = paths.map((p) => resolve(p));
    while (pending.length > 0) {
      const affected = new Set<string>();
      for (const path of pending) {
        for (const [module, reads] of this.reads) if (reads.has(path) && !done.has(module)) affected.add(module);
        if (this.isModule(path) && !done.has(path)) affected.add(path);
        else if (this.reads.has(path) && !this.files.includes(path)) this.reads.delete(path);
      }
      const batch = [...affected].filter((m) => this.reads.has(m) || this.isModule(m)).sort();
      for (const m of batch) done.add(m);
      const built = await this.build(batch);
      reports.push(...built);
      pending = built.filter((r) => r.outcome === "wrote").map((r) => resolve(r.target));
    }
    return reports;
  }

  /**
   * Compiles what changed since the last build, found by looking (for a bundler that says
   * only that it builds again, as esbuild's watch mode does): files read since changed or
   * gone, and modules new under the roots.
   */
  async refresh(): Promise<ModuleReport[]> {
    const changed = [...this.seen].filter(([path, stamp]) => stampOf(path) !== stamp).map(([path]) => path);
    const added = this.dirs.flatMap((d) => findModules(d)).filter((m) => !this.reads.has(m));
    return this.changed([...changed, ...added]);
  }

  /** Whether `path` is a module to compile: named as one, or a source under a root that mentions the tag. */
  private isModule(path: string): boolean {
    if (this.files.includes(path)) return true;
    const under = (dir: string) => {
      const rel = relative(dir, path);
      return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) && !rel.split(/[\\/]/).some((part) => part === "node_modules" || part.startsWith("."));
    };
    return isSourcePath(path) && this.dirs.some(under) && mentionsDifferentiable(path);
  }

  private async build(modules: readonly string[]): Promise<ModuleReport[]> {
    const reports: ModuleReport[] = [];
    for (const module of modules) {
      const started = performance.now();
      const [result] = await compileFiles([shown(module)], this.options);
      const r = result!;
      const reads = new Set(r.reads.length > 0 ? r.reads.map((p) => resolve(p)) : [module]);
      this.reads.set(module, reads);
      for (const path of reads) this.seen.set(path, stampOf(path));
      const ms = () => performance.now() - started;
      if (r.text === null) {
        reports.push({ input: r.input, target: r.target, outcome: "failed", errors: r.errors, ms: ms() });
        continue;
      }
      const current = readSource(r.target);
      if ("text" in current && current.text === r.text) {
        reports.push({ input: r.input, target: r.target, outcome: "unchanged", errors: [], ms: ms() });
        continue;
      }
      const { errors } = writeOutputs([{ input: r.input, target: r.target, text: r.text }]);
      reports.push({ input: r.input, target: r.target, outcome: errors.length > 0 ? "failed" : "wrote", errors: errors.map(formatIoError), ms: ms() });
    }
    return reports;
  }
}
