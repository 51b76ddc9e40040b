import { describe, it, expect } from "vitest";
import fc from "fast-check";
import {
  add,
  broadcastShapes,
  div,
  exp,
  full,
  gather,
  get,
  gt,
  item,
  log,
  logSoftmax,
  mask,
  matmul,
  maximum,
  mean,
  mul,
  neg,
  oneHot,
  ones,
  onesLike,
  rand,
  randn,
  relu,
  reshape,
  scale,
  shapeEq,
  sigmoid,
  size,
  softmax,
  sub,
  sum,
  sumTo,
  tanh,
  tensor,
  TensorShapeError,
  toArray,
  transpose,
  zeros,
  zerosLike,
  type Tensor,
} from "../../runtime/tensor.ts";

/** Reference matmul: the textbook triple loop with get(). */
function naiveMatmul(a: Tensor, b: Tensor): number[][] {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const out: number[][] = [];
  for (let i = 0; i < m; i++) {
    out.push([]);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += get(a, i, p) * get(b, p, j);
      out[i].push(acc);
    }
  }
  return out;
}

function expectClose(actual: Tensor, expected: Tensor | number[] | number[][], digits = 10): void {
  const want = Array.isArray(expected) ? tensor(expected) : expected;
  expect(actual.shape).toEqual(want.shape);
  actual.data.forEach((v, i) => expect(v).toBeCloseTo(want.data[i], digits));
}

function shapeErrorOf(fn: () => unknown): TensorShapeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TensorShapeError);
    return error as TensorShapeError;
  }
  throw new Error("expected a TensorShapeError");
}

describe("constructors and helpers", () => {
  it("builds tensors from nested arrays, inferring the shape", () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor([7, 8]).shape).toEqual([2]);
  });

  it("builds tensors from flat data plus a shape, copying the data", () => {
    const flat = new Float64Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(flat, [3, 2]);
    flat[0] = 100;
    expect(t.shape).toEqual([3, 2]);
    expect(get(t, 0, 0)).toBe(1);
    expect(get(t, 2, 1)).toBe(6);
    expect(tensor([1, 2, 3, 4], [2, 2]).shape).toEqual([2, 2]);
  });

  it("rejects ragged nested arrays and data that does not fill the shape", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(TensorShapeError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values cannot fill shape \[2, 2\]/);
  });

  it("fills zeros, ones, full and the *Like variants with the requested shape", () => {
    expect(Array.from(zeros([2, 2]).data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(ones([3]).data)).toEqual([1, 1, 1]);
    expect(Array.from(full([2], 7).data)).toEqual([7, 7]);
    const t = tensor([[1, 2, 3]]);
    expect(zerosLike(t).shape).toEqual([1, 3]);
    expect(Array.from(onesLike(t).data)).toEqual([1, 1, 1]);
    expect(zeros([]).shape).toEqual([]);
    expect(zeros([]).data.length).toBe(1);
  });

  it("computes sizes and compares shapes", () => {
    expect(size([5, 10])).toBe(50);
    expect(size([])).toBe(1);
    expect(shapeEq([2, 3], [2, 3])).toBe(true);
    expect(shapeEq([2, 3], [3, 2])).toBe(false);
    expect(shapeEq([1], [])).toBe(false);
  });

  it("converts back to nested arrays and reads single items", () => {
    const nested = [
      [[1, 2], [3, 4]],
      [[5, 6], [7, 8]],
    ];
    expect(toArray(tensor(nested))).toEqual(nested);
    expect(toArray(full([], 3))).toBe(3);
    expect(item(tensor([[42]]))).toBe(42);
    expect(() => item(tensor([1, 2]))).toThrow(/item: .*\[2\]/);
  });

  it("checks the number and range of indices in get", () => {
    const t = tensor([[1, 2, 3]]);
    expect(get(t, 0, 2)).toBe(3);
    expect(() => get(t, 0)).toThrow(TensorShapeError);
    expect(() => get(t, 0, 3)).toThrow(RangeError);
  });
});

