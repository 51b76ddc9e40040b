// The WebAssembly SIMD kernels against the JavaScript loops: every op, both dtypes, shapes
// that are and are not whole vectors and whole matmul tiles, broadcasting in every position.
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "../../../runtime/tensor.ts";
import { WASM_MIN_ELEMENTS } from "../../../runtime/tensor/backend.ts";

afterEach(() => {
  T.setTensorBackend("wasm");
});

/** `f()` run by each backend. */
function both(f: () => T.Tensor): { wasm: T.Tensor; js: T.Tensor } {
  T.setTensorBackend("wasm");
  const wasm = f();
  T.setTensorBackend("js");
  const js = f();
  T.setTensorBackend("wasm");
  return { wasm, js };
}

/** The two results have one shape and dtype, and values equal up to `tol` relative to the magnitude. */
function expectAgree({ wasm, js }: { wasm: T.Tensor; js: T.Tensor }, tol: number): void {
  expect(wasm.shape).toEqual(js.shape);
  expect(T.dtypeOf(wasm)).toBe(T.dtypeOf(js));
  expect(wasm.data.length).toBe(js.data.length);
  for (let i = 0; i < js.data.length; i++) {
    const [w, j] = [wasm.data[i]!, js.data[i]!];
    if (Number.isNaN(j)) expect(w).toBeNaN();
    else if (Math.abs(w - j) > tol * (1 + Math.abs(j))) expect.fail(`element ${i}: wasm ${w}, js ${j}`);
  }
}

const DTYPES: T.DType[] = ["float64", "float32"];
const TOL: Record<T.DType, number> = { float64: 1e-12, float32: 1e-5 };
const dims = fc.integer({ min: 1, max: 37 });
const seed = fc.integer({ min: 0, max: 2 ** 30 });

