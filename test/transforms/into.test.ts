/**
 * `@into`: the gradient writes array parameters' gradients into arrays the caller passes
 * (a last, optional argument), overwriting whatever they held, and returns those arrays.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { rand } from "../../runtime/index.ts";
import { compileAndLoad } from "../helpers/load.ts";
import { typeErrors } from "../helpers/typecheck.ts";

const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);

const SOURCE = `/**
 * @differentiable
 * @into
 */
export function f(w: number, xs: number[], ys: Float64Array, unused: number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    const r = w * xs[i] - ys[i];
    s += r * r;
  }
  return Math.log(1 + s);
}
`;

describe("@into", () => {
  for (const fuse of [true, false]) {
    it(`overwrites and returns the caller's arrays, with the same gradient as new ones${fuse ? "" : " (--no-fuse)"}`, async () => {
      const { original, grad, output } = await compileAndLoad(SOURCE, "model.ts", { fuse });
      expect(typeErrors(output), output).toEqual([]);
      expect(output).toContain("into?: { xs?: Float64Array; ys?: Float64Array; unused?: Float64Array }");
      const f_grad = grad.f_grad!;
      for (let seed = 1; seed <= 5; seed++) {
        const args = [uniform(1, seed)[0]!, uniform(4, seed + 1), Float64Array.from(uniform(4, seed + 2)), uniform(3, seed + 3)];
        const fresh = f_grad(...args);
        expect(gradcheck(original.f!, f_grad, args as number[]).ok).toBe(true);
        // arrays holding garbage from a previous step
        const into = { xs: Float64Array.from(uniform(4, 99), (v) => v * 1e6), ys: new Float64Array(4).fill(NaN), unused: new Float64Array(3).fill(7) };
        const given = f_grad(...args, 1, into);
        expect(given.value).toBe(fresh.value);
        expect(given.grad.w).toBe(fresh.grad.w);
        expect(given.grad.xs).toBe(into.xs);
        expect(given.grad.ys).toBe(into.ys);
        expect(given.grad.unused).toBe(into.unused);
        expect([...given.grad.xs]).toEqual([...fresh.grad.xs]);
        expect([...given.grad.ys]).toEqual([...fresh.grad.ys]);
        expect([...given.grad.unused]).toEqual([0, 0, 0]);
        expect(fresh.grad.xs).toBeInstanceOf(Float64Array);
        // some arrays given, others not
        const partial = f_grad(...args, 1, { ys: new Float64Array(4).fill(3) });
        expect([...partial.grad.ys]).toEqual([...fresh.grad.ys]);
        expect(partial.grad.xs).not.toBe(fresh.grad.xs);
        expect(partial.grad.xs).toEqual(fresh.grad.xs);
      }
    });
  }

  it("names its parameter around a user's `into`", async () => {
    const { output } = await compileAndLoad(`/**
 * @differentiable
 * @into
 */
export function f(into: number[]): number {
  return into[0] * into[1];
}
`);
    expect(output).toContain("export function f_grad(into: number[], dout = 1, into_1?: { into?: Float64Array })");
    expect(output).toContain("const dinto = into_1?.into?.fill(0) ?? new Float64Array(into.length);");
  });

  it("is an error without a differentiated array parameter, or with names", async () => {
    const errors = async (source: string) => (await compile(source, "m.ts")).diagnostics.map((d) => formatDiagnostic(d, source));
    expect(await errors(`/**
 * @differentiable
 * @into
 * @wrt w
 */
export function f(w: number, xs: number[]): number {
  return w * xs[0];
}
`)).toEqual([expect.stringMatching(/^m\.ts:3:\d+: error: @into writes the gradients of array parameters into arrays the caller passes, but `f` differentiates no `number\[\]` or `Float64Array` parameter/)]);
    expect(await errors(`/**
 * @differentiable
 * @into xs
 */
export function f(xs: number[]): number {
  return xs[0];
}
`)).toEqual([expect.stringMatching(/^m\.ts:3:\d+: error: @into takes no names: it applies to every differentiated array parameter/)]);
  });
});
