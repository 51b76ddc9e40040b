/**
 * Calls of other functions (inlined into the caller's gradient) and custom gradients
 * (`@gradient`, kept as calls of the user's forward and backward), on small modules
 * compiled in memory and checked against finite differences.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { randn, type Tensor } from "../../runtime/tensor.ts";
import { load } from "../helpers/load.ts";

type Exports = Record<string, (...args: any[]) => any>;

/**
 * Compiles `src/model.ts` with the other modules given by path, and loads the original
 * module and its gradient module (with `packages` for bare imports).
 */
async function build(source: string, others: Record<string, string> = {}, packages: Record<string, unknown> = {}) {
  const result = await compile(source, "src/model.ts", { readFile: (path) => others[path] });
  if (result.output === null) throw new Error(result.diagnostics.map((d) => formatDiagnostic(d, d.file === "src/model.ts" ? source : others[d.file])).join("\n"));
  // each module sees the others by the specifiers the sources and the generated code use
  const modules: Record<string, unknown> = { ...packages };
  for (const [path, text] of Object.entries(others)) {
    const exports = load(text, modules);
    const name = path.replace(/^src\//, "./");
    modules[name] = exports;
    modules[name.replace(/\.ts$/, "")] = exports;
    modules[name.replace(/\.ts$/, ".js")] = exports;
  }
  const original: Exports = load(source, modules);
  modules["./model.ts"] = original;
  modules["./model.js"] = original;
  return { original, grad: load(result.output, modules) as Exports, output: result.output };
}

/** gradcheck at a few points of [-2, 2]. */
function check(f: Exports[string], fGrad: Exports[string], arity: number, context: string) {
  for (const k of [1, 2, 3, 4, 5]) {
    const args = Array.from({ length: arity }, (_, i) => Math.sin(7 * k + 3 * i) * 2);
    const result = gradcheck(f, fGrad, args);
    expect(result.ok, `${result.report}\n${context}`).toBe(true);
    expect(fGrad(...args).value).toBe(f(...args));
  }
}

describe("calls of functions tsgrad reads", () => {
  it("keep the callee's variables apart from the caller's, even with the same names", async () => {
    const source = `function scaled(v: number): number {
  let t = v * 2;
  t = t + 1;
  return t * v;
}

/** @differentiable */
export function f(x: number, t: number): number {
  let v = x + t;
  const a = scaled(v);
  v = v * a;
  return scaled(t) + v + t;
}
`;
    const { original, grad, output } = await build(source);
    check(original.f!, grad.f_grad!, 2, output);
    // the caller's own names stay exact; the callee's are renamed where they clash
    expect(output).toContain("const v = x + t; // line 9");
    expect(output).toMatch(/const t_1 = v \* 2; \/\/ line 2 \(scaled\)/);
    expect(output).toMatch(/const t_3 = t \* 2; \/\/ line 2 \(scaled\)/);
  });

  it("inline a helper that reassigns its parameter, returns a boolean, or takes an array", async () => {
    const source = `function positive(v: number): boolean {
  return v > 0;
}

function shrink(v: number): number {
  v = v / 2;
  v -= 0.25;
  return v;
}

function total(xs: number[], w: number): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += positive(xs[i]) ? w * xs[i] : shrink(xs[i]);
  }
  return s;
}

/** @differentiable */
export function f(xs: number[], w: number): number {
  return total(xs, w) * total(xs, shrink(w));
}
`;
    const { original, grad, output } = await build(source);
    for (const k of [1, 2, 3]) {
      const xs = [0.5, -1.25, 1.5, -0.3].map((x) => x * k);
      const result = gradcheck(original.f!, grad.f_grad!, [xs, 0.7 * k]);
      expect(result.ok, `${result.report}\n${output}`).toBe(true);
    }
  });

  it("point the line comments of inlined code at the callee's lines, naming it", async () => {
    const source = `function cube(v: number): number {
  return v * v * v;
}

/** @differentiable */
export function f(x: number): number {
  return Math.sin(cube(x));
}
`;
    const { output } = await build(source);
    expect(output).toMatch(/const cube = prod \* x; \/\/ line 2 \(cube\)/);
    expect(output).toMatch(/\/\/ line 2 \(cube\): v \* v \* v/);
    expect(output).toMatch(/\/\/ line 7: Math\.sin\(cube\(x\)\)/);
  });

  it("read a function of another module, with its own imports rebased for the generated module", async () => {
    const source = `import { act } from "./lib/act";\n\n/** @differentiable */\nexport function f(x: number, y: number): number {\n  const sigmoid = x * y;\n  return act(sigmoid) + act(y);\n}\n`;
    const act = `import { sigmoid } from "../../runtime/index.ts";\n\nexport function act(v: number): number {\n  return v * sigmoid(v);\n}\n`;
    const { original, grad, output } = await build(source, { "src/lib/act.ts": act });
    check(original.f!, grad.f_grad!, 2, output);
    // the runtime is one directory up from the generated file, and its `sigmoid` is renamed
    // away from the caller's variable of that name
    expect(output).toContain(`import { sigmoid as sigmoid_1 } from "../runtime/index.ts";`);
    expect(output).toMatch(/\/\/ line 4 \(act, src\/lib\/act\.ts\)|\/\/ line 4 \(act, act\.ts\)/);
  });

  it("keep a package's function as a call without a gradient where no differentiated value reaches it, and drop unused imports", async () => {
    const source = `import { clampIndex, unused } from "indexing";

/**
 * @differentiable
 * @wrt x xs
 */
export function f(x: number, xs: number[], n: number): number {
  const dead = unused(n);
  return x * xs[clampIndex(n, xs.length)];
}
`;
    const indexing = { clampIndex: (n: number, len: number) => Math.max(0, Math.min(len - 1, Math.round(n))), unused: () => 0 };
    const { original, grad, output } = await build(source, {}, { indexing });
    expect(output).toContain(`import { clampIndex } from "indexing";`);
    const result = gradcheck(original.f!, grad.f_grad!, [1.5, [1, 2, 3], 7]);
    expect(result.ok, result.report).toBe(true);
  });
});

describe("inlined code folded into its caller's expressions (found by the property test)", () => {
  // the helper's ternary folds into the caller's `<`: `a < (b > c ? ...)` would read as type arguments,
  // and its inactive arm computes only what is recomputed where read, which once left an empty `if`
  const source = `function pick(x: number, y: number): number {
  return y > x + y ? y : y / (1 + y * y);
}

/** @differentiable */
export function f(x: number): number {
  if (Math.max(x + x, x + Math.sin(x)) < pick(x + x > x ? 0.5 : x, Math.sin(x))) {
  } else {
    x = Math.sin(x);
  }
  return x;
}
`;

  it("print as TypeScript that parses, with no empty statements, and differentiate right", async () => {
    const { original, grad, output } = await build(source);
    expect(output).not.toMatch(/\{\s*\}/);
    expect(output).toMatch(/\) > Math\.max\(x \+ x, x \+ Math\.sin\(x\)\)/);
    check(original.f!, grad.f_grad!, 1, output);
  });
});