describe("the WebAssembly kernels", () => {
  it("are what the ops run on this Node, and setTensorBackend('js') switches to the loops", () => {
    expect(T.setTensorBackend("wasm")).toBe("wasm");
    expect(T.tensorBackend()).toBe("wasm");
    expect(T.setTensorBackend("js")).toBe("js");
    expect(T.tensorBackend()).toBe("js");
    expect(T.setTensorBackend("wasm")).toBe("wasm");
    expect(() => T.setTensorBackend("gpu" as T.TensorBackend)).toThrow(/expected "wasm" or "js"/);
  });

  for (const dtype of DTYPES) {
    describe(dtype, () => {
      it("multiply matrices of any shape like the loops, with either operand transposed", () => {
        fc.assert(
          fc.property(dims, dims, dims, seed, (m, k, n, s) => {
            const a = T.randn([m, k], s, dtype);
            const b = T.randn([k, n], s + 1, dtype);
            const at = T.randn([k, m], s + 2, dtype);
            const bt = T.randn([n, k], s + 3, dtype);
            const tol = TOL[dtype] * Math.sqrt(k);
            expectAgree(both(() => T.matmul(a, b)), tol);
            // transposes that matmul reads from their source rows
            expectAgree(both(() => T.matmul(T.transpose(at), b)), tol);
            expectAgree(both(() => T.matmul(a, T.transpose(bt))), tol);
            expectAgree(both(() => T.matmul(T.transpose(at), T.transpose(bt))), tol);
          }),
          { numRuns: 60 },
        );
      });

      it("multiply a matrix wider than one cache panel (k = 600, n = 300)", () => {
        const a = T.randn([9, 600], 3, dtype);
        const b = T.randn([600, 300], 4, dtype);
        expectAgree(both(() => T.matmul(a, b)), TOL[dtype] * 30);
      });

      it("transpose like the loops", () => {
        fc.assert(
          fc.property(dims, dims, seed, (r, c, s) => {
            expectAgree(both(() => T.transpose(T.randn([r, c], s, dtype))), 0);
          }),
          { numRuns: 40 },
        );
      });

      it("run every broadcasting binary op like the loops, operands in either order", () => {
        const shapes = fc.constantFrom<[number[], number[]]>(
          [[7, 9], [7, 9]], [[40], [40]], [[6, 11], [11]], [[6, 11], [6, 1]], [[6, 1], [1, 11]],
          [[3, 5, 8], [5, 1]], [[2, 3, 13], [13]], [[33], []], [[5, 9], [1, 1]], [[4, 1, 9], [3, 1]],
        );
        const ops = [T.add, T.sub, T.mul, T.div, T.maximum, T.gt];
        fc.assert(
          fc.property(shapes, seed, fc.boolean(), ([sa, sb], s, swap) => {
            const a = T.randn(swap ? sb : sa, s, dtype);
            const b = T.randn(swap ? sa : sb, s + 1, dtype);
            for (const op of ops) expectAgree(both(() => op(a, b)), TOL[dtype]);
            expectAgree(both(() => T.add(a, 0.25)), TOL[dtype]);
            expectAgree(both(() => T.div(3, b)), TOL[dtype]);
          }),
          { numRuns: 40 },
        );
      });

      it("run the unary ops and ReLU's mask like the loops, NaN included", () => {
        fc.assert(
          fc.property(fc.integer({ min: 1, max: 300 }), seed, (n, s) => {
            const x = T.randn([n], s, dtype);
            x.data[0] = NaN;
            const u = T.randn([n], s + 1, dtype);
            for (const f of [T.neg, T.relu, T.exp, T.tanh, T.sigmoid]) expectAgree(both(() => f(x)), TOL[dtype]);
            expectAgree(both(() => T.scale(x, -1.5)), TOL[dtype]);
            expectAgree(both(() => T.mask(u, x)), 0);
          }),
          { numRuns: 40 },
        );
      });

      it("sum, average and reduce back from broadcasting like the loops", () => {
        const shapes = fc.constantFrom([37], [6, 13], [13, 6], [3, 7, 9], [2, 64, 5], [129, 3]);
        fc.assert(
          fc.property(shapes, seed, (shape, s) => {
            const t = T.randn(shape, s, dtype);
            const tol = TOL[dtype] * Math.sqrt(t.data.length);
            expectAgree(both(() => T.sum(t)), tol);
            expectAgree(both(() => T.mean(t)), tol);
            for (let axis = -shape.length; axis < shape.length; axis++) {
              expectAgree(both(() => T.sum(t, axis, true)), tol);
              expectAgree(both(() => T.mean(t, axis)), tol);
            }
            const lead = shape.slice(1);
            const trail = shape.map((n, d) => (d === 0 ? n : 1));
            const middle = shape.map((n, d) => (d === 0 || d === shape.length - 1 ? n : 1));
            for (const target of [lead, trail, middle, [], [shape[shape.length - 1]!]]) {
              expectAgree(both(() => T.sumTo(t, target)), tol);
            }
            const column = T.sum(t, 0);
            expectAgree(both(() => T.broadcastTo(column, shape, 0)), 0);
          }),
          { numRuns: 30 },
        );
      });
    });
  }

  it("leave tensors below the size where copying pays to the loops", () => {
    const x = T.randn([WASM_MIN_ELEMENTS - 1], 1, "float32");
    expectAgree(both(() => T.relu(x)), 0);
  });

  it("keep earlier results intact when an op grows the kernels' memory", () => {
    const small = T.add(T.ones([100]), 1);
    const before = T.kernelMemoryBytes();
    const big = T.sum(T.ones([3_000_000], "float32"));
    expect(T.kernelMemoryBytes()).toBeGreaterThan(before);
    expect(T.item(big)).toBe(3_000_000);
    expect(Array.from(small.data)).toEqual(new Array(100).fill(2));
    expect(T.item(T.sum(T.add(T.ones([1000]), 1)))).toBe(2000);
  });
});
