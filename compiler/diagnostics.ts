/**
 * Located diagnostics, printed the way compilers print them:
 *
 *   fixtures/bad.ts:3:3: error: `for` loops are not supported yet
 *      3 |   for (let i = 0; i < n; i++) {
 *        |   ^^^
 */

export interface Diagnostic {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Length of the span to underline on its first line (at least 1). */
  readonly length: number;
  readonly message: string;
}

/** A diagnostic as the stages make it: in the module being compiled unless `file` says otherwise (an imported module). */
export type LocalDiagnostic = Omit<Diagnostic, "file"> & { readonly file?: string };

/** Thrown by the stages for input they cannot compile; caught by the pipeline. */
export class CompileError extends Error {
  constructor(readonly diagnostic: LocalDiagnostic) {
    super(diagnostic.message);
  }
}

/** Formats a diagnostic with a code frame taken from the source text. */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const head = `${d.file}:${d.line}:${d.col}: error: ${d.message}`;
  const lineText = source?.split(/\r?\n/)[d.line - 1];
  if (lineText === undefined) return head;
  const gutter = String(d.line).length;
  const width = Math.max(1, Math.min(d.length, lineText.length - d.col + 1));
  return [
    head,
    ` ${String(d.line)} | ${lineText}`,
    ` ${" ".repeat(gutter)} | ${" ".repeat(d.col - 1)}${"^".repeat(width)}`,
  ].join("\n");
}

/** A bug in tsgrad, reported at the function being compiled instead of as a crash. */
export function internalError(at: { line: number; col: number }, name: string, e: unknown): Omit<Diagnostic, "file"> {
  const message = e instanceof Error ? e.message : String(e);
  // the nesting limits (parse/depth.ts) keep this from happening; should it still, it is the input's depth, not a bug
  if (e instanceof RangeError && /call stack/i.test(message)) {
    return {
      line: at.line, col: at.col, length: Math.max(1, name.length),
      message: `\`${name}\` is nested too deeply for tsgrad to compile (it ran out of stack); flatten it: fewer branches, loops and expressions inside one another`,
    };
  }
  return {
    line: at.line, col: at.col, length: Math.max(1, name.length),
    message: `internal error while compiling \`${name}\`: ${message}. This is a bug in tsgrad, not in your code; please report it with this function.`,
  };
}
