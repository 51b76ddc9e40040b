/** Type-checks generated code in memory, as the fixtures are checked: tsc --strict and noUncheckedIndexedAccess, with unused locals. */
import ts from "typescript";

/** tsc --strict --noUncheckedIndexedAccess's complaints about one generated module that imports nothing. */
export function typeErrors(output: string): string[] {
  const options = { strict: true, noUncheckedIndexedAccess: true, noEmit: true, noUnusedLocals: true, target: ts.ScriptTarget.ES2022, types: [] };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile;
  host.getSourceFile = (file, version) => (file === "m.grad.ts" ? ts.createSourceFile(file, output, version) : read(file, version));
  const program = ts.createProgram(["m.grad.ts"], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}