describe("random tensors", () => {
  it("gives the same randn samples for the same seed and different ones for another seed", () => {
    expect(Array.from(randn([4, 5], 42).data)).toEqual(Array.from(randn([4, 5], 42).data));
    expect(Array.from(randn([4, 5], 42).data)).not.toEqual(Array.from(randn([4, 5], 43).data));
    expect(randn([3, 3], 1).data.every(Number.isFinite)).toBe(true);
  });

  it("draws randn with mean near 0 and standard deviation near 1 over 10^5 samples", () => {
    const samples = randn([100_000], 7);
    const m = item(mean(samples));
    const variance = item(mean(mul(sub(samples, m), sub(samples, m))));
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.02);
  });

  it("fills odd-sized randn tensors completely", () => {
    const t = randn([3], 5);
    expect(t.data.every((v) => v !== 0 && Number.isFinite(v))).toBe(true);
  });

  it("draws rand deterministically in [0, 1) with mean near 1/2", () => {
    const u = rand([100_000], 3);
    expect(Array.from(rand([10], 3).data)).toEqual(Array.from(u.data.subarray(0, 10)));
    expect(u.data.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(item(mean(u)) - 0.5)).toBeLessThan(0.01);
  });
});

describe("matmul and transpose", () => {
  it("matches a naive triple loop on random shapes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 0, max: 1000 }),
        (m, k, n, seed) => {
          const a = randn([m, k], seed);
          const b = randn([k, n], seed + 1);
          expectClose(matmul(a, b), naiveMatmul(a, b), 12);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("maps W 5×10 · X 10×3 to 5×3 and gives dW = dD · Xᵀ the shape of W", () => {
    const W = randn([5, 10], 1);
    const X = randn([10, 3], 2);
    const D = matmul(W, X);
    expect(D.shape).toEqual([5, 3]);
    const dD = onesLike(D);
    const dW = matmul(dD, transpose(X));
    expect(dW.shape).toEqual(W.shape);
    const dX = matmul(transpose(W), dD);
    expect(dX.shape).toEqual(X.shape);
  });

  it("reports both shapes when the inner dimensions differ", () => {
    const error = shapeErrorOf(() => matmul(zeros([5, 10]), zeros([3, 10])));
    expect(error.message).toBe("matmul: cannot multiply [5, 10] by [3, 10]: inner dimensions 10 and 3 differ");
  });

  it("rejects operands that are not 2-D", () => {
    expect(shapeErrorOf(() => matmul(zeros([5]), zeros([5, 2]))).message).toMatch(/\[5\].*\[5, 2\]/);
  });

  it("transposes a 2-D tensor and undoes itself", () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(toArray(transpose(a))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(toArray(transpose(transpose(a)))).toEqual(toArray(a));
    expect(() => transpose(zeros([2, 2, 2]))).toThrow(/transpose: .*\[2, 2, 2\]/);
  });
});

describe("reshape", () => {
  it("keeps the row-major order and infers a -1 dimension", () => {
    const a = tensor([1, 2, 3, 4, 5, 6]);
    expect(toArray(reshape(a, [2, 3]))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(reshape(a, [3, -1]).shape).toEqual([3, 2]);
  });

  it("rejects a shape of a different size, naming both shapes", () => {
    expect(shapeErrorOf(() => reshape(zeros([2, 3]), [4, 2])).message).toMatch(/reshape: .*\[2, 3\].*\[4, 2\]/);
  });
});

describe("broadcasting elementwise ops", () => {
  const A = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("adds, subtracts, multiplies and divides tensors of the same shape", () => {
    const B = tensor([
      [6, 5, 4],
      [3, 2, 1],
    ]);
    expect(toArray(add(A, B))).toEqual([
      [7, 7, 7],
      [7, 7, 7],
    ]);
    expect(toArray(sub(A, B))).toEqual([
      [-5, -3, -1],
      [1, 3, 5],
    ]);
    expect(toArray(mul(A, B))).toEqual([
      [6, 10, 12],
      [12, 10, 6],
    ]);
    expect(toArray(div(A, B))).toEqual([
      [1 / 6, 2 / 5, 3 / 4],
      [4 / 3, 5 / 2, 6],
    ]);
  });

  it("broadcasts a bias row [n] over [m, n]", () => {
    const bias = tensor([10, 20, 30]);
    expect(toArray(add(A, bias))).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ]);
    expect(toArray(add(bias, A))).toEqual(toArray(add(A, bias)));
  });

  it("broadcasts a [1, n] row and an [m, 1] column over [m, n]", () => {
    expect(toArray(mul(A, tensor([[1, 0, -1]])))).toEqual([
      [1, 0, -3],
      [4, 0, -6],
    ]);
    expect(toArray(sub(A, tensor([[1], [4]])))).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });

  it("broadcasts plain numbers and size-1 tensors on either side", () => {
    expect(toArray(add(A, 1))).toEqual([
      [2, 3, 4],
      [5, 6, 7],
    ]);
    expect(toArray(sub(10, A))).toEqual([
      [9, 8, 7],
      [6, 5, 4],
    ]);
    expect(toArray(div(A, full([], 2)))).toEqual([
      [0.5, 1, 1.5],
      [2, 2.5, 3],
    ]);
    expect(add(full([1, 1], 1), tensor([1, 2])).shape).toEqual([1, 2]);
    expect(add(3, 4).shape).toEqual([]);
  });

  it("broadcasts a column against a row into an outer sum, and over higher ranks", () => {
    expect(toArray(add(tensor([[0], [10]]), tensor([1, 2, 3])))).toEqual([
      [1, 2, 3],
      [11, 12, 13],
    ]);
    const cube = reshape(tensor(Array.from({ length: 24 }, (_, i) => i)), [2, 3, 4]);
    const middle = tensor([[100], [200], [300]]); // [3, 1] broadcasts over axes 0 and 2
    const out = add(cube, middle);
    expect(out.shape).toEqual([2, 3, 4]);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(get(out, i, j, k)).toBe(get(cube, i, j, k) + 100 * (j + 1));
  });

  it("agrees with an index-by-index reference on random broadcastable shapes, and sumTo undoes it", () => {
    const dim = fc.integer({ min: 1, max: 4 });
    const shapes = fc.record({
      big: fc.array(dim, { minLength: 0, maxLength: 4 }),
      squeeze: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      drop: fc.integer({ min: 0, max: 4 }),
    });
    fc.assert(
      fc.property(shapes, ({ big, squeeze, drop }) => {
        const small = big.map((n, d) => (squeeze[d] ? 1 : n)).slice(Math.min(drop, big.length));
        const a = randn(big, 1);
        const b = randn(small, 2);
        const out = mul(a, b);
        expect(out.shape).toEqual(big);
        expect(Array.from(mul(b, a).data)).toEqual(Array.from(out.data));
        const reduced = zeros(small);
        const offset = big.length - small.length;
        for (let flat = 0; flat < out.data.length; flat++) {
          const idx: number[] = [];
          let rest = flat;
          for (let d = big.length - 1; d >= 0; d--) {
            idx[d] = rest % big[d];
            rest = Math.floor(rest / big[d]);
          }
          const smallIdx = small.map((n, d) => (n === 1 ? 0 : idx[d + offset]));
          expect(out.data[flat]).toBe(get(a, ...idx) * get(b, ...smallIdx));
          let smallFlat = 0;
          for (let d = 0; d < small.length; d++) smallFlat = smallFlat * small[d] + smallIdx[d];
          reduced.data[smallFlat] += out.data[flat];
        }
        expectClose(sumTo(out, small), reduced, 12);
      }),
      { numRuns: 100 },
    );
  });

  it("reports both shapes when they cannot broadcast", () => {
    const error = shapeErrorOf(() => add(zeros([2, 3]), zeros([4])));
    expect(error.message).toMatch(/^add: .*\[2, 3\].*\[4\]/);
    expect(() => broadcastShapes([5, 10], [3, 10], "sub")).toThrow(/sub: .*\[5, 10\].*\[3, 10\]/);
  });

  it("never mutates its inputs", () => {
    const a = tensor([[1, 2]]);
    const b = tensor([3, 4]);
    for (const op of [add, sub, mul, div]) op(a, b);
    for (const op of [exp, log, tanh, sigmoid, relu, neg]) op(a);
    scale(a, 3);
    sum(a, 0);
    softmax(a);
    sumTo(a, [2]);
    reshape(a, [2]);
    expect(Array.from(a.data)).toEqual([1, 2]);
    expect(Array.from(b.data)).toEqual([3, 4]);
    expect(a.shape).toEqual([1, 2]);
  });
});

describe("sumTo", () => {
  const A = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("undoes broadcasting a bias row by summing over the rows", () => {
    const bias = tensor([10, 20, 30]);
    const upstream = onesLike(add(A, bias));
    expect(toArray(sumTo(upstream, bias.shape))).toEqual([2, 2, 2]);
    expect(toArray(sumTo(A, [3]))).toEqual([5, 7, 9]);
    expect(toArray(sumTo(A, [1, 3]))).toEqual([[5, 7, 9]]);
  });

  it("reduces to a column, to a scalar and to the same shape", () => {
    expect(toArray(sumTo(A, [2, 1]))).toEqual([[6], [15]]);
    expect(sumTo(A, []).shape).toEqual([]);
    expect(item(sumTo(A, []))).toBe(21);
    expect(toArray(sumTo(A, [1, 1]))).toEqual([[21]]);
    expect(toArray(sumTo(A, [2, 3]))).toEqual(toArray(A));
  });

  it("rejects a target that does not broadcast to the source, naming both shapes", () => {
    expect(shapeErrorOf(() => sumTo(A, [2])).message).toMatch(/sumTo: .*\[2, 3\].*\[2\]/);
    expect(() => sumTo(A, [1, 2, 3])).toThrow(TensorShapeError);
  });
});

describe("unary ops", () => {
  it("applies neg, scale, exp, log, tanh elementwise", () => {
    const t = tensor([0.5, 1, 2]);
    expect(Array.from(neg(t).data)).toEqual([-0.5, -1, -2]);
    expect(Array.from(scale(t, 4).data)).toEqual([2, 4, 8]);
    expectClose(exp(t), [Math.exp(0.5), Math.E, Math.exp(2)]);
    expectClose(log(t), [Math.log(0.5), 0, Math.log(2)]);
    expectClose(tanh(t), [Math.tanh(0.5), Math.tanh(1), Math.tanh(2)]);
  });

  it("computes sigmoid without overflow at large magnitudes", () => {
    const s = sigmoid(tensor([-1000, -1, 0, 1, 1000]));
    expectClose(s, [0, 1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-1)), 1]);
    expect(s.data.every(Number.isFinite)).toBe(true);
  });

  it("clamps negatives in relu, maximum and gt", () => {
    const t = tensor([-2, -0.5, 0, 3]);
    expect(Array.from(relu(t).data)).toEqual([0, 0, 0, 3]);
    expect(Array.from(maximum(t, -1).data)).toEqual([-1, -0.5, 0, 3]);
    expect(Array.from(gt(t, 0).data)).toEqual([0, 0, 0, 1]);
    expect(Array.from(gt(t, tensor([-3, 0, -1, 5])).data)).toEqual([1, 0, 1, 0]);
  });

  it("masks the upstream gradient where x is not positive (ReLU backward)", () => {
    const x = tensor([1, -2, 3, -1]);
    const upstream = tensor([4, -1, 5, 9]);
    expect(Array.from(mask(upstream, x).data)).toEqual([4, 0, 5, 0]);
    expect(shapeErrorOf(() => mask(zeros([3]), zeros([4]))).message).toMatch(/mask: .*\[3\].*\[4\]/);
  });
});

