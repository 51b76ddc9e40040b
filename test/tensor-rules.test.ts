/**
 * Table-driven tests of the tensor rules (`tensor.*` in the rule table): every rule with a
 * vector-Jacobian product appears in at least one example below, which is compiled in a
 * tiny module and checked against finite differences of ⟨dout, f⟩ with a random `dout`.
 * Positions that take a tensor or a number are exercised both ways, broadcasting included.
 * Each example is also compiled in forward mode: its `f_jvp` is checked against central
 * differences along random tangents and against `f_grad` by the dot-product test. And at
 * second order: the example squared and summed, `item(sum(mul(y, y)))`, gets an `f_hvp`
 * (forward over reverse, the tangents of its `f_grad`'s tensor calls), checked against
 * central differences of its `f_grad` along random directions.
 */
import { describe, expect, it } from "vitest";
import { RULES } from "../compiler/rules/rules.ts";
import { gradcheck, hvpcheck, jvpcheck } from "../runtime/gradcheck.ts";
import { isTensor, rand, randn, tensor, type Tensor } from "../runtime/tensor.ts";
import { compileAndLoad } from "./helpers/load.ts";

/** Away from 0: where relu, maximum and log kink or blow up. */
const offZero = (t: Tensor) => tensor(t.data.map((v) => (Math.abs(v) < 0.1 ? v + 0.3 : v)), t.shape);
const positive = (t: Tensor) => tensor(t.data.map((v) => 0.5 + Math.abs(v)), t.shape);
const labels = (n: number, classes: number, seed: number) => Int32Array.from(rand([n], seed).data, (u) => Math.floor(u * classes));

interface Example {
  /** Parameters of the function, as written. */
  readonly params: string;
  /** The expression it returns. */
  readonly body: string;
  readonly args: (seed: number) => unknown[];
  /** `@wrt`, when not every Tensor/number parameter is differentiated. */
  readonly wrt?: string;
}

