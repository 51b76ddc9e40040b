/**
 * Formatting the generated module with prettier, loaded only when a module is formatted.
 *
 * Without a project configuration, tsgrad's own style (printWidth 100) is printed through
 * prettier's small standalone build and its `babel-ts` parser: the full build and its
 * `typescript` parser (a second copy of the TypeScript parser, beside the one ts-morph
 * brings) cost a cold start 0.2-0.3 s, and print these modules byte for byte the same (the
 * golden fixtures check it). A project that configures prettier gets its configuration,
 * resolved by prettier itself for the generated file (prettier-config.ts finds it: this
 * module reads no file, and runs in a browser too), and the full build that reads it.
 */
import type { Options as PrettierOptions } from "prettier";
import { formatAround } from "./verbatim.ts";

export type { PrettierOptions };

/** tsgrad's own style, for a project without a prettier configuration. */
const DEFAULT_OPTIONS = { printWidth: 100 } as const;

/**
 * A .ts file path spares prettier its "is this JSX?" guess, a regular expression whose time
 * grows with the square of the length of code without quotes (5,000 statements: over a minute).
 */
const FILEPATH = "gradient.ts";

/** Formats TypeScript text with the project's prettier options, or tsgrad's own style when null. */
export async function formatTypeScript(text: string, options: PrettierOptions | null): Promise<string> {
  if (options === null) {
    const [prettier, estree, babel] = await Promise.all([import("prettier/standalone"), import("prettier/plugins/estree"), import("prettier/plugins/babel")]);
    // the lines prettier would print unchanged are left out of its work (verbatim.ts)
    return formatAround(text, (t) => prettier.format(t, { ...DEFAULT_OPTIONS, parser: "babel-ts", filepath: FILEPATH, plugins: [estree, babel] }));
  }
  const prettier = await import("prettier");
  return prettier.format(text, { ...options, parser: "typescript", filepath: FILEPATH });
}
