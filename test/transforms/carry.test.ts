/**
 * Carrying a neighbour's gradient to the next iteration (transforms/carry.ts): a loop that
 * adds to dx[i] and dx[i + 1] keeps the second in a variable, added where the next
 * iteration adds to that element; on a gradient of zeros that sum is a store. Each case is
 * checked against finite differences and against the gradient compiled without it.
 */
import { describe, expect, it } from "vitest";
import { bothWays, ROSENBROCK, uniform } from "../helpers/both.ts";
import { compileAndLoad } from "../helpers/load.ts";

const both = async (source: string, name: string, args: (seed: number) => unknown[]) => {
  const { on, off } = await bothWays(source, name, args, { combine: false });
  return { carried: on, apart: off };
};

describe("carrying a neighbour's gradient", () => {
  it("Rosenbrock: dx[i + 1]'s sum becomes dxNext, stored into dx[i] next iteration and added to the last element after the loop", async () => {
    const { carried, apart } = await both(ROSENBROCK, "rosenbrock", (seed) => [uniform(6, seed, -1.5, 1.5)]);
    expect(carried).toContain("let dxNext = 0;");
    expect(carried).toMatch(/dx\[i\] = 2 \* x\[i\]! \* dpow - ddiff_1 \+ dxNext;/);
    expect(carried).toContain("dxNext = ddiff;");
    expect(carried).toContain("dx[x.length - 1]! += dxNext;");
    expect(carried).not.toContain("dx[i + 1]");
    expect(apart).toContain("dx[i + 1]! += ddiff;");
  });

  it("gives the same gradient for arrays of length 0, 1 and 2 (the loop runs no times, or once)", async () => {
    const { original, grad } = await compileAndLoad(ROSENBROCK);
    for (const x of [[], [0.3], [0.3, -0.7]]) {
      const r = grad.rosenbrock_grad!(x);
      expect(r.value).toBe(original.rosenbrock!(x));
      expect(r.grad.x).toBeInstanceOf(Float64Array);
      expect(r.grad.x.length).toBe(x.length);
    }
    const [a, b] = [0.3, -0.7];
    const g = grad.rosenbrock_grad!([a, b]).grad.x as Float64Array;
    expect(g[0]).toBeCloseTo(-400 * (b - a * a) * a - 2 * (1 - a), 12);
    expect(g[1]).toBeCloseTo(200 * (b - a * a), 12);
  });

  it("carries a difference looking back (x[i - 1]), a negated sum too", async () => {
    const { carried } = await both(`/** @differentiable */
export function f(x: number[], w: number): number {
  let s = 0;
  for (let i = 1; i < x.length; i++) {
    const d = x[i] - x[i - 1];
    s += w * d * d;
  }
  return s * x[0];
}
`, "f", (seed) => [uniform(5, seed), uniform(1, seed + 9)[0]]);
    expect(carried).toContain("dx[i - 1] = dxNext - dd;");
    expect(carried).toContain("dx[x.length - 1]! += dxNext;");
  });

  it("carries in a loop that runs down, adding (not storing) where the gradient already holds a sum", async () => {
    const { carried } = await both(`/** @differentiable */
export function f(x: number[]): number {
  let h = 0;
  for (let i = 0; i < x.length - 1; i++) {
    h = Math.tanh(h + x[i] * x[i + 1]);
  }
  return h * x[1];
}
`, "f", (seed) => [uniform(6, seed)]);
    expect(carried).toMatch(/for \(let i = x\.length - 2; i >= 0; i--\)/);
    expect(carried).toContain("dx[i + 1]! += x[i]! * dsum + dxNext;");
    expect(carried).toContain("dx[0]! += dxNext;");
  });

  it("leaves a loop alone that touches three neighbours", async () => {
    const { carried } = await both(`/** @differentiable */
export function g(x: number[]): number {
  let s = 0;
  for (let i = 1; i < x.length - 1; i++) {
    const l = x[i - 1] - 2 * x[i] + x[i + 1];
    s += l * l;
  }
  return s;
}
`, "g", (seed) => [uniform(6, seed)]);
    expect(carried).not.toMatch(/Next/);
  });
});