describe("reductions", () => {
  const A = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it("sums and averages all elements into a scalar tensor", () => {
    expect(sum(A).shape).toEqual([]);
    expect(item(sum(A))).toBe(21);
    expect(item(mean(A))).toBe(3.5);
    expect(toArray(sum(A, undefined, true))).toEqual([[21]]);
  });

  it("sums and averages along each axis with and without keepdims", () => {
    expect(toArray(sum(A, 0))).toEqual([5, 7, 9]);
    expect(toArray(sum(A, 1))).toEqual([6, 15]);
    expect(toArray(sum(A, 0, true))).toEqual([[5, 7, 9]]);
    expect(toArray(sum(A, 1, true))).toEqual([[6], [15]]);
    expect(toArray(sum(A, -1))).toEqual([6, 15]);
    expect(toArray(mean(A, 0))).toEqual([2.5, 3.5, 4.5]);
    expect(toArray(mean(A, -1, true))).toEqual([[2], [5]]);
  });

  it("reduces the middle axis of a 3-D tensor", () => {
    const cube = reshape(tensor(Array.from({ length: 24 }, (_, i) => i)), [2, 3, 4]);
    const s = sum(cube, 1);
    expect(s.shape).toEqual([2, 4]);
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 4; k++) expect(get(s, i, k)).toBe(get(cube, i, 0, k) + get(cube, i, 1, k) + get(cube, i, 2, k));
  });

  it("rejects an axis out of range, naming the shape", () => {
    expect(shapeErrorOf(() => sum(A, 2)).message).toMatch(/sum: axis 2 .*\[2, 3\]/);
    expect(() => mean(A, -3)).toThrow(TensorShapeError);
  });
});

