/**
 * Regenerates the golden pictures in fixtures/graphs/ (npm run graphs:update). Run it only
 * after a deliberate change to the drawing, and look at every picture it changed (render
 * one to PNG with `rsvg-convert fixtures/graphs/NAME.svg -o NAME.png`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { drawGraph } from "../../compiler/graph/index.ts";
import { GOLDEN_GRAPHS, goldenPath } from "./goldens.ts";

const readFile = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : undefined);
mkdirSync("fixtures/graphs", { recursive: true });
for (const g of GOLDEN_GRAPHS) {
  const result = drawGraph(readFileSync(g.file, "utf8"), g.file, { ...g.options, readFile });
  if (result.svg === null) throw new Error(`${g.name}: ${[...result.errors, ...result.diagnostics.map((d) => d.message)].join("; ")}`);
  const path = goldenPath(g);
  const changed = !existsSync(path) || readFileSync(path, "utf8") !== result.svg;
  writeFileSync(path, result.svg);
  console.log(`${changed ? "wrote" : "same "} ${path}`);
}
