/**
 * A loop that overwrites a carried variable before reading it (`x` below, like the fixture
 * lastScaled): the loop box still takes the variable's start value in, and the wire that
 * brings it there carries its gradient, zero (as f_grad's), not nothing. The start value of
 * `y` is computed (`x * w`), so the zero flows on back through a gate. Drawn with loops as
 * boxes and unrolled, and with an empty loop, where the start values pass straight through.
 */
import { describe, expect, it } from "vitest";
import { drawGraph } from "../../compiler/graph/index.ts";
import { compileAndLoad } from "../helpers/load.ts";
import { drawnWires, sceneWires, type DrawnWire } from "./wires.ts";

const SOURCE = `/** @differentiable */
export function overwritten(x: number, w: number, xs: number[]): number {
  let y = x * w;
  for (const e of xs) {
    x = e * w;
    y = x + e;
  }
  return y * w;
}
`;

/** The gradient on the wire out of an input (into its fork, or its only wire). */
const gradOut = (wires: readonly DrawnWire[], input: number) => wires.find((w) => w.from === `in:${input}` && w.role !== "branch")?.grad;

function draw(at: string, unroll: number) {
  const result = drawGraph(SOURCE, "overwritten.ts", { at, unroll, svg: unroll === 0 });
  expect(result.errors).toEqual([]);
  return { ev: result.evaluation!, wires: result.svg ? drawnWires(result.svg) : sceneWires(result.scene!) };
}

describe("a loop that overwrites a variable without reading it", () => {
  // at x = 1.5, w = 2, xs = [0.5, -1]: y ends as (-1)·2 + (-1) = -3, the result is -6;
  // d/dw = y + w·(-1) = -5, d/dxs = [0, (w + 1)·w] = [0, 6], and x is never read: 0
  const at = "x=1.5,w=2,xs=[0.5,-1]";

  it.each([["drawn with loops as boxes", 0], ["unrolled", 8]] as const)("%s: x's wire carries a zero gradient, as f_grad's", async (_how, unroll) => {
    const { grad } = await compileAndLoad(SOURCE, "overwritten.ts");
    const answer = grad.overwritten_grad!(1.5, 2, [0.5, -1]);
    expect(answer.value).toBe(-6);
    expect([answer.grad.x, answer.grad.w, Array.from(answer.grad.xs as number[])]).toEqual([0, -5, [0, 6]]);
    const { ev, wires } = draw(at, unroll);
    expect(ev.grad).toEqual({ x: 0, w: -5, xs: [0, 6] });
    expect([gradOut(wires, 0), gradOut(wires, 1), gradOut(wires, 2)]).toEqual([[0], [-5], [0, 6]]);
    // the zero is written on x's wire, not left off as on a value no gradient reaches
    expect(wires.find((w) => w.from === "in:0" && w.role !== "branch")!.text).toMatch(/\b0\b/);
    expect(wires.find((w) => w.to === "out")).toMatchObject({ value: [-6], grad: [1] });
  });

  it("with no iterations, the start values pass through the loop with their gradients", () => {
    // y = x·w, the result x·w·w: d/dx = w² = 4, d/dw = 2xw = 6
    const { ev, wires } = draw("x=1.5,w=2,xs=[]", 0);
    expect(ev.grad).toEqual({ x: 4, w: 6, xs: [] });
    expect([gradOut(wires, 0), gradOut(wires, 1)]).toEqual([[4], [6]]);
  });
});
