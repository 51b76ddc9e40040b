/**
 * Finding the project's prettier configuration for a generated file, for compileFiles: a
 * look at directory listings from the file's directory up to the root, and prettier's own
 * resolveConfig only where one of them holds a configuration (the full prettier build costs
 * a cold start 0.2-0.3 s).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { PrettierOptions } from "./emit/prettier.ts";

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
