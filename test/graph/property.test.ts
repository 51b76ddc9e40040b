/**
 * Random programs (fast-check): straight-line code over numbers, Math functions, the
 * runtime's sigmoid, max, ternaries and a counted loop over an array, with values reused
 * (fan-out). For each, the graph evaluator's result and gradients equal the compiled
 * f_grad's, and the picture's scene is consistent: every fork's branches add up to its
 * trunk, and every input's wire carries f_grad's gradient.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../compiler/graph/evaluate.ts";
import { buildScene } from "../../compiler/graph/scene.ts";
import { addGrad, numbersOf } from "../../compiler/graph/values.ts";
import { parse } from "../../compiler/parse/parse.ts";
import { compileAndLoad } from "../helpers/load.ts";

type Ex = string;
const SCALARS = ["a", "b", "c"];

/** An expression over the names in scope; every operation is defined on all reals. */
const expr = (names: readonly string[]): fc.Arbitrary<Ex> =>
  fc.letrec<{ e: Ex }>((tie) => ({
    e: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom(...names),
      fc.constantFrom("0.5", "2", "-1.5"),
      fc.tuple(tie("e"), fc.constantFrom("+", "-", "*"), tie("e")).map(([x, op, y]) => `(${x} ${op} ${y})`),
      fc.tuple(tie("e"), tie("e")).map(([x, y]) => `(${x} / (1 + ${y} * ${y}))`),
      fc.tuple(fc.constantFrom("Math.sin", "Math.tanh", "sigmoid", "Math.atan"), tie("e")).map(([f, x]) => `${f}(${x})`),
      fc.tuple(tie("e"), tie("e")).map(([x, y]) => `Math.max(${x}, ${y})`),
      fc.tuple(tie("e"), tie("e"), tie("e")).map(([t, x, y]) => `(${t} > 0 ? ${x} : ${y})`),
    ),
  })).e;

/** A module with one differentiable function of a, b, c and xs: some consts, maybe a loop, a result. */
const program: fc.Arbitrary<string> = fc.integer({ min: 1, max: 4 }).chain((n) => {
  const steps = Array.from({ length: n }, (_, k) => expr([...SCALARS, ...Array.from({ length: k }, (__, j) => `t${j}`)]));
  const temps = Array.from({ length: n }, (_, j) => `t${j}`);
  return fc.tuple(fc.tuple(...steps), fc.option(expr([...SCALARS, ...temps, "x"]), { nil: undefined }), expr([...SCALARS, ...temps])).map(([body, loop, result]) => {
    const lines = body.map((e, j) => `  const t${j} = ${e};`);
    if (loop !== undefined) {
      lines.push("  let s = 0;", "  for (let i = 0; i < xs.length; i++) {", "    const x = xs[i];", `    s += ${loop};`, "  }");
    }
    const ret = loop !== undefined ? `(${result}) + s` : result;
    return [
      `import { sigmoid } from "../runtime/index.ts";`,
      "/** @differentiable */",
      "export function f(a: number, b: number, c: number, xs: number[]): number {",
      ...lines,
      `  return ${ret};`,
      "}",
      "",
    ].join("\n");
  });
});

const point = fc.tuple(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }));
const close = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => Math.abs(v - y[i]!) <= 1e-9 * (1 + Math.abs(y[i]!)));

describe("the graph of random programs", () => {
  it("agrees with f_grad, and its forks' branches add up to their trunks", async () => {
    await fc.assert(
      fc.asyncProperty(program, point, async (source, [a, b, c, xs]) => {
        const { grad: module } = await compileAndLoad(source, "fixtures/random.ts");
        const fn = parse(source, "fixtures/random.ts").functions[0]!;
        const args = [a, b, c, xs];
        const expected = module.f_grad!(...args) as { value: number; grad: Record<string, number | number[]> };
        const ev = evaluate(fn, args);
        expect(close(numbersOf(ev.value), [expected.value])).toBe(true);
        for (const p of Object.keys(expected.grad)) expect(close(numbersOf(ev.grad[p]), numbersOf(expected.grad[p])), `${p} in\n${source}`).toBe(true);
        for (const unroll of [0, 8]) {
          const scene = buildScene(ev, { unroll, depth: Infinity });
          for (const trunk of scene.wires.filter((w) => w.role === "trunk" && w.grad !== undefined)) {
            const parts = scene.wires.filter((w) => w.role === "branch" && w.from === trunk.to && w.grad !== undefined).map((w) => w.grad!);
            expect(close(numbersOf(parts.reduce((x, y) => addGrad(x, y))), numbersOf(trunk.grad!))).toBe(true);
          }
          fn.params.forEach((p, i) => {
            const wire = scene.wires.find((w) => w.from === `in:${i}` && w.role !== "branch");
            if (wire?.grad !== undefined) expect(close(numbersOf(wire.grad), numbersOf(expected.grad[p.name])), `${p.name} in\n${source}`).toBe(true);
          });
        }
      }),
      { seed: 20261202, numRuns: 40 },
    );
  });
});
