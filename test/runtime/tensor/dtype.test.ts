// float32 beside float64: how a dtype is chosen, that every op keeps it, and the rule for mixing.
import { describe, expect, it } from "vitest";
import * as T from "../../../runtime/tensor.ts";

const f32 = (shape: number[], seed = 1) => T.randn(shape, seed, "float32");

describe("dtypes", () => {
  it("are float64 unless a float32 is asked for, or given as a Float32Array", () => {
    expect(T.dtypeOf(T.tensor([1, 2, 3]))).toBe("float64");
    expect(T.dtypeOf(T.tensor([1, 2, 3], [3], "float32"))).toBe("float32");
    expect(T.dtypeOf(T.tensor([[1, 2]], undefined, "float32"))).toBe("float32");
    expect(T.dtypeOf(T.tensor(new Float32Array([1, 2]), [2]))).toBe("float32");
    expect(T.dtypeOf(T.tensor(new Float32Array([1, 2]), [2], "float64"))).toBe("float64");
    for (const make of [T.zeros, T.ones]) {
      expect(T.dtypeOf(make([2, 3]))).toBe("float64");
      expect(make([2, 3], "float32").data).toBeInstanceOf(Float32Array);
    }
    expect(T.full([2], 7, "float32").data).toEqual(new Float32Array([7, 7]));
    expect(T.dtypeOf(T.oneHot([0, 1], 2, "float32"))).toBe("float32");
    expect(T.dtypeOf(T.rand([3], 1, "float32"))).toBe("float32");
    expect(T.isTensor(f32([2]))).toBe(true);
  });

  it("draw the same random numbers in either dtype, rounded to float32", () => {
    const a = T.randn([101], 9);
    const b = T.randn([101], 9, "float32");
    expect(Array.from(b.data)).toEqual(Array.from(a.data, Math.fround));
  });

  it("convert with astype, which always copies", () => {
    const x = T.tensor([0.1, 1 / 3]);
    const y = T.astype(x, "float32");
    expect(Array.from(y.data)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    const z = T.astype(y, "float32");
    expect(z.data).not.toBe(y.data);
    expect(T.dtypeOf(T.astype(y, "float64"))).toBe("float64");
  });

  it("reject an unknown dtype, naming the op", () => {
    expect(() => T.zeros([2], "float16" as T.DType)).toThrow(/zeros: unknown dtype "float16"/);
    expect(() => T.tensor([1], [1], "int32" as T.DType)).toThrow(/tensor: unknown dtype/);
  });

  it("are kept by every op", () => {
    const x = f32([4, 5], 1);
    const w = f32([5, 3], 2);
    const b = f32([3], 3);
    const labels = [0, 2, 1, 1];
    const results: Record<string, T.Tensor> = {
      matmul: T.matmul(x, w),
      transpose: T.transpose(x),
      reshape: T.reshape(x, [20]),
      add: T.add(T.matmul(x, w), b),
      sub: T.sub(2, x),
      mul: T.mul(x, 0.5),
      div: T.div(x, 3),
      maximum: T.maximum(x, 0),
      gt: T.gt(x, 0),
      mask: T.mask(x, x),
      neg: T.neg(x),
      scale: T.scale(x, 2),
      exp: T.exp(x),
      log: T.log(T.exp(x)),
      tanh: T.tanh(x),
      sigmoid: T.sigmoid(x),
      relu: T.relu(x),
      sum: T.sum(x),
      sumAxis: T.sum(x, 1, true),
      mean: T.mean(x, 0),
      softmax: T.softmax(x),
      logSoftmax: T.logSoftmax(x, 1),
      sumTo: T.sumTo(x, [5]),
      broadcastTo: T.broadcastTo(T.sum(x, 0), [4, 5], 0),
      gather: T.gather(T.matmul(x, w), labels),
      scatter: T.scatter(T.sum(x, 1), labels, [4, 3]),
      zerosLike: T.zerosLike(x),
      onesLike: T.onesLike(x),
    };
    for (const [name, t] of Object.entries(results)) expect([name, T.dtypeOf(t)]).toEqual([name, "float32"]);
  });

  it("compute in float32 when float32 and float64 tensors meet, rounding the float64 values", () => {
    const a = T.tensor([1, 2, 3], [3], "float32");
    const b = T.tensor([0.1, 0.2, 0.3]);
    for (const r of [T.add(a, b), T.add(b, a), T.mul(b, a), T.mask(b, a), T.matmul(T.reshape(b, [1, 3]), T.reshape(a, [3, 1]))]) {
      expect(T.dtypeOf(r)).toBe("float32");
    }
    expect(Array.from(T.add(a, b).data)).toEqual([1, 2, 3].map((v, i) => Math.fround(v + Math.fround([0.1, 0.2, 0.3][i]!))));
    // float64 with float64, and float64 with plain numbers, stays float64
    expect(T.dtypeOf(T.add(b, b))).toBe("float64");
    expect(T.dtypeOf(T.mul(b, 2))).toBe("float64");
    expect(T.dtypeOf(T.add(a, 2))).toBe("float32");
  });

  it("give float32 results of float32 precision: 1 + 1e-8 is 1", () => {
    const one = T.ones([64], "float32");
    expect(T.add(one, 1e-8).data[0]).toBe(1);
    expect(T.add(T.ones([64]), 1e-8).data[0]).toBe(1 + 1e-8);
  });
});

describe("transpose, laid out when read", () => {
  it("reads as the transpose, in every way a tensor is read", () => {
    const a = T.tensor([[1, 2, 3], [4, 5, 6]], undefined, "float32");
    const t = T.transpose(a);
    expect(t.shape).toEqual([3, 2]);
    expect(T.dtypeOf(t)).toBe("float32");
    expect(T.toArray(t)).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect({ ...t }.data).toEqual(new Float32Array([1, 4, 2, 5, 3, 6]));
    expect(JSON.parse(JSON.stringify(T.transpose(a)))).toEqual({ data: { 0: 1, 1: 4, 2: 2, 3: 5, 4: 3, 5: 6 }, shape: [3, 2] });
    expect(T.toArray(T.transpose(T.transpose(a)))).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(T.isTensor(T.transpose(a))).toBe(true);
  });

  it("keeps the values its source had, when the source is updated in place afterwards", () => {
    const w = T.tensor([[1, 2], [3, 4]]);
    const wt = T.transpose(w);
    const x = T.tensor([[1, 0], [0, 1]]);
    w.data.fill(0); // what sgd does to a parameter
    expect(T.toArray(T.matmul(x, wt))).toEqual([[1, 3], [2, 4]]);
    expect(T.toArray(wt)).toEqual([[1, 3], [2, 4]]);
    // the same on the kernels (big enough to run them), for either operand
    const big = T.randn([24, 16], 5, "float32");
    const [left, right] = [T.transpose(big), T.transpose(big)];
    const [wantLeft, wantRight] = [T.matmul(T.transpose(big), big), T.matmul(big, T.transpose(big))];
    big.data.fill(0);
    expect(T.matmul(left, T.randn([24, 16], 5, "float32")).data).toEqual(wantLeft.data);
    expect(T.matmul(T.randn([24, 16], 5, "float32"), right).data).toEqual(wantRight.data);
  });
});

describe("one value broadcast (a fill), laid out when read", () => {
  const ops = [T.add, T.sub, T.mul, T.div, T.maximum, T.gt] as ((a: T.Tensor | number, b: T.Tensor | number) => T.Tensor)[];

  it("reads as the value everywhere, in its dtype", () => {
    const fill = T.broadcastTo(T.full([], 0.1, "float32"), [2, 3]);
    expect(T.dtypeOf(fill)).toBe("float32");
    expect(Array.from(fill.data)).toEqual(new Array(6).fill(Math.fround(0.1)));
    expect(T.toArray(T.broadcastTo(T.tensor([[7]]), [2, 2]))).toEqual([[7, 7], [7, 7]]);
  });

  it("gives every binary op the result of the laid-out tensor, on either side, with tensors, numbers and fills", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const t = T.randn([40, 3], 7, dtype);
      const row = T.randn([3], 8, dtype);
      const fill = () => T.broadcastTo(T.full([], -0.75), [40, 3]);
      const laid = T.full([40, 3], -0.75);
      for (const op of ops) {
        expect(op(fill(), t).data).toEqual(op(laid, t).data);
        expect(op(t, fill()).data).toEqual(op(t, laid).data);
        expect(op(fill(), row).data).toEqual(op(laid, row).data); // the fill is bigger: laid out
        expect(op(fill(), 2).data).toEqual(op(laid, 2).data);
        expect(op(3, fill()).data).toEqual(op(3, laid).data);
        expect(op(fill(), fill()).data).toEqual(op(laid, laid).data);
        expect(T.dtypeOf(op(fill(), t))).toBe(dtype);
      }
    }
  });

  it("is what a sum's backward pass multiplies by, and its gradient is unchanged", () => {
    const w = T.randn([30, 20], 3, "float32");
    const seed = T.broadcastTo(T.full([], 0.5), w.shape); // float64, as generated code makes it
    const grad = T.mul(seed, w);
    expect(T.dtypeOf(grad)).toBe("float32");
    expect(grad.data).toEqual(T.mul(w, 0.5).data);
  });
});
