/**
 * Promise: compile time grows with the size of what is compiled, not faster (issue 13).
 * A 5,000-statement straight-line function took 105-135 s and 750 MB; bench/scale.mts times
 * it and the other sizes. Here, without timing anything: the big function compiles to a
 * correct gradient (gradcheck at several points), and so does a module of many functions;
 * the formatting shortcut that makes it fast (compiler/emit/verbatim.ts) is checked against
 * prettier alone in test/emit/verbatim.test.ts.
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { chainModule, manyFunctionsModule } from "../../bench/scale-source.ts";
import { compileAndLoad } from "../helpers/load.ts";

type Scalar = (x: number, y: number) => number;
type Grad = (x: number, y: number, dout?: number) => { value: number; grad: { x: number; y: number } };
const POINTS = [[0.3, -0.7], [1.1, 0.4], [-0.5, 0.9]] as const;

describe("large inputs", () => {
  it("a 5,000-statement function compiles without error to a gradient that passes gradcheck", async () => {
    const { original, grad, output } = await compileAndLoad(chainModule(5000), "chain.ts");
    // one forward line per statement (and the `sin`s hoisted out), then the backward lines
    expect(output.split("\n").length).toBeGreaterThan(2 * 5000);
    expect(output).toContain("const v4999 = ");
    expect(output).toMatch(/const sin_\d{4} = /);
    for (const [x, y] of POINTS) {
      const check = gradcheck(original.f as Scalar, grad.f_grad as Grad, [x, y], { names: ["x", "y"] });
      expect(check.ok, check.report).toBe(true);
      expect((grad.f_grad as Grad)(x, y).value).toBe((original.f as Scalar)(x, y));
    }
  }, 180_000);

  it("a 10,000-line module of 182 functions of 50 statements compiles, each gradient passing gradcheck", async () => {
    const { original, grad, output } = await compileAndLoad(manyFunctionsModule(10_000), "many.ts");
    const names = Object.keys(original).filter((k) => /^f\d+$/.test(k));
    expect(names.length).toBe(182);
    expect(output.match(/^export function f\d+_grad\(/gm)?.length).toBe(names.length);
    for (const name of names) {
      const check = gradcheck(original[name] as Scalar, grad[`${name}_grad`] as Grad, [0.3, -0.7], { names: ["x", "y"] });
      expect(check.ok, `${name}: ${check.report}`).toBe(true);
    }
  }, 180_000);
});
