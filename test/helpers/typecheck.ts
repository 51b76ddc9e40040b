/** Type-checks generated code in memory, as the fixtures are checked: tsc --strict and noUncheckedIndexedAccess, with unused locals. */
import { relative, resolve } from "node:path";
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

/**
 * The complaints of tsc --strict, noUncheckedIndexedAccess and noUnusedLocals about generated
 * modules held in memory (`outputs`: the path each would be written at, relative to the repo
 * root or absolute, and its text), each read beside its fixture, its imports from disk:
 * `path:line: message`, for those modules only (not for what they import).
 */
export function typeErrorsBeside(outputs: ReadonlyMap<string, string>): string[] {
  const texts = new Map([...outputs].map(([path, text]) => [resolve(path), text]));
  const options: ts.CompilerOptions = {
    strict: true, noUncheckedIndexedAccess: true, noUnusedLocals: true, noEmit: true,
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true, skipLibCheck: true, types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile;
  host.getSourceFile = (file, version, ...rest) => {
    const text = texts.get(resolve(file));
    return text !== undefined ? ts.createSourceFile(file, text, version) : read(file, version, ...rest);
  };
  const exists = host.fileExists;
  host.fileExists = (file) => texts.has(resolve(file)) || exists(file);
  const program = ts.createProgram([...texts.keys()], options, host);
  // only the generated modules': the fixture inputs and the runtime they import are checked on their own
  return ts.getPreEmitDiagnostics(program).filter((d) => !d.file || texts.has(resolve(d.file.fileName))).map((d) => {
    const where = d.file ? `${relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "";
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}
