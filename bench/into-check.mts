/**
 * (f) What `@into`'s buffer check costs: fixtures/loops.grad.ts's rosenbrock_grad as
 * generated, against the same module with its `if (into) checkInto(...)` line taken out,
 * both writing into one array every call, interleaved, at 10^5 elements (the bench's case
 * (c)) and at 10 (where the loop is short enough for the check to show, if anything does).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { rosenbrock_grad } from "../fixtures/loops.grad.ts";

type Grad = typeof rosenbrock_grad;

export async function intoCheckSection(time: (f: () => number, reps?: number) => number, median: (xs: number[]) => number, repeats: number): Promise<void> {
  const source = readFileSync(new URL("../fixtures/loops.grad.ts", import.meta.url), "utf8");
  const guard = /^ {2}if \(into\) checkInto\("rosenbrock_grad", into, \{ x \}\);\n/m;
  if (!guard.test(source)) throw new Error("bench/into-check.mts: rosenbrock_grad no longer starts with its checkInto line");
  const dir = mkdtempSync(join(tmpdir(), "tsgrad-bench-"));
  let unchecked: Grad;
  try {
    const path = join(dir, "unchecked.ts");
    writeFileSync(path, source.replace(guard, ""));
    unchecked = ((await import(pathToFileURL(path).href)) as { rosenbrock_grad: Grad }).rosenbrock_grad;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("\n(f) @into's buffer check: rosenbrock_grad writing into one array, with and without its checkInto line");
  for (const [n, reps] of [[100_000, 20], [10, 200_000]] as const) {
    const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
    const [a, b] = [new Float64Array(n), new Float64Array(n)];
    const runs = {
      checked: () => rosenbrock_grad(x, 1, { x: a }).value,
      unchecked: () => unchecked(x, 1, { x: b }).value,
    };
    if (runs.checked() !== runs.unchecked()) throw new Error("the checked and unchecked gradients differ");
    for (let i = 0; i < 3; i++) for (const f of Object.values(runs)) time(f, reps);
    const t = { checked: [] as number[], unchecked: [] as number[] };
    for (let r = 0; r < repeats; r++) {
      t.checked.push(time(runs.checked, reps));
      t.unchecked.push(time(runs.unchecked, reps));
    }
    const [c, u] = [median(t.checked), median(t.unchecked)];
    const unit = n >= 1000 ? `${c.toFixed(3)} ms / ${u.toFixed(3)} ms` : `${(c * 1e6).toFixed(0)} ns / ${(u * 1e6).toFixed(0)} ns`;
    console.log(`  n = ${n}: checked / unchecked ${unit} per call, ratio ${(c / u).toFixed(3)}, difference ${((c - u) * 1e6).toFixed(0)} ns`);
  }
}
