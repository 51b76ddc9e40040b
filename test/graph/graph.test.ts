/**
 * The picture of every fixture function, drawn at a point (loops as boxes, and unrolled):
 * every wire carries the value and the gradient the evaluator computed for it, the wires
 * out of the inputs carry the generated f_grad's gradients, the wire into the result its
 * value and upstream gradient, and the text on each wire says the same numbers. The
 * seeds' circuits are drawn with the seeds' numbers, and the pictures in fixtures/graphs/
 * are the golden ones (`npm run graphs:update` after a deliberate change; look at them).
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { outputPath } from "../../compiler/cli.ts";
import { drawGraph, type GraphOptions } from "../../compiler/graph/index.ts";
import { formatNumber } from "../../compiler/graph/labels.ts";
import { numbersOf } from "../../compiler/graph/values.ts";
import { parse } from "../../compiler/parse/parse.ts";
import { fixtureInputs } from "../helpers/fixtures.ts";
import { leafGrad, userArgs } from "../helpers/leaves.ts";
import { loadFile } from "../helpers/load.ts";
import { GOLDEN_GRAPHS, goldenPath } from "./goldens.ts";
import { pointFor } from "./points.ts";
import { drawnWires, sceneWires } from "./wires.ts";

const readFile = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : undefined);
const close = (a: readonly number[] | null, b: readonly number[]) =>
  // (equal infinities are close: the fold of `Math.max(...xs)` starts at -Infinity)
  a !== null && a.length === b.length && a.every((x, i) => x === b[i] || Math.abs(x - b[i]!) <= 1e-12 * (1 + Math.abs(b[i]!)));

describe.each(fixtureInputs())("the graph of %s", (input) => {
  const source = readFileSync(input, "utf8");
  // a function returning a record is not drawn yet (test/graph/evaluate.test.ts)
  const functions = parse(source, input, readFile).functions.filter((fn) => !fn.resultLeaves);
  const modules = new Map();
  const original = loadFile(input, modules);
  const generated = loadFile(outputPath(input), modules);
  const external = (name: string) => original[name] as never;

  // loops as boxes, drawn and read back from the SVG; unrolled, read from the scene (laying out
  // every iteration of every fixture would take most of a minute; the goldens draw some)
  const cases = functions.flatMap((fn) => [[fn.name, "drawn with loops as boxes", 0] as const, [fn.name, "unrolled", 8] as const]);
  it.each(cases)("%s, %s: has the right numbers on every wire", (name, _how, unroll) => {
    const fn = functions.find((f) => f.name === name)!;
    const point = pointFor(fn);
    const result = drawGraph(source, input, { fn: name, at: point.at, dout: point.dout, unroll, readFile, external, svg: unroll === 0 });
    expect(result.errors).toEqual([]);
    const ev = result.evaluation!;
    const wires = result.svg ? drawnWires(result.svg) : sceneWires(result.scene!);
    expect(wires.length).toBe(result.scene!.wires.length);
    for (const w of wires) {
      const where = `${w.name ?? "wire"} ${w.from} -> ${w.to}`;
      if (w.instance >= 0) expect(close(w.value, numbersOf(ev.instances[w.instance]!.val)), where).toBe(true);
      // what a value's wire into its fork, or its only wire, carries back is its whole gradient
      const adjoint = w.instance >= 0 ? ev.adjoint[w.instance] : undefined;
      if (w.role !== "branch" && !w.from.startsWith("box:") && adjoint !== undefined) expect(close(w.grad, numbersOf(adjoint)), where).toBe(true);
      if (w.role !== "branch" && adjoint === undefined) expect(w.grad, where).toBeNull();
      if (w.value.length === 1 && w.role !== "branch") expect(w.text, where).toContain(formatNumber(w.value[0]!));
      if (w.grad !== null && w.grad.length === 1) expect(w.text, where).toContain(formatNumber(w.grad[0]!));
    }
    // a fork's branches add up to its trunk
    for (const trunk of wires.filter((w) => w.role === "trunk" && w.grad !== null)) {
      const branches = wires.filter((w) => w.role === "branch" && w.from === trunk.to && w.grad !== null);
      const sum = trunk.grad!.map((_, i) => branches.reduce((s, b) => s + b.grad![i]!, 0));
      expect(close(sum, trunk.grad!), `branches of ${trunk.name}`).toBe(true);
    }
    // the inputs' wires carry f_grad's gradients; the result's wire its value and upstream gradient
    const args = userArgs(fn, ev.params.map((p) => ev.instances[p]!.val));
    const answer = point.dout === undefined ? generated[`${name}_grad`]!(...args) : generated[`${name}_grad`]!(...args, ev.dout);
    const expected = { value: answer.value, grad: leafGrad(fn, answer.grad) };
    fn.params.forEach((p, i) => {
      const out = wires.find((w) => w.from === `in:${i}` && w.role !== "branch");
      if (p.wrt && out) expect(close(out.grad, numbersOf(expected.grad[p.name])), `gradient of ${p.name}`).toBe(true);
    });
    const last = wires.find((w) => w.to === "out");
    expect(last).toBeDefined();
    expect(close(last!.value, numbersOf(expected.value))).toBe(true);
    if (last!.grad !== null) expect(close(last!.grad, numbersOf(ev.dout))).toBe(true);
  });
});

describe("the seeds' circuits, drawn", () => {
  const draw = (file: string, options: GraphOptions) => {
    const result = drawGraph(readFileSync(file, "utf8"), file, { readFile, ...options });
    expect(result.errors).toEqual([]);
    return drawnWires(result.svg!);
  };
  const gradOf = (wires: ReturnType<typeof drawnWires>, name: string) =>
    wires.find((w) => w.name === name && w.role !== "branch" && w.from.startsWith("in:"))!.grad![0];

  it("f = 2(xy + max(z, w)) at x=3, y=-4, z=2, w=-1: multiply swaps (-8, 6), max routes (2, 0), add distributes (2, 2)", () => {
    const wires = draw("fixtures/max_gate.ts", { fn: "gates", at: "x=3,y=-4,z=2,w=-1" });
    expect([gradOf(wires, "x"), gradOf(wires, "y"), gradOf(wires, "z"), gradOf(wires, "w")]).toEqual([-8, 6, 2, 0]);
    const toAdd = wires.filter((w) => /^g:/.test(w.to) && (w.value[0] === -12 || (w.value[0] === 2 && !w.from.startsWith("in:"))));
    expect(toAdd.map((w) => w.grad![0])).toEqual([2, 2]);
    expect(wires.find((w) => w.to === "out")!.value).toEqual([-20]);
  });

  it("f = (x + y)z at x=2, y=3, z=4: q = 5, f = 20, gradients 4, 4, 5", () => {
    const wires = draw("fixtures/add_mul.ts", { at: "x=2,y=3,z=4" });
    expect(wires.find((w) => w.name === "q")!.value).toEqual([5]);
    expect([gradOf(wires, "x"), gradOf(wires, "y"), gradOf(wires, "z")]).toEqual([4, 4, 5]);
  });

  it("the sigmoid neuron at w = [2, -3, -3], x = [-1, -2]: dot = 1, f = 0.73, dx = [0.39, -0.59], dw = [-0.2, -0.39, 0.2]", () => {
    const wires = draw("fixtures/neuron.ts", { at: "w0=2,w1=-3,w2=-3,x0=-1,x1=-2" });
    expect(wires.find((w) => w.name === "dot")!.value).toEqual([1]);
    expect(wires.find((w) => w.to === "out")!.text).toContain("0.731");
    const g = (n: string) => Number(gradOf(wires, n)!.toFixed(2));
    expect([g("x0"), g("x1"), g("w0"), g("w1"), g("w2")]).toEqual([0.39, -0.59, -0.2, -0.39, 0.2]);
  });

  it("the staged example at x=3, y=-4: x's gradient is the sum of its three uses, written under its wire", () => {
    const wires = draw("fixtures/staged.ts", { at: "x=3,y=-4" });
    const x = wires.find((w) => w.name === "x" && w.role === "trunk")!;
    expect(x.text).toContain("2.06 = 0.512 - 0.0358 + 1.58");
    expect(wires.filter((w) => w.role === "branch" && w.from === x.to)).toHaveLength(3);
  });

  it("Swish then ×2 with an upstream gradient of 0.5: the gear train's 0.927", () => {
    const wires = draw("fixtures/swish.ts", { at: "x=1", dout: "0.5" });
    expect(gradOf(wires, "x")).toBeCloseTo(0.927, 2); // 0.9277: the notes add rounded terms, 0.731 + 0.196
    expect(wires.find((w) => w.to === "out")!.grad).toEqual([0.5]);
  });
});

describe("the golden pictures in fixtures/graphs/", () => {
  it.each(GOLDEN_GRAPHS.map((g) => [goldenPath(g), g] as const))("%s is drawn byte for byte (and twice the same)", (path, g) => {
    const first = drawGraph(readFileSync(g.file, "utf8"), g.file, { ...g.options, readFile }).svg;
    const second = drawGraph(readFileSync(g.file, "utf8"), g.file, { ...g.options, readFile }).svg;
    expect(second).toBe(first);
    expect(first).toBe(readFileSync(path, "utf8"));
  });
});
