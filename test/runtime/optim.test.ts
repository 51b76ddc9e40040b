import { describe, it, expect } from "vitest";
import { createAdam, sgd, type Params } from "../../runtime/optim.ts";
import { tensor, TensorShapeError, zeros, type Tensor } from "../../runtime/tensor.ts";

// Quadratic bowl: loss = Σ (p − target)² over every parameter, gradient 2 (p − target).
const TARGET = 3;

function flat(value: Params[string]): ArrayLike<number> {
  if (typeof value === "number") return [value];
  return "data" in value ? value.data : value;
}

function loss(params: Params): number {
  let total = 0;
  for (const value of Object.values(params)) for (const v of Array.from(flat(value))) total += (v - TARGET) ** 2;
  return total;
}

function grads(params: Params): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(params)) {
    if (typeof value === "number") out[key] = 2 * (value - TARGET);
    else if ("data" in value) out[key] = { data: value.data.map((v) => 2 * (v - TARGET)), shape: value.shape };
    else out[key] = Array.from(value, (v) => 2 * (v - TARGET));
  }
  return out;
}

function makeParams() {
  return {
    W: tensor([
      [1, -2],
      [0, 5],
    ]),
    b: -1,
    c: [0, 10],
    d: new Float64Array([2, -4]),
  };
}

describe("sgd", () => {
  it("decreases a simple quadratic every step and converges to its minimum", () => {
    let params = makeParams();
    let previous = loss(params);
    for (let i = 0; i < 100; i++) {
      params = sgd(params, grads(params), 0.1);
      const current = loss(params);
      expect(current).toBeLessThan(previous);
      previous = current;
    }
    expect(previous).toBeLessThan(1e-12);
    expect(params.b).toBeCloseTo(TARGET, 8);
  });

  it("updates tensors and arrays in place and returns new numbers in a fresh record", () => {
    const params = makeParams();
    const W = params.W;
    const next = sgd(params, grads(params), 0.5);
    expect(next).not.toBe(params);
    expect(next.W).toBe(W);
    expect(next.c).toBe(params.c);
    expect(Array.from(W.data)).toEqual([3, 3, 3, 3]);
    expect(params.c).toEqual([3, 3]);
    expect(Array.from(params.d)).toEqual([3, 3]);
    expect(params.b).toBe(-1);
    expect(next.b).toBe(3);
  });

  it("ignores gradients for keys that are not parameters", () => {
    const params = { w: 1 };
    expect(sgd(params, { w: 1, x: 100 }, 1)).toEqual({ w: 0 });
  });

  it("throws on a missing gradient or one of the wrong shape", () => {
    expect(() => sgd({ w: 1 }, {}, 0.1)).toThrow(/no gradient for parameter "w"/);
    const W: Tensor = zeros([2, 3]);
    expect(() => sgd({ W }, { W: zeros([3, 2]) }, 0.1)).toThrow(TensorShapeError);
    expect(() => sgd({ W }, { W: zeros([3, 2]) }, 0.1)).toThrow(/\[3, 2\].*\[2, 3\]/);
    expect(() => sgd({ c: [1, 2] }, { c: [1] }, 0.1)).toThrow(TensorShapeError);
  });
});

describe("adam", () => {
  it("decreases a simple quadratic and approaches its minimum", () => {
    const adam = createAdam({ lr: 0.1 });
    let params = makeParams();
    const start = loss(params);
    const history: number[] = [];
    for (let i = 0; i < 500; i++) {
      params = adam.step(params, grads(params));
      history.push(loss(params));
    }
    expect(history[0]).toBeLessThan(start);
    expect(history[49]).toBeLessThan(start / 2);
    expect(history[499]).toBeLessThan(1e-3);
  });

  it("moves each parameter by about lr on the first step, whatever the gradient scale", () => {
    const adam = createAdam({ lr: 0.01 });
    const next = adam.step({ a: 0, b: [0] }, { a: 1000, b: [-0.001] });
    expect(next.a).toBeCloseTo(-0.01, 6);
    expect(next.b[0]).toBeCloseTo(0.01, 4);
  });

  it("uses the documented defaults", () => {
    const next = createAdam().step({ a: 0 }, { a: 1 });
    expect(next.a).toBeCloseTo(-1e-3, 9);
  });

  it("rejects a parameter whose size changes between steps", () => {
    const adam = createAdam();
    adam.step({ c: [1, 2] }, { c: [1, 1] });
    expect(() => adam.step({ c: [1, 2, 3] }, { c: [1, 1, 1] })).toThrow(TensorShapeError);
  });
});