describe("custom gradients (@gradient)", () => {
  const pair = `/** @gradient pairBackward */
export function pair(a: number, b: number, swap: boolean): number {
  return swap ? b * Math.exp(a) : a * Math.exp(b);
}

/** One gradient per parameter: the flag's entry is ignored. */
export function pairBackward(a: number, b: number, swap: boolean, out: number, dout: number): [number, number, null] {
  return swap ? [out * dout, Math.exp(a) * dout, null] : [Math.exp(b) * dout, out * dout, null];
}
`;

  it("call the user's backward with the inputs, the output and the upstream gradient; a tuple gives one gradient per input", async () => {
    const source = `import { pair } from "./pair.ts";\n\n/** @differentiable */\nexport function f(x: number, y: number): number {\n  return pair(x * y, y, false) + pair(y, x, true);\n}\n`;
    const { original, grad, output } = await build(source, { "src/pair.ts": pair });
    check(original.f!, grad.f_grad!, 2, output);
    expect(output).toContain(`import { pair, pairBackward } from "./pair.ts";`);
    // the tuple is computed once per call, not once per input
    expect(output.match(/pairBackward\(/g)).toHaveLength(2);
  });

  it("are used, not the body, by every caller: a wrong backward gives a wrong gradient", async () => {
    const source = `/** @gradient twiceBackward */\nexport function twice(x: number): number {\n  return 2 * x;\n}\n\nexport function twiceBackward(x: number, out: number, dout: number): number {\n  return 3 * dout;\n}\n\n/** @differentiable */\nexport function f(x: number): number {\n  return twice(x) * 5;\n}\n`;
    const { grad } = await build(source);
    expect(grad.f_grad!(1.5).grad.x).toBe(15);
  });

  it("work for Tensor parameters and results", async () => {
    const source = `import { item, matmul, mul, sub, sum, tanh } from "../runtime/tensor.ts";
import type { Tensor } from "../runtime/tensor.ts";

/** @gradient scaledTanhBackward */
export function scaledTanh(t: Tensor, s: Tensor): Tensor {
  return mul(tanh(t), s);
}

export function scaledTanhBackward(t: Tensor, s: Tensor, out: Tensor, dout: Tensor): [Tensor, Tensor] {
  const th = tanh(t);
  return [mul(mul(dout, s), sub(1, mul(th, th))), mul(dout, th)];
}

/** @differentiable */
export function f(W: Tensor, X: Tensor, s: Tensor): number {
  return item(sum(scaledTanh(matmul(X, W), s)));
}
`;
    const { original, grad, output } = await build(source);
    const args: Tensor[] = [randn([3, 2], 1), randn([4, 3], 2), randn([4, 2], 3)];
    const result = gradcheck(original.f!, grad.f_grad!, args, { atol: 1e-5, rtol: 1e-4 });
    expect(result.ok, `${result.report}\n${output}`).toBe(true);
    expect(output).toContain("const scaledTanhGrads = scaledTanhBackward(");
  });

  it("work for a Float64Array parameter, with the whole-array gradient added to the element reads'", async () => {
    const source = `/** @gradient normBackward */
export function norm(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

export function normBackward(v: Float64Array, out: number, dout: number): Float64Array {
  return v.map((x) => (x / out) * dout);
}

/** @differentiable */
export function f(v: Float64Array): number {
  return norm(v) * v[0] + norm(v);
}
`;
    const { original, grad, output } = await build(source);
    const result = gradcheck(original.f!, grad.f_grad!, [Float64Array.from([0.5, -1, 2])]);
    expect(result.ok, `${result.report}\n${output}`).toBe(true);
    expect(grad.f_grad!(Float64Array.from([0.5, -1, 2])).grad.v).toBeInstanceOf(Float64Array);
  });

  it("make a tagged function's own gradient its forward and backward calls", async () => {
    const source = `/**\n * @differentiable\n * @gradient squareBackward\n */\nexport function square(x: number): number {\n  return x * x;\n}\n\nexport function squareBackward(x: number, out: number, dout: number): number {\n  return 2 * x * dout;\n}\n`;
    const { original, grad, output } = await build(source);
    check(original.square!, grad.square_grad!, 1, output);
    expect(output).toContain("const value = square(x);");
    expect(output).toContain("const dx = squareBackward(x, value, dout);");
  });
});
