/**
 * parse: the only stage that knows TypeScript syntax. Finds the functions tagged
 * `@differentiable` and lowers each to the graph IR, or reports a located diagnostic for
 * anything outside the supported subset.
 *
 * The lowering is split by construct: function.ts (one function: parameters, result),
 * walk.ts (the one statement-list walker and what `return`/`break`/`continue` mean at each
 * level), statements.ts, branches.ts, loops.ts, expressions.ts, calls.ts (inlining, in a
 * frame of its own: frame.ts), signatures.ts (declarations, custom gradients), all on the
 * state and primitives of lowerer.ts; syntax.ts holds the predicates over the syntax tree.
 */
import { Node, Project, ts, type SourceFile } from "ts-morph";
import { CompileError, internalError, type LocalDiagnostic } from "../diagnostics.ts";
import type { FunctionIR, Import } from "../ir/ir.ts";
import { bracketError, depthError } from "./depth.ts";
import { lowerFunction } from "./function.ts";
import { errorAt, locOf } from "./locate.ts";
import { Modules, type ReadFile } from "./modules.ts";
import { CompileErrors } from "./recover.ts";

export { errorAt, locOf } from "./locate.ts";
export type { ReadFile } from "./modules.ts";

export interface ParseResult {
  readonly functions: FunctionIR[];
  readonly diagnostics: LocalDiagnostic[];
}

/**
 * One in-memory project serves every call: building TypeScript's program the first time
 * costs ~120 ms, later ones reuse it (~10 ms). Each call adds its file and removes it again.
 * Only syntax is asked of it, so it reads no default library (`noLib`): parsing lib.d.ts
 * would be 1-1.5 s of a cold start.
 *
 * Except for a large module: removing a file makes ts-morph forget each node it wrapped, one
 * by one (0.45 s of a 5,000-statement function), while a project of its own costs ~3 ms and
 * is dropped whole, for the garbage collector.
 */
let shared: Project | undefined;
const OWN_PROJECT_CHARS = 64 * 1024;
const newProject = () => new Project({ useInMemoryFileSystem: true, compilerOptions: { target: 99, strict: true, allowJs: false, noLib: true } });

export function parse(text: string, path: string, readFile?: ReadFile): ParseResult {
  const brackets = bracketError(text);
  if (brackets) return { functions: [], diagnostics: [brackets] };
  const own = text.length > OWN_PROJECT_CHARS;
  const project = own ? newProject() : (shared ??= newProject());
  const file = project.createSourceFile(path.endsWith(".ts") ? path : `${path}.ts`, text, { overwrite: true });
  const modules = new Modules(project, file, path, readFile);
  try {
    const deep = depthError(text, file.compilerNode);
    if (deep) return { functions: [], diagnostics: [deep] };
    return parseFile(project, file, modules);
  } finally {
    if (!own) {
      modules.dispose();
      project.removeSourceFile(file);
    }
  }
}

function parseFile(project: Project, file: SourceFile, modules: Modules): ParseResult {
  const syntax = project.getProgram().getSyntacticDiagnostics(file);
  if (syntax.length > 0) {
    return {
      functions: [],
      diagnostics: syntax.map((d) => {
        const start = d.getStart() ?? 0;
        const { line, column } = file.getLineAndColumnAtPos(start);
        const message = d.getMessageText();
        return {
          line, col: column, length: d.getLength() ?? 1,
          message: `syntax error: ${typeof message === "string" ? message : message.getMessageText()}`,
        };
      }),
    };
  }

  const functions: FunctionIR[] = [];
  const diagnostics: LocalDiagnostic[] = [];
  const moduleImports = new Map<string, Import>();
  for (const host of taggedNodes(file)) {
    try {
      if (!Node.isFunctionDeclaration(host) || host.getParent() !== file) {
        throw errorAt(host, `@differentiable on ${describeHost(host)} is not supported: tag a top-level \`function\` declaration`);
      }
      functions.push(lowerFunction(modules, host, moduleImports));
    } catch (e) {
      if (e instanceof CompileErrors) diagnostics.push(...e.diagnostics);
      else if (e instanceof CompileError) diagnostics.push(e.diagnostic);
      else diagnostics.push(internalError(locOf(host), Node.isFunctionDeclaration(host) ? host.getName() ?? "function" : "declaration", e));
    }
  }
  diagnostics.sort((a, b) => (a.file ?? "").localeCompare(b.file ?? "") || a.line - b.line || a.col - b.col);
  return { functions, diagnostics };
}

/**
 * Nodes whose JSDoc carries `@differentiable`, in source order. The search runs on
 * TypeScript's nodes: wrapping every node of the file in a ts-morph node to ask it (and
 * forgetting them all again when the file is removed) took a third of the parse of a large
 * function. Only the hosts found are wrapped, through the path from the file down to them.
 */
function taggedNodes(file: SourceFile): Node[] {
  const hosts: Node[] = [];
  const stack: ts.Node[] = [file.compilerNode];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const docs = (node as { jsDoc?: readonly ts.JSDoc[] }).jsDoc;
    if (docs?.some((doc) => doc.tags?.some((t) => t.tagName.text === "differentiable"))) {
      const host = wrap(file, node);
      if (host && Node.isJSDocable(host)) hosts.push(host);
    }
    const children: ts.Node[] = [];
    ts.forEachChild(node, (child) => {
      children.push(child);
    });
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return hosts;
}

/** ts-morph's node for TypeScript's `node`: up from the first token inside it. */
function wrap(file: SourceFile, node: ts.Node): Node | undefined {
  for (let n = file.getDescendantAtPos(node.getStart(file.compilerNode)); n; n = n.getParent()) {
    if (n.compilerNode === node) return n;
  }
  return undefined;
}

function describeHost(node: Node): string {
  if (Node.isMethodDeclaration(node)) return "a class method";
  if (Node.isVariableStatement(node)) return "a variable (an arrow function or function expression)";
  if (Node.isFunctionDeclaration(node)) return "a nested function";
  if (Node.isClassDeclaration(node)) return "a class";
  return `a ${node.getKindName()}`;
}