const T = "Tensor";
const EXAMPLES: Example[] = [
  { params: `a: ${T}, b: ${T}`, body: "matmul(a, b)", args: (s) => [randn([3, 4], s), randn([4, 2], s + 1)] },
  { params: `a: ${T}`, body: "transpose(a)", args: (s) => [randn([3, 4], s)] },
  { params: `a: ${T}, shape: number[]`, body: "reshape(a, shape)", args: (s) => [randn([3, 4], s), [2, 6]], wrt: "a" },
  { params: `a: ${T}, b: ${T}`, body: "add(a, b)", args: (s) => [randn([3, 4], s), randn([4], s + 1)] },
  { params: `a: ${T}, b: ${T}`, body: "add(a, b)", args: (s) => [randn([3, 1], s), randn([1, 4], s + 1)] },
  { params: `a: ${T}, s: number`, body: "add(s, a)", args: (s) => [randn([2, 3], s), 0.7] },
  { params: `a: ${T}, b: ${T}`, body: "sub(a, b)", args: (s) => [randn([3, 4], s), randn([4], s + 1)] },
  { params: `a: ${T}, s: number`, body: "sub(a, s)", args: (s) => [randn([2, 3], s), -1.3] },
  { params: `a: ${T}, s: number`, body: "sub(s, a)", args: (s) => [randn([2, 3], s), 0.4] },
  { params: `a: ${T}, b: ${T}`, body: "mul(a, b)", args: (s) => [randn([3, 4], s), randn([3, 1], s + 1)] },
  { params: `a: ${T}, s: number`, body: "mul(a, s)", args: (s) => [randn([2, 3], s), 1.5] },
  { params: `a: ${T}, b: ${T}`, body: "div(a, b)", args: (s) => [randn([3, 4], s), positive(randn([4], s + 1))] },
  { params: `a: ${T}, s: number`, body: "div(s, a)", args: (s) => [positive(randn([2, 3], s)), 2.5] },
  { params: `a: ${T}`, body: "neg(a)", args: (s) => [randn([5], s)] },
  { params: `a: ${T}, s: number`, body: "scale(a, s)", args: (s) => [randn([2, 3], s), -0.8] },
  { params: `a: ${T}`, body: "exp(a)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "log(a)", args: (s) => [positive(randn([2, 3], s))] },
  { params: `a: ${T}`, body: "tanh(a)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "sigmoid(a)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "relu(a)", args: (s) => [offZero(randn([2, 3], s))] },
  { params: `a: ${T}, s: number`, body: "maximum(a, s)", args: (s) => [offZero(randn([2, 3], s)), 0] },
  { params: `a: ${T}, b: ${T}`, body: "maximum(a, b)", args: (s) => [randn([2, 3], s), randn([3], s + 1)] },
  { params: `a: ${T}`, body: "sum(a)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "sum(a, 0)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "sum(a, 1, true)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "mean(a)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "mean(a, -1)", args: (s) => [randn([2, 3], s)] },
  { params: `a: ${T}`, body: "softmax(a)", args: (s) => [randn([2, 4], s)] },
  { params: `a: ${T}`, body: "softmax(a, 0)", args: (s) => [randn([3, 2], s)] },
  { params: `a: ${T}`, body: "logSoftmax(a, 1)", args: (s) => [randn([2, 4], s)] },
  { params: `a: ${T}, y: Int32Array`, body: "gather(a, y)", args: (s) => [randn([4, 3], s), labels(4, 3, s + 1)] },
  { params: `v: ${T}, y: Int32Array, shape: number[]`, body: "scatter(v, y, shape)", args: (s) => [randn([4], s), labels(4, 3, s + 1), [4, 3]], wrt: "v" },
  { params: `a: ${T}, shape: number[]`, body: "sumTo(a, shape)", args: (s) => [randn([3, 4], s), [4]], wrt: "a" },
  { params: `a: ${T}, shape: number[]`, body: "broadcastTo(a, shape)", args: (s) => [randn([4], s), [3, 4]], wrt: "a" },
  { params: `a: ${T}, shape: number[]`, body: "broadcastTo(a, shape, 1)", args: (s) => [randn([3], s), [3, 4]], wrt: "a" },
  { params: `u: ${T}, x: ${T}`, body: "mask(u, x)", args: (s) => [randn([2, 3], s), offZero(randn([2, 3], s + 1))], wrt: "u" },
  { params: `a: ${T}`, body: "item(sum(a))", args: (s) => [randn([2, 3], s)] },
  { params: `s: number, shape: number[]`, body: "full(shape, s)", args: (s) => [rand([1], s).data[0]! - 0.5, [2, 3]], wrt: "s" },
];

const IMPORTS = Object.keys(RULES).filter((k) => k.startsWith("tensor.")).map((k) => k.slice(7));

function moduleFor(e: Example): string {
  const returns = e.body.startsWith("item(") ? "number" : "Tensor";
  const tags = ["@differentiable", ...(e.wrt ? [`@wrt ${e.wrt}`] : [])].map((t) => ` * ${t}`).join("\n");
  return `import { type Tensor, ${IMPORTS.join(", ")} } from "../runtime/tensor.ts";

/**
${tags}
 */
export function f(${e.params}): ${returns} {
  return ${e.body};
}
`;
}

/** The example squared and summed, with `@hvp`: a number of which each rule's second derivative matters. */
function squaredModule(e: Example): string {
  const tags = ["@differentiable @hvp", ...(e.wrt ? [`@wrt ${e.wrt}`] : [])].map((t) => ` * ${t}`).join("\n");
  const result = e.body.startsWith("item(") ? "out * out" : "item(sum(mul(out, out)))";
  return `import { type Tensor, ${IMPORTS.join(", ")} } from "../runtime/tensor.ts";

/**
${tags}
 */
export function f(${e.params}): number {
  const out = ${e.body};
  return ${result};
}
`;
}

describe("tensor rules", () => {
  it("every tensor rule with a vjp has an example", () => {
    const untested = Object.entries(RULES)
      .filter(([k, r]) => k.startsWith("tensor.") && r.vjp)
      .map(([k]) => k.slice(7))
      .filter((name) => !EXAMPLES.some((e) => new RegExp(`\\b${name}\\(`).test(e.body)));
    expect(untested).toEqual([]);
  });

  for (const e of EXAMPLES) it(`${e.body} (${e.params}) matches finite differences`, async () => {
    const source = moduleFor(e);
    const { original, grad, output } = await compileAndLoad(source);
    for (const seed of [1, 2, 3]) {
      const args = e.args(seed * 10);
      const y = original.f!(...args);
      const dout = isTensor(y) ? randn(y.shape, seed + 99) : -1.5;
      const result = gradcheck(original.f!, grad.f_grad!, args as number[], { dout, atol: 1e-6, rtol: 1e-5 });
      expect(result.ok, `${result.report}\n--- generated ---\n${output}`).toBe(true);
    }
  });

  for (const e of EXAMPLES) it(`${e.body} (${e.params}) in forward mode matches finite differences and its vjp`, async () => {
    const source = moduleFor(e);
    const { original, grad, output } = await compileAndLoad(source, "model.ts", { jvp: true });
    const names = e.params.split(",").map((p) => p.split(":")[0]!.trim());
    for (const seed of [1, 2, 3]) {
      const args = e.args(seed * 10);
      const y = original.f!(...args);
      const dout = isTensor(y) ? randn(y.shape, seed + 99) : -1.5;
      const wrt = Object.keys(grad.f_grad!(...args, dout).grad);
      const tangents: Record<string, number | Tensor> = {};
      names.forEach((name, i) => {
        if (!wrt.includes(name)) return;
        const a = args[i];
        tangents[name] = isTensor(a) ? randn(a.shape, seed + 7 * i + 50) : 0.6 - 0.3 * i;
      });
      const result = jvpcheck(original.f!, grad.f_jvp!, args as number[], tangents, { names, grad: { fGrad: grad.f_grad!, dout }, atol: 1e-6, rtol: 1e-5 });
      expect(result.ok, `${result.report}\n--- generated ---\n${output}`).toBe(true);
    }
  });

  for (const e of EXAMPLES) it(`${e.body} (${e.params}), squared and summed, has an f_hvp matching differences of its f_grad`, async () => {
    const { grad, output } = await compileAndLoad(squaredModule(e), "model.ts");
    const names = e.params.split(",").map((p) => p.split(":")[0]!.trim());
    for (const seed of [1, 2, 3]) {
      const args = e.args(seed * 10);
      const wrt = Object.keys(grad.f_grad!(...args).grad);
      const v: Record<string, number | Tensor> = {};
      names.forEach((name, i) => {
        if (!wrt.includes(name)) return;
        const a = args[i];
        v[name] = isTensor(a) ? randn(a.shape, seed + 7 * i + 70) : 0.5 - 0.4 * i;
      });
      const result = hvpcheck(grad.f_grad!, grad.f_hvp!, args as number[], v, { names, atol: 1e-6, rtol: 1e-5 });
      expect(result.ok, `${result.report}\n--- generated ---\n${output}`).toBe(true);
    }
  });
});
