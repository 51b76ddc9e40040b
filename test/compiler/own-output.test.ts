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

const cases = fixtureInputs().filter((f) => existsSync(outputPath(f)));

describe.each(cases)("the generated gradients of %s, differentiated", (input) => {
  const gradPath = outputPath(input);
  it.each(gradFunctions(gradPath, input).map((fn) => [fn.name, fn] as const))("%s_grad inside a @differentiable function", async (_, fn) => {
    const modules = new Map();
    const generated = loadFile(gradPath, modules);
    const fGrad = generated[`${fn.name}_grad`]!;
    for (let p = 0; p < POINTS; p++) {
      const args = argsFor(fn, p);
      const douts = fn.dout ? [seedLike(loadFile(input, modules)[fn.name]!(...args), 7 * p + 3)] : [];
      const sample = fGrad(...args, ...douts);
      const own = ownModule(gradPath, fn, sample);
      const { output, diagnostics } = await compile(own.text, own.path, { readFile: readFixture });
      expect(diagnostics.map((d) => formatDiagnostic(d, own.text)), own.text).toEqual([]);
      const compiled = loadBeside(output!, own.path, modules);
      const f = loadBeside(own.text, own.path, modules)[own.name]!;
      const result = gradcheck(f, compiled[`${own.name}_grad`]!, [...args, ...douts] as number[], { names: own.params, atol: 1e-5, rtol: 1e-4 });
      expect(result.ok, result.report).toBe(true);
    }
  });
});
