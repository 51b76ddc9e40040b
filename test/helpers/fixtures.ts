import { readdirSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES_DIR = new URL("../../fixtures/", import.meta.url).pathname;

/** Paths (relative to the repo root) of the fixture inputs: every `.ts` that is not generated. */
export function fixtureInputs(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".grad.ts"))
    .sort()
    .map((f) => join("fixtures", f));
}
