/**
 * The seeds' worked examples, with their numbers: the generated gradients must reproduce
 * what the notes compute by hand (the hand-written backward code is copied here from the
 * notes, translated to TypeScript, as the oracle).
 */
import { describe, expect, it } from "vitest";
import { addMul_grad } from "../fixtures/add_mul.grad.ts";
import { addProduct_grad } from "../fixtures/add_product.grad.ts";
import { gates_grad, maxGate_grad } from "../fixtures/max_gate.grad.ts";
import { neuron_grad } from "../fixtures/neuron.grad.ts";
import { staged_grad, staged_jvp } from "../fixtures/staged.grad.ts";
import { addMul_jvp } from "../fixtures/add_mul.grad.ts";
import { flatChain_grad } from "../fixtures/flat_chain.grad.ts";
import { swishTimesTwo_grad } from "../fixtures/swish.grad.ts";
import { neuronLoss_grad } from "../fixtures/neuron_mse.grad.ts";

const sig = (z: number) => 1 / (1 + Math.exp(-z));

describe("the seeds' scalar examples", () => {
  it("f = (x + y) · z at (2, 3, 4) is 20 with gradient (4, 4, 5)", () => {
    expect(addMul_grad(2, 3, 4)).toEqual({ value: 20, grad: { x: 4, y: 4, z: 5 } });
  });

  it("f = x + y · z at (-2, 5, -4) is -22 with gradient (1, -4, 5)", () => {
    expect(addProduct_grad(-2, 5, -4)).toEqual({ value: -22, grad: { x: 1, y: -4, z: 5 } });
  });

  it("the max gate routes the gradient to the larger input: 2·(x·y + max(z, w)) gives dx = -8, dz = 2, dw = 0", () => {
    expect(gates_grad(3, -4, 2, -1)).toEqual({ value: -20, grad: { x: -8, y: 6, z: 2, w: 0 } });
    // the gradient router of the notes: max(4, 5) with upstream 9 sends 0 and 9
    expect(maxGate_grad(4, 5, 9).grad).toEqual({ a: 0, b: 9 });
  });

  it("the 2-D sigmoid neuron at w = [2, -3, -3], x = [-1, -2] matches the notes' backward code", () => {
    const w = [2, -3, -3];
    const x = [-1, -2];
    // the notes' code
    const dot = w[0]! * x[0]! + w[1]! * x[1]! + w[2]!;
    const f = 1.0 / (1 + Math.exp(-dot));
    const ddot = (1 - f) * f;
    const dx = [w[0]! * ddot, w[1]! * ddot];
    const dw = [x[0]! * ddot, x[1]! * ddot, 1.0 * ddot];

    const { value, grad } = neuron_grad(w[0]!, w[1]!, w[2]!, x[0]!, x[1]!);
    expect(value).toBeCloseTo(0.73, 2);
    expect(ddot).toBeCloseTo(0.2, 1);
    expect(value).toBeCloseTo(f, 15);
    for (const [k, v] of Object.entries({ w0: dw[0], w1: dw[1], w2: dw[2], x0: dx[0], x1: dx[1] })) {
      expect(grad[k as keyof typeof grad]).toBeCloseTo(v!, 15);
    }
  });

  it("the staged f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²) at (3, -4) matches the notes' backward code", () => {
    const x = 3;
    const y = -4;
    const sigy = 1.0 / (1 + Math.exp(-y));
    const num = x + sigy;
    const sigx = 1.0 / (1 + Math.exp(-x));
    const xpy = x + y;
    const xpysqr = xpy ** 2;
    const den = sigx + xpysqr;
    const invden = 1.0 / den;
    const f = num * invden;
    const dnum = invden;
    const dinvden = num;
    const dden = (-1.0 / den ** 2) * dinvden;
    const dsigx = 1 * dden;
    const dxpysqr = 1 * dden;
    const dxpy = 2 * xpy * dxpysqr;
    let dx = 1 * dxpy;
    let dy = 1 * dxpy;
    dx += (1 - sigx) * sigx * dsigx;
    dx += 1 * dnum;
    const dsigy = 1 * dnum;
    dy += (1 - sigy) * sigy * dsigy;

    const out = staged_grad(x, y);
    expect(out.value).toBeCloseTo(f, 14);
    expect(out.grad.x).toBeCloseTo(dx, 14);
    expect(out.grad.y).toBeCloseTo(dy, 14);
  });

  it("the flat chain a = x + 1 ... f = σ(e) at x = 3 matches the notes' backward code", () => {
    const x = 3;
    const e = (-((x + 1) * 2) + 1) * 2;
    const f = sig(e);
    const df = 1.0;
    const de = df * f * (1 - f);
    const dd = de * 2;
    const dc = dd * 1;
    const db = dc * -1;
    const da = db * 2;
    const dx = da * 1;
    const out = flatChain_grad(x);
    expect(out.value).toBeCloseTo(f, 15);
    expect(out.grad.x).toBeCloseTo(dx, 15);
    expect(out.grad.x).toBeLessThan(0);
  });

  it("Swish followed by ×2 at x = 1 with upstream 0.5 sends ≈ 0.927 back to x", () => {
    const { value, grad } = swishTimesTwo_grad(1, 0.5);
    expect(value).toBeCloseTo(1.462, 3);
    expect(grad.x).toBeCloseTo(0.927, 2);
    const s = sig(1);
    expect(grad.x).toBeCloseTo(s + 1 * s * (1 - s), 14);
  });

  it("the neuron with squared error has gradient (O − t) · O · (1 − O) · x_j", () => {
    const w = [0.5, -0.3, 0.8];
    const x = [1, 2, -1];
    const t = 1;
    const O = sig(w[0]! * x[0]! + w[1]! * x[1]! + w[2]! * x[2]!);
    const { value, grad } = neuronLoss_grad(w[0]!, w[1]!, w[2]!, x[0]!, x[1]!, x[2]!, t);
    expect(value).toBeCloseTo(0.5 * (O - t) ** 2, 15);
    expect(Object.keys(grad)).toEqual(["w0", "w1", "w2"]);
    expect(grad.w0).toBeCloseTo((O - t) * O * (1 - O) * x[0]!, 15);
    expect(grad.w1).toBeCloseTo((O - t) * O * (1 - O) * x[1]!, 15);
    expect(grad.w2).toBeCloseTo((O - t) * O * (1 - O) * x[2]!, 15);
  });
});

describe("the seeds' scalar examples in forward mode: one input direction at a time, the gradient's numbers", () => {
  it("(x + y) · z at (2, 3, 4): the tangents along x, y, z are 4, 4, 5", () => {
    expect([{ x: 1 }, { y: 1 }, { z: 1 }].map((t) => addMul_jvp(2, 3, 4, t))).toEqual([4, 4, 5].map((d) => ({ value: 20, tangent: d })));
  });

  it("staged_jvp(3, -4, { x: 1 }) is ∂f/∂x at (3, -4), and along y ∂f/∂y, as staged_grad gives them", () => {
    const { value, grad } = staged_grad(3, -4);
    expect(staged_jvp(3, -4, { x: 1 }).value).toBe(value);
    expect(staged_jvp(3, -4, { x: 1 }).tangent).toBeCloseTo(grad.x, 14);
    expect(staged_jvp(3, -4, { y: 1 }).tangent).toBeCloseTo(grad.y, 14);
    expect(staged_jvp(3, -4, {}).tangent).toBe(0);
  });
});
