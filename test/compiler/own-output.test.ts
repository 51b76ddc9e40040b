/**
 * Its own output (issue 11): every generated `f_grad` of the fixtures, called inside a
 * `@differentiable` function as a user would (test/helpers/own-output.ts), compiles, and the
 * gradient of that function (reverse over reverse: the value's gradient plus a
 * Hessian-vector product) matches finite differences of it.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { outputPath } from "../../compiler/cli.ts";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { gradcheck, rand, randn, type Tensor } from "../../runtime/index.ts";
import { ANY, ARRAY_INPUTS, DOMAINS, TENSOR_INPUTS, uniform } from "../helpers/fixture-inputs.ts";
import { fixtureInputs } from "../helpers/fixtures.ts";
import { loadBeside, loadFile, readFixture } from "../helpers/load.ts";
import { gradFunctions, ownModule, type GradFunction } from "../helpers/own-output.ts";

const POINTS = 3;

/** The arguments of `fn` at point `p`, from the fixtures' own tables. */
function argsFor(fn: GradFunction, p: number): unknown[] {
  const seed = 100 * p + 1;
  const table = ARRAY_INPUTS[fn.name] ?? (TENSOR_INPUTS[fn.name] && ((s: number) => TENSOR_INPUTS[fn.name]!(s).args));
  if (table) return table(seed);
  const u = rand([fn.params.length], 1000 + seed).data;
  return fn.params.map((param, j) => (DOMAINS[fn.name]?.[param.name] ?? ANY)(u[j]!));
}

/** A `dout` shaped like `y`, for a result that is not a number. */
const seedLike = (y: unknown, s: number) => ("shape" in (y as object) ? randn((y as Tensor).shape, s) : uniform((y as ArrayLike<number>).length, s));

/**
 * The generated gradients that are not accepted yet, each with the start of its error (by
 * function name, or `file:name` where two fixtures share one); the test fails when one
 * compiles, so the list only shrinks.
 */
const NOT_YET: Record<string, string> = {
  // a Tensor's shape, read by the gradient's start (`full(avg.shape, dout)`), is not input code yet
  svmLoss: "property access `avg.shape` is not supported",
  twoLayer: "property access `avg.shape` is not supported",
  // a tape of Tensors (`hs[i] = h`, `hs: Tensor[]`): arrays hold numbers
  deepTanh: "needs a number as argument 3, got a tensor",
  residualStack: "`hs` has type `Tensor[]`",
  // a custom backward that returns a tuple of arrays
  scaledLse: "the result of `weightedLseBackward` has type `[number[], number[]]`",
  // `into?: { x?: Float64Array }`, and `if (into) checkInto(...)`
  "fixtures/loops.ts:rosenbrock": "an optional parameter",
  // a tape of branch conditions, `new Array<boolean>(n)` written `conds[i] = cond`: arrays hold numbers
  switchInLoop: "`store` needs a number as argument 3, got a boolean",
  // the flags a labelled jump keeps per outer iteration (`dones: boolean[]`, `skips.pop()`)
  breakOuter: "`dones` has type `boolean[]`",
  // a number[][] gradient: rows written dW[i]![j]! += v, and r.grad.W[i].length read by the wrapper
  softmaxLoss: "only a local array variable can be written into",
  matvecError: "only a local array variable can be written into",
  twoLayerRows: "only a local array variable can be written into",
  quadratic: "only a local array variable can be written into",
  // a tuple `dout` (`dout: [number, number]`) read whole
  rotate: "`dout` is a tuple",
};

/** A straight-through estimator: its gradient is by design not a derivative, so its own gradient is not checked. */
const NOT_DERIVATIVES = new Set(["quantizedUnit"]);

const cases = fixtureInputs().filter((f) => existsSync(outputPath(f)));

describe.each(cases)("the generated gradients of %s, differentiated", (input) => {
  const gradPath = outputPath(input);
  it.each(gradFunctions(gradPath, input).map((fn) => [fn.name, fn] as const))("%s_grad inside a @differentiable function", async (_, fn) => {
    const modules = new Map();
    const generated = loadFile(gradPath, modules);
    const fGrad = generated[`${fn.name}_grad`]!;
    const original = loadFile(input, modules)[fn.name]!;
    const pointAt = (p: number) => {
      const args = argsFor(fn, p);
      return [...args, ...(fn.dout ? [seedLike(original(...args), 7 * p + 3)] : [])];
    };
    // the module is written from one result of f_grad (which fields, arrays and Tensors it has), then checked at several points
    const own = ownModule(gradPath, fn, fGrad(...pointAt(0)));
    const { output, diagnostics } = await compile(own.text, own.path, { readFile: readFixture });
    const expected = NOT_YET[`${input}:${fn.name}`] ?? NOT_YET[fn.name];
    if (expected) {
      expect(diagnostics.map((d) => d.message).join("\n"), "compiles now: take it off NOT_YET").toContain(expected);
      return;
    }
    expect(diagnostics.map((d) => formatDiagnostic(d, own.text)), own.text).toEqual([]);
    if (NOT_DERIVATIVES.has(fn.name)) return;
    const compiled = loadBeside(output!, own.path, modules);
    const f = loadBeside(own.text, own.path, modules)[own.name]!;
    for (let p = 0; p < POINTS; p++) {
      const result = gradcheck(f, compiled[`${own.name}_grad`]!, pointAt(p) as number[], { names: own.params, atol: 1e-5, rtol: 1e-4 });
      expect(result.ok, result.report).toBe(true);
    }
  });
});

describe("reverse over reverse (fixtures/gradient_penalty.ts)", () => {
  it("the gradient of ⟨∇_w L, v⟩ is H·v: central differences of the generated gradient along v", () => {
    const modules = new Map();
    const { logLoss_grad } = loadFile("fixtures/loss.grad.ts", modules);
    const { gradAlong_grad } = loadFile("fixtures/gradient_penalty.grad.ts", modules);
    for (let p = 0; p < 10; p++) {
      const [w, x, y, v] = ARRAY_INPUTS.gradAlong!(100 * p + 1) as [number[], number[], number, number[]];
      const hv = gradAlong_grad!(w, x, y, v).grad.w as Float64Array;
      const h = 1e-5;
      const plus = logLoss_grad!(w.map((wi, i) => wi + h * v[i]!), x, y).grad.w as Float64Array;
      const minus = logLoss_grad!(w.map((wi, i) => wi - h * v[i]!), x, y).grad.w as Float64Array;
      hv.forEach((got, i) => expect(Math.abs(got - (plus[i]! - minus[i]!) / (2 * h))).toBeLessThan(1e-7 + 1e-6 * Math.abs(got)));
    }
  });
});
