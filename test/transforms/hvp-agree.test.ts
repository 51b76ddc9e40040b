/**
 * Forward over reverse against reverse over reverse: for every fixture function that
 * `--hvp` gives an `f_hvp`, the module `f_along(x.., v..) = ⟨∇f(x), v⟩` written over the
 * generated `f_grad` (test/helpers/own-output.ts) is compiled, and its gradient with respect
 * to the x parameters (H·v, reverse mode twice) equals `f_hvp`'s `hvp` (the tangent of
 * `f_grad` along v) to 1e-9, relative and absolute, at several random points. Two
 * derivations of the same number: a disagreement is a bug in one of them.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { outputPath } from "../../compiler/cli.ts";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { rand } from "../../runtime/index.ts";
import { ANY, ARRAY_INPUTS, DOMAINS, uniform } from "../helpers/fixture-inputs.ts";
import { fixtureInputs } from "../helpers/fixtures.ts";
import { loadBeside, loadFile, readFixture } from "../helpers/load.ts";
import { alongModule, gradFunctions, type GradFunction } from "../helpers/own-output.ts";

const POINTS = 4;
const TOL = 1e-9;

/** The arguments of `fn` at point `p`: the fixtures' own tables, or its domains when every parameter is a number. */
function argsFor(fn: GradFunction, p: number): unknown[] | null {
  const seed = 100 * p + 1;
  if (ARRAY_INPUTS[fn.name]) return ARRAY_INPUTS[fn.name]!(seed);
  if (!fn.params.every((q) => q.type === "number" || DOMAINS[fn.name]?.[q.name])) return null;
  const u = rand([fn.params.length], 1000 + seed).data;
  return fn.params.map((q, j) => (DOMAINS[fn.name]?.[q.name] ?? ANY)(u[j]!));
}

/**
 * The functions with an `f_hvp` whose ⟨∇f, v⟩ tsgrad does not compile yet, with the start of
 * its error (as in test/compiler/own-output.test.ts's NOT_YET, by name or `file:name`);
 * the test fails when one compiles, so the list only shrinks.
 */
const NOT_YET: Record<string, string> = {
  // `into?: { x?: Float64Array }`, and `if (into) checkInto(...)`
  "fixtures/loops.ts:rosenbrock": "an optional parameter",
  // a tape of branch conditions, `new Array<boolean>(n)` written `conds[i] = cond`: arrays hold numbers
  switchInLoop: "`store` needs a number as argument 3, got a boolean",
  // the flags a labelled jump keeps per outer iteration (`dones: boolean[]`, `skips.pop()`)
  breakOuter: "`dones` has type `boolean[]`",
};

/** The functions compared (77 when written), and the largest difference seen, relative to 1 + |H·v|. */
const compared: string[] = [];
let worst = 0;
const excluded: string[] = [];

describe("f_hvp (forward over reverse) equals the gradient of ⟨∇f, v⟩ (reverse over reverse)", () => {
  afterAll(() => {
    if (process.env.HVP_COUNT) console.log(`compared ${compared.length}: ${compared.join(" ")}\nexcluded ${excluded.length}: ${excluded.join("; ")}\nworst ${worst}`);
    expect(compared.length).toBeGreaterThanOrEqual(77);
  });
  it.each(fixtureInputs())("%s", async (input) => {
    const source = readFileSync(input, "utf8");
    const { output, diagnostics } = await compile(source, input, { readFile: readFixture, hvp: true });
    expect(diagnostics).toEqual([]);
    const gradPath = outputPath(input);
    const modules = new Map();
    const generated = loadBeside(output!, input, modules);
    const golden = loadFile(gradPath, modules);
    for (const fn of gradFunctions(gradPath, input)) {
      const fHvp = generated[`${fn.name}_hvp`];
      if (!fHvp) continue;
      const fGrad = golden[`${fn.name}_grad`]!;
      // the module this test writes takes numbers and flat arrays: records, tuples, rows and
      // Tensors get their f_hvp checked against differences of f_grad in hvp.test.ts instead
      const shaped = fn.params.find((q) => !/^(number|number\[\]|readonly number\[\]|Float64Array|ArrayLike<number>)$/.test(q.type.trim()));
      if (shaped) {
        excluded.push(`${fn.name}: \`${shaped.name}: ${shaped.type}\` is not a number or a flat array`);
        continue;
      }
      const first = argsFor(fn, 0);
      expect.soft(first, `${fn.name}: no inputs are drawn for it (test/helpers/fixture-inputs.ts)`).not.toBeNull();
      if (!first) continue;
      const grad = fGrad(...first).grad as Record<string, unknown>;
      const along = alongModule(gradPath, fn, grad);
      const result = await compile(along.text, along.path, { readFile: readFixture });
      const expected = NOT_YET[`${input}:${fn.name}`] ?? NOT_YET[fn.name];
      if (expected) {
        expect.soft(result.diagnostics.map((d) => d.message).join("\n"), "compiles now: take it off NOT_YET").toContain(expected);
        excluded.push(`${fn.name}: ${expected}`);
        continue;
      }
      expect.soft(result.diagnostics.map((d) => formatDiagnostic(d, along.text)), along.text).toEqual([]);
      if (result.output === null) continue;
      const gAlong = loadBeside(result.output!, along.path, modules)[`${along.name}_grad`]!;
      for (let p = 0; p < POINTS; p++) {
        const args = argsFor(fn, p)!;
        const dirs = Object.entries(fGrad(...args).grad as Record<string, unknown>).map(([, g], j) => (typeof g === "number" ? uniform(1, 7 * p + 31 * j + 3)[0]! : uniform((g as ArrayLike<number>).length, 7 * p + 31 * j + 3)));
        const v = Object.fromEntries(Object.keys(grad).map((k, j) => [k, dirs[j]]));
        const hvp = fHvp(...args, v).hvp as Record<string, unknown>;
        const rr = gAlong(...args, ...dirs).grad as Record<string, unknown>;
        expect.soft(Object.keys(rr).sort()).toEqual(Object.keys(hvp).sort());
        for (const k of Object.keys(hvp)) {
          const a = typeof hvp[k] === "number" ? [hvp[k] as number] : Array.from(hvp[k] as ArrayLike<number>);
          const b = typeof rr[k] === "number" ? [rr[k] as number] : Array.from(rr[k] as ArrayLike<number>);
          expect.soft(b.length, `${fn.name} ${k}`).toBe(a.length);
          a.forEach((x, q) => { worst = Math.max(worst, Math.abs(x - b[q]!) / (1 + Math.abs(x))); });
          const bad = a.map((x, q) => [q, x, b[q]!] as const).filter(([, x, y]) => !(Math.abs(x - y) <= TOL + TOL * Math.max(Math.abs(x), Math.abs(y))));
          expect.soft(bad, `${fn.name}_hvp's hvp.${k} against ${along.name}_grad's grad.${k} at point ${p}`).toEqual([]);
        }
      }
      compared.push(fn.name);
    }
  }, 120_000);
});
