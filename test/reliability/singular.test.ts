/**
 * Promise: at the points where a derivative does not exist or the formula breaks, the
 * gradient follows one documented convention (README "Singular points"), PyTorch's where it
 * has one. Expected values are PyTorch's rules, written out:
 *   pow: d/dx = where(y == 0, 0, y * x^(y-1));  d/dy = where(x == 0 & y >= 0, 0, x^y * log x)
 *   sqrt: dout / (2 * sqrt x);  abs: sign(x);  relu: where(result <= 0, 0, dout)
 *   maximum with NaN: the NaN input gets the gradient (it is not hidden)
 */
import { describe, expect, it } from "vitest";
import { compileAndLoad } from "../helpers/load.ts";

type Grad = (...args: number[]) => { value: number; grad: Record<string, number> };
const cache = new Map<string, Grad>();

/** f_grad of `return <body>` over number parameters `params`. */
async function gradOf(body: string, params = ["x", "y"]) {
  const source = `import { relu } from "../runtime/index.ts";\n\n/** @differentiable */\nexport function f(${params.map((p) => `${p}: number`).join(", ")}): number {\n  return ${body};\n}\n`;
  let g = cache.get(source);
  if (!g) {
    g = (await compileAndLoad(source, "fixtures/singular.ts")).grad.f_grad! as Grad;
    cache.set(source, g);
  }
  return g;
}

/** [body, point, value, gradient by parameter] */
type Case = [string, number[], number, Record<string, number>];

const CASES: Record<string, Case[]> = {
  "x ** 0 has no gradient, at 0 too (0 ** 0 is 1)": [
    ["x ** 0", [0, 0], 1, { x: 0 }],
    ["x ** 0", [3, 0], 1, { x: 0 }],
  ],
  "x ** y at x = 0: d/dx is y * x^(y-1) but 0 where y = 0; d/dy is 0 where y >= 0": [
    ["x ** y", [0, 0], 1, { x: 0, y: 0 }],
    ["x ** y", [0, 1], 0, { x: 1, y: 0 }],
    ["x ** y", [0, 2], 0, { x: 0, y: 0 }],
    ["x ** y", [0, 0.5], 0, { x: Infinity, y: 0 }],
    ["x ** y", [0, -1], Infinity, { x: -Infinity, y: -Infinity }],
    ["Math.pow(x, y)", [0, 0], 1, { x: 0, y: 0 }],
    ["Math.pow(x, y)", [0, 3], 0, { x: 0, y: 0 }],
  ],
  "x ** y elsewhere: the formulas, NaN for a negative base's d/dy": [
    ["x ** y", [2, 3], 8, { x: 12, y: 8 * Math.log(2) }],
    ["x ** y", [-2, 2], 4, { x: -4, y: NaN }],
    ["x ** 2", [0, 0], 0, { x: 0 }],
    ["x ** 0.5", [0, 0], 0, { x: Infinity }],
    ["2 ** y", [0, 0], 1, { y: Math.log(2) }],
  ],
  "sqrt at 0 is Infinity, log at 0 is Infinity, abs at 0 is 0 and NaN stays NaN": [
    ["Math.sqrt(x)", [0, 0], 0, { x: Infinity }],
    ["Math.log(x)", [0, 0], -Infinity, { x: Infinity }],
    ["Math.abs(x)", [0, 0], 0, { x: 0 }],
    ["Math.abs(x)", [NaN, 0], NaN, { x: NaN }],
    ["Math.hypot(x, y)", [0, 0], 0, { x: NaN, y: NaN }],
    ["Math.atan2(y, x)", [0, 0], 0, { x: NaN, y: NaN }],
  ],
  "max/min ties go to the first argument that attains the extreme": [
    ["Math.max(x, y)", [1, 1], 1, { x: 1, y: 0 }],
    ["Math.min(x, y)", [1, 1], 1, { x: 1, y: 0 }],
    ["Math.max(x, y, z)", [0, 2, 2], 2, { x: 0, y: 1, z: 0 }],
    ["Math.min(x, y, z)", [3, 1, 1], 1, { x: 0, y: 1, z: 0 }],
    ["Math.max(x, y)", [2, 1], 2, { x: 1, y: 0 }],
  ],
  "a NaN argument of max/min gets the gradient, so the NaN is not hidden": [
    ["Math.max(x, y)", [NaN, 1], NaN, { x: 1, y: 1 }],
    ["Math.max(x, y)", [1, NaN], NaN, { x: 1, y: 1 }],
    ["Math.min(x, y)", [NaN, 1], NaN, { x: 1, y: 1 }],
    ["Math.max(x, y, z)", [NaN, 1, 2], NaN, { x: 1, y: 0, z: 1 }],
  ],
  "relu at 0 has no gradient; at NaN the gradient passes": [
    ["relu(x)", [0, 0], 0, { x: 0 }],
    ["relu(x)", [NaN, 0], NaN, { x: 1 }],
    ["relu(x)", [2, 0], 2, { x: 1 }],
  ],
};

describe("singular points", () => {
  for (const [convention, cases] of Object.entries(CASES)) {
    it(convention, async () => {
      for (const [body, point, value, grad] of cases) {
        const params = /\bz\b/.test(body) ? ["x", "y", "z"] : ["x", "y"];
        const r = (await gradOf(body, params))(...point);
        expect(r.value, `${body} at ${point}`).toBe(value);
        for (const [p, g] of Object.entries(grad)) expect(r.grad[p], `d(${body})/d${p} at ${point}`).toBe(g);
      }
    });
  }

  it("an upstream NaN still reaches the inputs through the masked branches of pow", async () => {
    const r = (await gradOf("x ** y"))(2, 3, NaN);
    expect(r.grad.x).toBeNaN();
    expect(r.grad.y).toBeNaN();
  });
});
