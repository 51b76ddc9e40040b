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

/**
 * Where each line starts, per parsed file: ts-morph's getLineAndColumnAtPos counts the
 * newlines from the start of the file at every call, which made locating every node of a
 * 5,000-statement function take seconds (quadratic). Same numbers as ts-morph: the line is
 * 1 + the number of `\n` before the position; the column counts from just after the last
 * `\n` or `\r` before it, from 1. Keyed by TypeScript's node, which a change to the file replaces.
 */
const breaks = new WeakMap<object, { newlines: number[]; starts: number[] }>();

/** How many of the ascending `xs` are below `pos`. */
function countBelow(xs: readonly number[], pos: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The 1-based line and column of `pos` in `file`, as ts-morph's getLineAndColumnAtPos gives them. */
export function lineAndColumn(file: SourceFile, pos: number): { line: number; column: number } {
  const key = file.compilerNode;
  let b = breaks.get(key);
  if (b === undefined) {
    const text = file.getFullText();
    b = { newlines: [], starts: [] };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) b.newlines.push(i);
      if (c === 10 || c === 13) b.starts.push(i + 1);
    }
    breaks.set(key, b);
  }
  const below = countBelow(b.starts, pos + 1);
  const lineStart = below === 0 ? 0 : b.starts[below - 1]!;
  return { line: countBelow(b.newlines, pos) + 1, column: pos - lineStart + 1 };
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
  const { line, column } = lineAndColumn(file, node.getStart());
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
  const { line, column } = lineAndColumn(file, node.getStart());
  const path = importedPath(file);
  return new CompileError({ line, col: column, length: Math.max(1, node.getEnd() - node.getStart()), message, ...(path === undefined ? {} : { file: path }) });
}
