/**
 * The package's API, `import { compile } from "tsgrad"`: the pure compiler (text in, text
 * and diagnostics out) and the file-level functions the CLI, watch mode and the bundler
 * plugin are made of. The runtime is `tsgrad/runtime` and `tsgrad/tensor`; the bundler
 * plugin is `tsgrad/plugin`.
 */
export { compile, formatDiagnostic, GENERATED_MARKER, STAGES, type CompileOptions, type CompileResult, type Diagnostic } from "./index.ts";
export { compileFiles, findModules, type FileOptions, type FileResult } from "./files.ts";
export { outputPath, writeOutputs, type IoError, type Output, type WriteResult } from "./io.ts";
export type { PrettierOptions } from "./emit/prettier.ts";
