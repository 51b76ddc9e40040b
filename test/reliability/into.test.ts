/**
 * Promise: `@into` buffers are checked before anything writes to them. A buffer that is not
 * a Float64Array (the type of every array's gradient, a `number[]`'s too), of the wrong
 * length, or that is one of the arguments (or another buffer) is a
 * TypeError naming it, and the caller's arrays are left as they were. Before, `f_grad(x, 1,
 * { x })` zeroed the caller's x and returned a wrong value and gradient, silently.
 */
import { describe, expect, it } from "vitest";
import { compileAndLoad } from "../helpers/load.ts";

const SOURCE = `/**
 * @differentiable
 * @into
 * @wrt w xs ys
 */
export function f(w: number, xs: number[], ys: Float64Array, targets: Float64Array): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    const r = w * xs[i] * ys[i] - targets[i];
    s += r * r;
  }
  return s;
}
`;

const args = () => [0.5, [1, 2, 3], Float64Array.of(4, 5, 6), Float64Array.of(0.1, 0.2, 0.3)] as const;

describe("@into buffers", () => {
  it("a buffer that is an argument, another buffer, of the wrong length or kind throws a TypeError naming it, and changes nothing", async () => {
    const { grad, output } = await compileAndLoad(SOURCE, "model.ts");
    expect(output).toContain('if (into) checkInto("f_grad", into, { xs, ys }, [targets]);');
    const f_grad = grad.f_grad!;
    const cases: [string, (a: ReturnType<typeof args>) => object, RegExp][] = [
      ["its own parameter", ([, , ys]) => ({ ys }), /^f_grad: into\.ys must be a Float64Array of length 3 \(ys\.length\): it is also an argument or another buffer/],
      ["another parameter", ([, , ys]) => ({ xs: ys }), /^f_grad: into\.xs must be a Float64Array of length 3 \(xs\.length\): it is also an argument or another buffer/],
      ["another argument", ([, , , targets]) => ({ xs: targets }), /^f_grad: into\.xs must be .*: it is also an argument/],
      ["the wrong length", () => ({ xs: new Float64Array(2) }), /^f_grad: into\.xs must be a Float64Array of length 3 \(xs\.length\): its length is 2$/],
      ["the wrong kind (a Float32Array)", () => ({ ys: new Float32Array(3) }), /^f_grad: into\.ys must be a Float64Array of length 3 \(ys\.length\): it is a Float32Array$/],
      ["the wrong kind (a number[] for a number[] parameter, whose gradient is a Float64Array)", () => ({ xs: [0, 0, 0] }), /^f_grad: into\.xs must be a Float64Array of length 3 \(xs\.length\): it is a number\[\]$/],
      ["not an array at all", () => ({ xs: 3 }), /^f_grad: into\.xs must be a Float64Array of length 3 \(xs\.length\): it is a number$/],
    ];
    for (const [what, into, message] of cases) {
      const a = args();
      const copies = a.map((v) => (typeof v === "number" ? v : [...v]));
      const given = into(a);
      expect(() => f_grad(...a, 1, given), what).toThrow(TypeError);
      expect(() => f_grad(...a, 1, given), what).toThrow(message);
      expect(a.map((v) => (typeof v === "number" ? v : [...v])), `${what}: the arguments changed`).toEqual(copies);
    }
  });

  it("the same array given for two parameters is refused", async () => {
    const { grad } = await compileAndLoad(SOURCE.replace("ys: Float64Array", "ys: number[]"), "model.ts");
    const shared = new Float64Array(3).fill(9);
    expect(() => grad.f_grad!(0.5, [1, 2, 3], [4, 5, 6], Float64Array.of(0, 0, 0), 1, { xs: shared, ys: shared })).toThrow(/into\.xs .*: it is also an argument or another buffer/);
  });

  it("good buffers, null or undefined for some, and no into at all give the same gradient as before", async () => {
    const { grad } = await compileAndLoad(SOURCE, "model.ts");
    const f_grad = grad.f_grad!;
    const fresh = f_grad(...args());
    const into = { xs: Float64Array.of(NaN, 7, 1e9), ys: new Float64Array(3).fill(-1) };
    const given = f_grad(...args(), 1, into);
    expect(given.grad.xs).toBe(into.xs);
    expect(given.grad.ys).toBe(into.ys);
    expect([...given.grad.xs]).toEqual([...fresh.grad.xs]);
    expect([...given.grad.ys]).toEqual([...fresh.grad.ys]);
    expect([...f_grad(...args(), 1, { xs: null, ys: undefined }).grad.xs]).toEqual([...fresh.grad.xs]);
    expect(given.value).toBe(fresh.value);
    expect(fresh.grad.xs).toBeInstanceOf(Float64Array);
    expect(fresh.grad.ys).toBeInstanceOf(Float64Array);
  });
});
