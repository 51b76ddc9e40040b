/**
 * The modules one compile reads: the one being compiled, and those its calls lead to
 * through relative imports (`import { helper } from "./helpers.ts"`). `compile` touches no
 * file system, so imported modules come from the caller's `readFile`; paths are the
 * importing module's path joined with the specifier, as the compiler was given the path
 * of the module being compiled (relative stays relative).
 */
import { posix } from "node:path";
import { Node, type ImportDeclaration, type Project, type SourceFile } from "ts-morph";
import { CompileError } from "../diagnostics.ts";
import type { Import } from "../ir/ir.ts";
import { bracketError, depthError } from "./depth.ts";
import { errorAt, importedPath, registerImported } from "./locate.ts";

/**
 * Reads a module's text by its path, or gives undefined when there is none; throws an Error
 * saying why for a file it will not read (a FIFO, one too large), reported at the import.
 */
export type ReadFile = (path: string) => string | undefined;

export interface ImportBinding {
  readonly import: Import;
  /** The declaration it comes from, where an unreadable module is reported. */
  readonly decl: ImportDeclaration;
}

export const isRelative = (specifier: string) => specifier.startsWith("./") || specifier.startsWith("../") || specifier.startsWith("/");

let loadedCount = 0;

export class Modules {
  /** Modules read so far, by path. */
  private readonly byPath = new Map<string, SourceFile>();
  private readonly imports = new Map<SourceFile, Map<string, ImportBinding>>();
  private readonly loaded: SourceFile[] = [];
  /** A module that does not parse, with its error: every call into it reports it. */
  private readonly broken = new Map<SourceFile, CompileError>();

  constructor(
    private readonly project: Project,
    readonly main: SourceFile,
    /** The path of the module being compiled, as the compiler was given it. */
    readonly mainPath: string,
    private readonly readFile: ReadFile | undefined,
  ) {
    this.byPath.set(posix.normalize(mainPath), main);
  }

  pathOf(file: SourceFile): string {
    return importedPath(file) ?? this.mainPath;
  }

  /** The named imports of a module, by local name. */
  importsOf(file: SourceFile): ReadonlyMap<string, ImportBinding> {
    let map = this.imports.get(file);
    if (!map) {
      map = new Map();
      for (const decl of file.getImportDeclarations()) {
        for (const spec of decl.getNamedImports()) {
          const local = spec.getAliasNode()?.getText() ?? spec.getName();
          const typeOnly = decl.isTypeOnly() || spec.isTypeOnly();
          map.set(local, { import: { local, imported: spec.getName(), module: decl.getModuleSpecifierValue(), typeOnly }, decl });
        }
      }
      this.imports.set(file, map);
    }
    return map;
  }

  /**
   * The module a relative import names, read and parsed: `./helpers.ts`, or `./helpers`
   * and `./helpers.js` meaning `helpers.ts`. A module that cannot be read, or does not
   * parse, is an error at the import.
   */
  load(binding: ImportBinding): SourceFile {
    const from = binding.decl.getSourceFile();
    const specifier = binding.import.module;
    const base = specifier.startsWith("/") ? posix.normalize(specifier) : posix.normalize(posix.join(posix.dirname(this.pathOf(from)), specifier));
    const candidates = /\.[cm]?ts$/.test(base) ? [base]
      : /\.[cm]?js$/.test(base) ? [base.replace(/js$/, "ts")]
      : [`${base}.ts`, posix.join(base, "index.ts")];
    for (const path of candidates) {
      const known = this.byPath.get(path);
      if (!known) continue;
      const error = this.broken.get(known);
      if (error) throw error;
      return known;
    }
    for (const path of candidates) {
      let text: string | undefined;
      try {
        text = this.readFile?.(path);
      } catch (e) {
        throw errorAt(binding.decl.getModuleSpecifier(), `cannot read the module '${specifier}' (${path}): ${e instanceof Error ? e.message : String(e)}`);
      }
      if (text === undefined) continue;
      const brackets = bracketError(text);
      if (brackets) throw new CompileError({ ...brackets, file: path });
      const file = this.project.createSourceFile(`/tsgrad-imported/${++loadedCount}/${posix.basename(path)}`, text, { overwrite: true });
      this.loaded.push(file);
      const deep = depthError(text, file.compilerNode);
      if (deep) throw new CompileError({ ...deep, file: path });
      registerImported(file, path);
      this.byPath.set(path, file);
      const syntax = this.project.getProgram().getSyntacticDiagnostics(file)[0];
      if (syntax) {
        const message = syntax.getMessageText();
        const node = file.getDescendantAtPos(syntax.getStart() ?? 0) ?? file;
        const error = errorAt(node, `syntax error: ${typeof message === "string" ? message : message.getMessageText()}`);
        this.broken.set(file, error);
        throw error;
      }
      return file;
    }
    const how = this.readFile ? `looked for ${candidates.join(" and ")}` : "compile() was given no readFile option to read it with";
    throw errorAt(binding.decl.getModuleSpecifier(), `cannot read the module '${specifier}' (${how}), so tsgrad cannot see the functions it exports`);
  }

  /**
   * How the generated module, which sits beside the module being compiled, imports `file`:
   * written as the module's own relative imports are (`./m.ts`, `./m.js` or `./m`), so it
   * resolves under the same tsconfig; `./m.js` when it has none, which every resolution
   * mode and bundler accepts.
   */
  specifierOf(file: SourceFile): string {
    const specifier = this.relativeToMain(this.pathOf(file));
    const own = this.main.getImportDeclarations().map((d) => d.getModuleSpecifierValue()).find(isRelative);
    const style = own === undefined || /\.[cm]?js$/.test(own) ? "js" : /\.[cm]?ts$/.test(own) ? "ts" : "none";
    if (style === "ts") return specifier;
    if (style === "none" && specifier.endsWith(".ts")) return specifier.slice(0, -".ts".length);
    return specifier.replace(/\.([cm]?)ts$/, ".$1js");
  }

  /** A specifier written in `from`, as the generated module must write it. */
  rebase(from: SourceFile, specifier: string): string {
    if (from === this.main || !isRelative(specifier)) return specifier;
    return this.relativeToMain(posix.normalize(posix.join(posix.dirname(this.pathOf(from)), specifier)));
  }

  private relativeToMain(path: string): string {
    const relative = posix.relative(posix.dirname(posix.normalize(this.mainPath)), path);
    return relative.startsWith("../") ? relative : `./${relative}`;
  }

  /** Forgets the imported modules (the shared project outlives the compile). */
  dispose(): void {
    for (const file of this.loaded) this.project.removeSourceFile(file);
  }
}

/** The exported function `name` of a module, or undefined. Only `export function` declarations are followed. */
export function exportedFunction(file: SourceFile, name: string) {
  const decl = file.getFunctions().find((f) => f.getName() === name && f.hasBody()) ?? file.getFunction(name);
  return decl && Node.isFunctionDeclaration(decl) && decl.isExported() ? decl : undefined;
}
