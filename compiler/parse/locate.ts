/**
 * Where a node is, for diagnostics and for the line comments of the emitted code. A node
 * may come from a module other than the one being compiled (an imported function that is
 * inlined): its locations then name that module, as the compiler was given its path.
 */
import { Node, type SourceFile } from "ts-morph";
import { CompileError } from "../diagnostics.ts";
import type { SourceLoc } from "../ir/ir.ts";

/** The path of each imported module that is read (the module being compiled has none here). */
const importedPaths = new WeakMap<SourceFile, string>();

export function registerImported(file: SourceFile, path: string): void {
  importedPaths.set(file, path);
}

/** The path of an imported module, or undefined for the module being compiled. */
export function importedPath(file: SourceFile): string | undefined {
  return importedPaths.get(file);
}

/** The name of the top-level function a node is in, if any. */
function enclosingFunction(node: Node): string | undefined {
  let fn: string | undefined;
  for (let n: Node | undefined = node; n; n = n.getParent()) {
    if (Node.isFunctionDeclaration(n) && Node.isSourceFile(n.getParent())) fn = n.getName();
  }
  return fn;
}

function at(node: Node, text: string): SourceLoc {
  const file = node.getSourceFile();
  const { line, column } = file.getLineAndColumnAtPos(node.getStart());
  const path = importedPath(file);
  return { line, col: column, text: text.replace(/\s+/g, " "), fn: enclosingFunction(node), ...(path === undefined ? {} : { file: path }) };
}

export function locOf(node: Node): SourceLoc {
  return at(node, node.getText());
}

/** Where a branch or loop starts, shown by its header (`if (x > 0)`, `for (let i = 0; ...)`). */
export function headerLoc(node: Node, header: string): SourceLoc {
  return at(node, header);
}

export function errorAt(node: Node, message: string): CompileError {
  const file = node.getSourceFile();
  const { line, column } = file.getLineAndColumnAtPos(node.getStart());
  const path = importedPath(file);
  return new CompileError({ line, col: column, length: Math.max(1, node.getEnd() - node.getStart()), message, ...(path === undefined ? {} : { file: path }) });
}
