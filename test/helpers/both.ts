/**
 * For the transforms that rearrange emitted code without changing what it computes (loop
 * fusion, combined sums): compiles a source with the transform on and off, and checks
 * both gradients against finite differences, the values against the original, and the
 * two gradients against each other.
 */
import { expect } from "vitest";
import type { CompileOptions } from "../../compiler/index.ts";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { rand } from "../../runtime/index.ts";
import { compileAndLoad } from "./load.ts";
import { typeErrors } from "./typecheck.ts";

/** Rosenbrock's function as a `number[]` loop, on source line 5. */
export const ROSENBROCK = `/** @differentiable */
export function rosenbrock(x: number[]): number {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) {
    s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
  }
  return s;
}
`;

/** `n` numbers drawn uniformly from [lo, hi) with `seed`. */
export const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);

const flat = (g: unknown): number[] => (typeof g === "number" ? [g] : Array.from(g as ArrayLike<number>));

/** Compiles `source` by default (`on`) and with `off`; checks both at 8 points `args(seed)`; returns both outputs. */
export async function bothWays(source: string, name: string, args: (seed: number) => unknown[], off: CompileOptions): Promise<{ on: string; off: string }> {
  const on = await compileAndLoad(source);
  const apart = await compileAndLoad(source, "model.ts", off);
  expect(typeErrors(on.output), on.output).toEqual([]);
  const params = /\(([^)]*)\)/.exec(source.slice(source.indexOf(`function ${name}(`)))![1]!.split(",").map((p) => p.split(":")[0]!.trim());
  for (let seed = 1; seed <= 8; seed++) {
    const a = args(seed);
    const g = on.grad[`${name}_grad`]!(...a);
    const h = apart.grad[`${name}_grad`]!(...a);
    expect(g.value, on.output).toBe(on.original[name]!(...a));
    const result = gradcheck(on.original[name]!, on.grad[`${name}_grad`]!, a as number[], { names: params });
    expect(result.ok, `${result.report}\n${on.output}`).toBe(true);
    for (const k of Object.keys(h.grad)) {
      const [x, y] = [flat(g.grad[k]), flat(h.grad[k])];
      expect(x.length).toBe(y.length);
      x.forEach((v, i) => expect(v, `d${k}[${i}]\n${on.output}`).toBeCloseTo(y[i]!, 12));
    }
  }
  return { on: on.output, off: apart.output };
}
