import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES_DIR = new URL("../../fixtures/", import.meta.url).pathname;

/**
 * Paths (relative to the repo root) of the fixture inputs: every `.ts` that is not
 * generated and has a function tagged `@differentiable`, in fixtures/ and its subdirectories
 * (fixtures/models/: whole models written as a new user would). A module of helpers that other
 * fixtures import (fixtures/helpers.ts) is read through those imports, not compiled itself.
 */
export function fixtureInputs(): string[] {
  // subdirectories too: fixtures/models/ holds whole models written the natural way
  return (readdirSync(FIXTURES_DIR, { recursive: true }) as string[])
    .map((f) => f.split("\\").join("/"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".grad.ts"))
    .filter((f) => /@differentiable\b/.test(readFileSync(join(FIXTURES_DIR, f), "utf8")))
    .sort()
    .map((f) => join("fixtures", f));
}
