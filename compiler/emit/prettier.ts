/**
 * Formatting the generated module with prettier, loaded only when a module is formatted.
 *
 * Without a project configuration, tsgrad's own style (printWidth 100) is printed through
 * prettier's small standalone build and its `babel-ts` parser: the full build and its
 * `typescript` parser (a second copy of the TypeScript parser, beside the one ts-morph
 * brings) cost a cold start 0.2-0.3 s, and print these modules byte for byte the same (the
 * golden fixtures check it). A project that configures prettier gets its configuration,
 * resolved by prettier itself for the generated file, and the full build that reads it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Options as PrettierOptions } from "prettier";

export type { PrettierOptions };

/** tsgrad's own style, for a project without a prettier configuration. */
const DEFAULT_OPTIONS = { printWidth: 100 } as const;

/** Formats TypeScript text with the project's prettier options, or tsgrad's own style when null. */
export async function formatTypeScript(text: string, options: PrettierOptions | null): Promise<string> {
  if (options === null) {
    const [prettier, estree, babel] = await Promise.all([import("prettier/standalone"), import("prettier/plugins/estree"), import("prettier/plugins/babel")]);
    return prettier.format(text, { ...DEFAULT_OPTIONS, parser: "babel-ts", plugins: [estree, babel] });
  }
  const prettier = await import("prettier");
  return prettier.format(text, { ...options, parser: "typescript" });
}

/**
 * The file names prettier reads its configuration from (prettier 3's search list), searched
 * for in the generated file's directory and every directory above it.
 */
const CONFIG_FILES = new Set([
  ".prettierrc", ".prettierrc.json", ".prettierrc.yml", ".prettierrc.yaml", ".prettierrc.json5", ".prettierrc.toml",
  ".prettierrc.js", ".prettierrc.ts", ".prettierrc.mjs", ".prettierrc.mts", ".prettierrc.cjs", ".prettierrc.cts",
  "prettier.config.js", "prettier.config.ts", "prettier.config.mjs", "prettier.config.mts", "prettier.config.cjs", "prettier.config.cts",
]);

/** Whether a directory holds a prettier configuration: one of its files, or a `prettier` key in package.json / package.yaml. */
function hasConfig(dir: string): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return false;
  }
  if (names.some((n) => CONFIG_FILES.has(n))) return true;
  try {
    if (names.includes("package.json") && (JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { prettier?: unknown }).prettier) return true;
  } catch {
    // a package.json that does not parse configures nothing (as for prettier)
  }
  try {
    if (names.includes("package.yaml") && /^prettier\s*:/m.test(readFileSync(`${dir}/package.yaml`, "utf8"))) return true;
  } catch {
    // unreadable: no configuration
  }
  return false;
}

/**
 * The prettier options for a generated file at `target`, as prettier resolves them for that
 * file (`.prettierrc`, `prettier.config.js`, a `prettier` key in package.json, and their
 * `overrides`), or null when no directory from its own up to the root configures prettier.
 * The search is a look at directory listings; prettier itself is loaded only if one matches.
 */
export async function projectPrettierOptions(target: string): Promise<PrettierOptions | null> {
  let found = false;
  for (let dir = dirname(resolve(target)), up = ""; dir !== up; up = dir, dir = dirname(dir)) {
    if (hasConfig(dir)) {
      found = true;
      break;
    }
  }
  if (!found) return null;
  const prettier = await import("prettier");
  return (await prettier.resolveConfig(target)) ?? null;
}
