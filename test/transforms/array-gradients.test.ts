/**
 * The gradient of an array parameter is a Float64Array of its length, whatever the array's
 * type (`number[]`, `Float64Array`) and wherever the gradient comes from: element sums, a
 * custom backward returning a `number[]`, an array result's `dout`. (A `readonly number[]`
 * parameter is a constant: parse refuses it in `@wrt`.)
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { compileAndLoad } from "../helpers/load.ts";
import { typeErrors } from "../helpers/typecheck.ts";

describe("an array's gradient", () => {
  it("is a Float64Array for number[] and Float64Array parameters, and type-checks beside a readonly number[] constant", async () => {
    const source = `/** @differentiable */
export function f(a: number[], b: readonly number[], c: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i] * c[i];
  return s;
}
`;
    const { original, grad, output } = await compileAndLoad(source);
    expect(typeErrors(output), output).toEqual([]);
    const args = [[1, 2], [3, 4], Float64Array.of(5, 6)];
    const r = grad.f_grad!(...args);
    expect(Object.keys(r.grad)).toEqual(["a", "c"]);
    for (const k of ["a", "c"]) expect(r.grad[k], k).toBeInstanceOf(Float64Array);
    expect([...r.grad.a]).toEqual([15, 24]);
    expect(gradcheck(original.f!, grad.f_grad!, args as unknown as number[]).ok).toBe(true);
  });

  it("is a Float64Array when a custom backward returning a number[] gives all of it", async () => {
    // (a relative import of its own, so that the gradient imports this module as \`./model.ts\`)
    const source = `import { relu } from "../runtime/index.ts";

/**
 * @gradient sumSquaresBackward
 */
export function sumSquares(x: number[]): number {
  let s = 0;
  for (const v of x) s += v * v;
  return s;
}

export function sumSquaresBackward(x: number[], out: number, dout: number): number[] {
  return x.map((v) => 2 * v * dout + relu(0));
}

/** @differentiable */
export function f(x: number[]): number {
  return sumSquares(x);
}
`;
    // (not type-checked here: the in-memory checker cannot see ./model.ts; fixtures/custom.grad.ts is)
    const { original, grad, output } = await compileAndLoad(source);
    expect(output).toContain("const dx = Float64Array.from(sumSquaresBackward(x, value, dout));");
    const r = grad.f_grad!([1, -2, 3]);
    expect(r.grad.x).toBeInstanceOf(Float64Array);
    expect([...r.grad.x]).toEqual([2, -4, 6]);
    expect(gradcheck(original.f!, grad.f_grad!, [[1, -2, 3]]).ok).toBe(true);
  });

  it("of a function returning an array takes dout as any ArrayLike (a Float64Array gradient from the next stage too)", async () => {
    const source = `/** @differentiable */
export function f(x: number[]): number[] {
  const y = x.slice();
  for (let i = 0; i < y.length; i++) y[i] = y[i] * y[i];
  return y;
}
`;
    const { grad, output } = await compileAndLoad(source);
    expect(typeErrors(output), output).toEqual([]);
    expect(output).toContain("dout: ArrayLike<number>");
    for (const dout of [[1, 1], Float64Array.of(1, 1)]) {
      const r = grad.f_grad!([3, 4], dout);
      expect(r.grad.x).toBeInstanceOf(Float64Array);
      expect([...r.grad.x]).toEqual([6, 8]);
    }
  });
});
