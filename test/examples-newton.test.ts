/**
 * The Newton example (examples/newton) as a newcomer runs it, at a small n: the generated
 * module must be the one in the repository, and Newton–CG on `rosenbrock_hvp` must reach a
 * lower value than gradient descent given the same budget of evaluations.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/index.ts";
import { COST, gradientDescent, newtonCg, startingPoint } from "../examples/newton/optimize.ts";

describe("examples/newton", () => {
  it("has its gradient and H·v module up to date with the compiler", async () => {
    const source = readFileSync("examples/newton/model.ts", "utf8");
    const { output } = await compile(source, "examples/newton/model.ts");
    expect(output).toBe(readFileSync("examples/newton/model.grad.ts", "utf8"));
  });

  it("prints both runs, Newton-CG lower than gradient descent in the same budget, and writes the plot", () => {
    const out = join(mkdtempSync(join(tmpdir(), "tsgrad-newton-")), "loss.svg");
    const log = execFileSync(process.execPath, ["--import", "tsx", "examples/newton/main.ts", "--n", "100", "--budget", "400", "--out", out], { encoding: "utf8" });
    const row = (method: string) => {
      const cells = log.split("\n").find((l) => l.startsWith(method))!.slice(method.length).trim().split(/\s+/);
      return { iterations: Number(cells[0]), evaluations: Number(cells[1]), value: Number(cells[4]) };
    };
    const [newton, descent] = [row("Newton-CG"), row("gradient descent")];
    expect(newton.evaluations).toBeLessThanOrEqual(400);
    expect(descent.evaluations).toBeLessThanOrEqual(400);
    expect(newton.value).toBeLessThan(descent.value);
    expect(newton.value).toBeLessThan(1e-12); // converged: the minimum is 0
    const svg = readFileSync(out, "utf8");
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  }, 60_000);

  it("counts every call against the budget: gradients 1, H·v products 2, never over it", () => {
    for (const budget of [1, 7, 50, 120]) {
      for (const run of [newtonCg(startingPoint(30), { budget }), gradientDescent(startingPoint(30), { budget })]) {
        expect(run.evaluations).toBe(run.gradEvaluations * COST.grad + run.hvpEvaluations * COST.hvp);
        expect(run.evaluations).toBeLessThanOrEqual(budget);
        expect(run.trace.values.every((v, i) => i === 0 || v <= run.trace.values[i - 1]!)).toBe(true);
      }
    }
  });
});
