/**
 * The evaluator the graph draws its numbers from, against two oracles on every fixture
 * function: the generated `f_grad` (the result and every parameter's gradient), and finite
 * differences through the run (every intermediate value's adjoint: nudge that one value,
 * run the rest again, and see how the result moves).
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { outputPath } from "../../compiler/cli.ts";
import { evaluate, type Evaluation } from "../../compiler/graph/evaluate.ts";
import { parseDout, parsePoint } from "../../compiler/graph/point.ts";
import { numbersOf } from "../../compiler/graph/values.ts";
import type { FunctionIR } from "../../compiler/ir/ir.ts";
import { parse } from "../../compiler/parse/parse.ts";
import { fixtureInputs } from "../helpers/fixtures.ts";
import { leafGrad, userArgs } from "../helpers/leaves.ts";
import { loadFile } from "../helpers/load.ts";
import { pointFor } from "./points.ts";

/** Gradients that are by design not the derivative of the value (a straight-through estimator). */
const NOT_DERIVATIVES = new Set(["quantizedUnit"]);

/** Newton's iterations (kepler) stop where a nudge moves their stopping test: a third of its values cannot be checked. */
const LESS_CHECKED: Record<string, number> = { kepler: 0.6 };

const readFile = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : undefined);

/** The largest difference relative to the size of the expected number. */
function maxDifference(actual: unknown, expected: unknown): number {
  const a = numbersOf(actual);
  const e = numbersOf(expected);
  if (a.length !== e.length) return Infinity;
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - e[i]!) / (1 + Math.abs(e[i]!))), 0);
}

/** How the result moves per unit of `by` added to one instance, seen through the upstream gradient. */
function slope(fn: FunctionIR, args: unknown[], ev: Evaluation, instance: number, h: number, external: (n: string) => never): number | undefined {
  const at = (by: number) => evaluate(fn, args, { dout: ev.dout, external, nudge: { instance, by } });
  const plus = at(h);
  const minus = at(-h);
  // a nudge that changes which way a branch or loop goes is not a derivative
  if (plus.entries.length !== ev.entries.length || minus.entries.length !== ev.entries.length) return undefined;
  const up = numbersOf(ev.dout);
  const p = numbersOf(plus.value);
  const m = numbersOf(minus.value);
  return up.reduce((s, d, i) => s + (d * (p[i]! - m[i]!)) / (2 * h), 0);
}

describe.each(fixtureInputs())("the graph evaluator on %s", (input) => {
  // a function returning a record is not drawn yet (its own test below)
  const all = parse(readFileSync(input, "utf8"), input, readFile);
  const parsed = { ...all, functions: all.functions.filter((fn) => !fn.resultLeaves) };
  const modules = new Map();
  const original = loadFile(input, modules);
  const generated = loadFile(outputPath(input), modules);
  const external = (name: string) => original[name] as never;

  it.each(parsed.functions.map((fn) => [fn.name, fn] as const))("%s: agrees with the generated f_grad on the result and every gradient", (_name, fn) => {
    const point = pointFor(fn);
    const args = parsePoint(point.at, fn);
    const dout = point.dout === undefined ? undefined : parseDout(point.dout, fn);
    const ev = evaluate(fn, args, { dout, external });
    const fGrad = generated[`${fn.name}_grad`]!;
    const given = userArgs(fn, args);
    const answer = dout === undefined ? fGrad(...given) : fGrad(...given, dout);
    const expected = { value: answer.value, grad: leafGrad(fn, answer.grad) };
    expect(maxDifference(ev.value, expected.value)).toBeLessThan(1e-12);
    expect(Object.keys(ev.grad).sort()).toEqual(Object.keys(expected.grad).sort());
    for (const [p, g] of Object.entries(expected.grad)) {
      expect(maxDifference(ev.grad[p], g), `gradient of ${p}`).toBeLessThan(1e-12);
    }
  });

  it.each(parsed.functions.filter((fn) => !NOT_DERIVATIVES.has(fn.name)).map((fn) => [fn.name, fn] as const))("%s: gives every number value the adjoint that finite differences through the run see", (_name, fn) => {
    const point = pointFor(fn);
    const args = parsePoint(point.at, fn);
    const dout = point.dout === undefined ? undefined : parseDout(point.dout, fn);
    const ev = evaluate(fn, args, { dout, external });
    let checked = 0;
    let candidates = 0;
    const wrong: string[] = [];
    for (const inst of ev.instances) {
      const adj = ev.adjoint[inst.id];
      if (typeof inst.val !== "number" || typeof adj !== "number") continue;
      candidates++;
      const a = slope(fn, args, ev, inst.id, 1e-5, external);
      const b = slope(fn, args, ev, inst.id, 5e-6, external);
      // steps that disagree: a kink (max, abs, round) near the point; not a derivative to check against
      if (a === undefined || b === undefined || Math.abs(a - b) > 1e-4 * (1 + Math.abs(a))) continue;
      checked++;
      if (Math.abs(adj - a) > 1e-5 * (1 + Math.abs(a))) {
        const v = fn.values[inst.value]!;
        wrong.push(`${v.name ?? `%${v.id}`} (instance ${inst.id}): adjoint ${adj}, finite difference ${a}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(Math.ceil((LESS_CHECKED[fn.name] ?? 0.9) * candidates));
  });
});

describe("the graph evaluator", () => {
  it("refuses a run longer than its limit with a message, not a hang", () => {
    const fn = parse(readFileSync("fixtures/loops.ts", "utf8"), "fixtures/loops.ts").functions.find((f) => f.name === "rosenbrock")!;
    expect(() => evaluate(fn, [new Array(1000).fill(0.5)], { maxEntries: 500 })).toThrow(/runs more than 500 operations/);
  });

  it("asks for dout when the result is an array", () => {
    const fn = parse(readFileSync("fixtures/arrays.ts", "utf8"), "fixtures/arrays.ts").functions.find((f) => f.name === "softmax")!;
    expect(() => evaluate(fn, [[1, 2]])).toThrow(/give its upstream gradient/);
  });
});

describe("the graph evaluator on a record result", () => {
  it("says it draws a function of one result (fixtures/records_built.ts fitReport)", () => {
    const fn = parse(readFileSync("fixtures/records_built.ts", "utf8"), "fixtures/records_built.ts", readFile).functions.find((f) => f.name === "fitReport")!;
    expect(() => evaluate(fn, parsePoint("params_w=[1],params_b=0.5,xs=[1,2],ys=[0,1]", fn), {})).toThrow("`fitReport` returns a record (`{ loss: number; residuals: number[] }`): the graph draws a function of one result");
  });
});