describe("softmax and logSoftmax", () => {
  it("produces rows that sum to 1", () => {
    const p = softmax(randn([4, 6], 9));
    expectClose(sum(p, 1), [1, 1, 1, 1], 12);
    expect(p.data.every((v) => v > 0 && v < 1)).toBe(true);
  });

  it("stays finite and correct for large inputs like 1000", () => {
    const p = softmax(tensor([[1000, 1000], [1000, 0]]));
    expectClose(p, [
      [0.5, 0.5],
      [1, 0],
    ]);
    const lp = logSoftmax(tensor([[1000, 1000, 1000]]));
    expectClose(lp, [[-Math.log(3), -Math.log(3), -Math.log(3)]]);
  });

  it("softmaxes along axis 0 when asked", () => {
    const p = softmax(randn([3, 5], 4), 0);
    expectClose(sum(p, 0), [1, 1, 1, 1, 1], 12);
  });

  it("makes logSoftmax equal log(softmax)", () => {
    const x = randn([5, 7], 11);
    expectClose(logSoftmax(x), log(softmax(x)), 12);
    expectClose(logSoftmax(x, 0), log(softmax(x, 0)), 12);
  });
});

describe("gather and oneHot", () => {
  const logits = tensor([
    [0.1, 0.2, 0.7],
    [0.5, 0.3, 0.2],
  ]);

  it("picks one column per row", () => {
    expect(Array.from(gather(logits, [2, 0]).data)).toEqual([0.7, 0.5]);
    expect(gather(logits, new Int32Array([1, 1])).shape).toEqual([2]);
  });

  it("agrees with summing a one-hot mask", () => {
    const labels = [2, 0];
    expect(Array.from(sum(mul(logits, oneHot(labels, 3)), 1).data)).toEqual(Array.from(gather(logits, labels).data));
    expect(toArray(oneHot(labels, 3))).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
  });

  it("rejects a label count that does not match the rows and labels out of range", () => {
    expect(shapeErrorOf(() => gather(logits, [0])).message).toMatch(/gather: .*\[2, 3\].*\[1\]/);
    expect(() => gather(logits, [0, 3])).toThrow(RangeError);
    expect(() => oneHot([1.5], 3)).toThrow(RangeError);
  });
});
