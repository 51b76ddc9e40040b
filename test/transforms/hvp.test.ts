/**
 * Second order (`@hvp`, transforms/hvp.ts): `f_hvp` against central differences of
 * `f_grad` along random directions (runtime `hvpcheck`), over every fixture `--hvp` gives
 * one to; the explicit Hessian, built column by column from `f_hvp`, symmetric and equal to
 * the closed form for Rosenbrock; and the located errors where `@hvp` is not supported.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { hvpcheck, isTensor, rand, randn, tensor, type Tensor } from "../../runtime/index.ts";
import { fixtureInputs } from "../helpers/fixtures.ts";
import { ARRAY_INPUTS, TENSOR_INPUTS, TENSOR_POINTS } from "../helpers/fixture-inputs.ts";
import { compileAndLoad, loadBeside, readFixture } from "../helpers/load.ts";

const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);

/**
 * Arguments for the functions with array, record, tuple or nested-array parameters or narrow
 * domains, by name: these, else the fixtures' own (test/helpers/fixture-inputs.ts).
 */
const INPUTS: Record<string, (seed: number) => unknown[]> = {
  ...ARRAY_INPUTS,
  rosenbrock: (s) => [uniform(6, s, -1.5, 1.5)],
  damped: (s) => [uniform(1, s)[0], Float64Array.from(uniform(7, s + 1, -2, 2))],
  polyFit: (s) => { const u = uniform(3, s); return [u[0], u[1], u[2], uniform(6, s + 1, -2, 2), uniform(6, s + 2)]; },
  recurrence: (s) => { const u = uniform(3, s); return [u[0], u[1], u[2], Float64Array.from(uniform(7, s + 1, -2, 2))]; },
  softmaxCE: (s) => [uniform(5, s, -3, 3), s % 5],
  sumSquares: (s) => [uniform(s % 6, s, -2, 2)],
  chainProduct: (s) => [uniform(1 + (s % 5), s, -2, 2)],
  roughness: (s) => [uniform(s % 7, s, -2, 2)],
  logSumExpSpread: (s) => [uniform(1 + (s % 6), s, -3, 3)],
  weightedSquares: (s) => [uniform(6, s, -2, 2), uniform(1, s + 1)[0]],
  smoothTwice: (s) => [uniform(6, s, -2, 2), 0.2 + 0.6 * uniform(1, s + 1, 0, 1)[0]!],
  gaussianNll: (s) => [uniform(2 + (s % 7), s, -3, 3), uniform(1, s + 1)[0], uniform(1, s + 2, -1, 1)[0]],
  switchInLoop: (s) => [uniform(1, s, -2, 2)[0]!, uniform(9, s + 1, -2, 2)],
};

/** A direction shaped like the gradient: a number, an array as long, a Tensor of its shape, a record or tuple of those, rows (as `v` takes them). */
function directionFor(grad: Record<string, unknown>, seed: number): Record<string, unknown> {
  let k = seed;
  const like = (g: unknown): unknown => {
    if (typeof g === "number") return uniform(1, k++)[0]!;
    if (isTensor(g)) return randn(g.shape, k++);
    if (ArrayBuffer.isView(g) || (Array.isArray(g) && g.every((x) => typeof x === "number"))) return uniform((g as ArrayLike<number>).length, k++);
    if (Array.isArray(g)) return g.map(like);
    return Object.fromEntries(Object.entries(g as object).map(([key, x]) => [key, like(x)]));
  };
  return like(grad) as Record<string, unknown>;
}

async function compiled(input: string) {
  const source = readFileSync(input, "utf8");
  const { output, diagnostics } = await compile(source, input, { readFile: readFixture, hvp: true });
  expect(diagnostics).toEqual([]);
  return loadBeside(output!, input, new Map());
}

/** The functions whose f_hvp was checked against differences (more than 80: loops, scalars, Tensor functions, records, tuples, rows). */
const checked = new Set<string>();

describe("f_hvp against central differences of f_grad along v (--hvp on every fixture)", () => {
  const inputs = fixtureInputs();
  afterAll(() => {
    if (process.env.HVP_COUNT) console.log(`checked ${checked.size}: ${[...checked].join(" ")}`);
    expect(checked.size).toBeGreaterThanOrEqual(80);
    // records (nested ones, arrays in them, a helper taking one), tuples, rows, data records
    for (const name of ["linearLoss", "destructured", "nested", "twoTargets", "oscillate", "polarDistance", "matvecError", "twoLayerRows", "quadratic", "softmaxLoss", "weightedFit", "lineLoss"]) {
      expect(checked, name).toContain(name);
    }
    // the Tensor functions among them (fixtures/two_layer.ts, tensor_loops.ts, svm.ts)
    expect([...checked].filter((name) => TENSOR_INPUTS[name])).toEqual(expect.arrayContaining(["twoLayer", "deepTanh", "residualStack", "svmLoss"]));
  });
  it.each(inputs)("%s", async (input) => {
    const generated = await compiled(input);
    const source = readFileSync(input, "utf8");
    const names = Object.keys(generated).filter((k) => k.endsWith("_hvp")).map((k) => k.slice(0, -4));
    for (const name of names) {
      const fGrad = generated[`${name}_grad`]!;
      const fHvp = generated[`${name}_hvp`]!;
      const params = paramList(source, name);
      const cases: unknown[][] = [];
      if (INPUTS[name]) for (let p = 0; p < 6; p++) cases.push(INPUTS[name]!(100 * p + 1));
      else if (TENSOR_INPUTS[name]) for (let p = 0; p < TENSOR_POINTS; p++) cases.push(TENSOR_INPUTS[name]!(100 * p + 1).args);
      else if (params.every((t) => t === "number")) for (let p = 0; p < 6; p++) cases.push(uniform(params.length, 17 * p + 5, 0.2, 0.7));
      else continue; // integer counts, flags, data: their own fixture test draws them
      checked.add(name);
      cases.forEach((args, p) => {
        const v = directionFor(fGrad(...args).grad, 7 * p + 3);
        const result = hvpcheck(fGrad, fHvp, args as number[], v as Record<string, number>, { names: paramNames(source, name), atol: 1e-5, rtol: 1e-4 });
        expect(result.ok, result.report).toBe(true);
      });
    }
  });
});

describe("the --hvp output of every fixture", () => {
  it("type-checks under tsc --strict with unused locals", async () => {
    const outputs = new Map<string, string>();
    for (const input of fixtureInputs()) {
      const { output } = await compile(readFileSync(input, "utf8"), input, { readFile: readFixture, hvp: true });
      outputs.set(resolve(input.replace(/\.ts$/, ".hvp.ts")), output!);
    }
    const options: ts.CompilerOptions = {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true,
      noUnusedLocals: true, skipLibCheck: true, types: [],
    };
    const host = ts.createCompilerHost(options);
    const read = host.getSourceFile;
    host.getSourceFile = (file, version, ...rest) => {
      const text = outputs.get(resolve(file));
      return text !== undefined ? ts.createSourceFile(file, text, version) : read(file, version, ...rest);
    };
    const exists = host.fileExists;
    host.fileExists = (file) => outputs.has(resolve(file)) || exists(file);
    const program = ts.createProgram([...outputs.keys()], options, host);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName}:${d.file?.getLineAndCharacterOfPosition(d.start ?? 0).line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    expect(errors).toEqual([]);
    expect([...outputs.values()].join("").match(/export function \w+_hvp\(/g)!.length).toBeGreaterThan(60);
  }, 120_000);
});

describe("the Hessian built column by column from f_hvp", () => {
  it("is Rosenbrock's, in closed form, and symmetric (n = 6)", async () => {
    const { rosenbrock_hvp } = await compiled("fixtures/second_order.ts");
    const x = uniform(6, 42, -1.5, 1.5);
    const n = x.length;
    const H = Array.from({ length: n }, (_, j) => Array.from(rosenbrock_hvp!(x, { x: x.map((_, k) => (k === j ? 1 : 0)) }).hvp.x as Float64Array));
    // ∂²/∂x_i² = 2 − 400 (x_{i+1} − x_i²) + 800 x_i² (i < n−1), + 200 (i > 0); ∂²/∂x_i∂x_{i+1} = −400 x_i
    const exact = (i: number, j: number) => {
      if (i === j) return (i < n - 1 ? 2 - 400 * (x[i + 1]! - x[i]! ** 2) + 800 * x[i]! ** 2 : 0) + (i > 0 ? 200 : 0);
      if (Math.abs(i - j) === 1) return -400 * x[Math.min(i, j)]!;
      return 0;
    };
    let asym = 0;
    let err = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        asym = Math.max(asym, Math.abs(H[i]![j]! - H[j]![i]!));
        err = Math.max(err, Math.abs(H[i]![j]! - exact(i, j)));
      }
    }
    expect(asym).toBeLessThanOrEqual(1e-12);
    expect(err).toBeLessThanOrEqual(1e-9);
  });

  it.each([
    ["fixtures/staged.ts", "staged", [0.7, -0.4]],
    ["fixtures/second_order.ts", "iterated", [0.6, 0.9]],
    ["fixtures/second_order.ts", "damped", [0.8, Float64Array.from([0.3, -0.5, 1.1])]],
  ] as const)("%s %s: symmetric, and each column the central difference of f_grad", async (input, name, args) => {
    const generated = await compiled(input);
    const fGrad = generated[`${name}_grad`]!;
    const fHvp = generated[`${name}_hvp`]!;
    // the gradient flattened, in parameter order
    const flatGrad = (a: readonly unknown[]) => Object.values(fGrad(...a).grad).flatMap((g) => (typeof g === "number" ? [g] : Array.from(g as ArrayLike<number>)));
    const keys = Object.keys(fGrad(...args).grad);
    const sizes = keys.map((_, i) => (typeof args[i] === "number" ? 0 : (args[i] as ArrayLike<number>).length));
    const n = sizes.reduce((a, s) => a + Math.max(1, s), 0);
    const unit = (j: number) => {
      let at = 0;
      return Object.fromEntries(keys.map((k, i) => {
        const len = Math.max(1, sizes[i]!);
        const e = Array.from({ length: len }, (_, q) => (at + q === j ? 1 : 0));
        at += len;
        return [k, sizes[i] === 0 ? e[0]! : Float64Array.from(e)];
      }));
    };
    const move = (j: number, h: number) => {
      const u = unit(j);
      return args.map((a, i) => (typeof a === "number" ? a + h * (u[keys[i]!] as number) : Float64Array.from(a as ArrayLike<number>, (x, q) => x + h * (u[keys[i]!] as Float64Array)[q]!)));
    };
    const columns = Array.from({ length: n }, (_, j) => Object.values(fHvp(...args, unit(j)).hvp).flatMap((g) => (typeof g === "number" ? [g] : Array.from(g as ArrayLike<number>))));
    const h = 1e-5;
    for (let j = 0; j < n; j++) {
      const fd = flatGrad(move(j, h)).map((g, i) => (g - flatGrad(move(j, -h))[i]!) / (2 * h));
      for (let i = 0; i < n; i++) {
        expect(Math.abs(columns[j]![i]! - columns[i]![j]!)).toBeLessThanOrEqual(1e-12);
        expect(Math.abs(columns[j]![i]! - fd[i]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(fd[i]!)));
      }
    }
  });

  it("gives a parameter that is not differentiated, but is overwritten in a loop by a value that is, a zero tangent to start from", async () => {
    const source = `/**\n * @differentiable @hvp\n * @wrt w\n */\nexport function f(w: number, x: number, xs: number[]): number {\n  for (let i = 0; i < xs.length; i++) {\n    x = Math.sin(x * w + xs[i]);\n  }\n  return x * w;\n}\n`;
    const { output, diagnostics } = await compile(source, "model.ts");
    expect(diagnostics).toEqual([]);
    expect(output).toContain("let x_dot = 0;");
    const { f_grad, f_hvp } = loadBeside(output!, "model.ts", new Map());
    const result = hvpcheck(f_grad!, f_hvp!, [0.7, 0.4, [0.1, -0.3, 0.5]], { w: 1 }, { names: ["w", "x", "xs"] });
    expect(result.ok, result.report).toBe(true);
  });

  it("of a function of Tensors, its operations imported under other names (`matmul as mm`): symmetric, each entry the difference of f_grad", async () => {
    const source = `import { add, item, matmul as mm, mean, mul, tanh as th, type Tensor } from "../runtime/tensor.ts";\n/**\n * @differentiable @hvp\n * @wrt W b\n */\nexport function f(W: Tensor, b: Tensor, x: Tensor): number {\n  const h = th(add(mm(x, W), b));\n  return item(mean(mul(h, h)));\n}\n`;
    const { grad, output } = await compileAndLoad(source, "model.ts");
    expect(output).toContain("const mm_1_dot = mm(x, W_dot);");
    expect(output).toContain("const dW_dot = mm(transpose(x), dmm_1_dot);");
    const [W, b, x] = [randn([2, 2], 3), randn([2], 4), randn([3, 2], 5)];
    const unit = (j: number) => ({ W: tensor(Array.from({ length: 4 }, (_, k) => (k === j ? 1 : 0)), [2, 2]), b: tensor(Array.from({ length: 2 }, (_, k) => (k === j - 4 ? 1 : 0)), [2]) });
    const columns = Array.from({ length: 6 }, (_, j) => {
      const { hvp } = grad.f_hvp!(W, b, x, unit(j)) as { hvp: { W: Tensor; b: Tensor } };
      return [...hvp.W.data, ...hvp.b.data];
    });
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(Math.abs(columns[i]![j]! - columns[j]![i]!)).toBeLessThanOrEqual(1e-12);
    for (let p = 0; p < 3; p++) {
      const result = hvpcheck(grad.f_grad!, grad.f_hvp!, [W, b, x] as never, { W: randn([2, 2], 10 + p), b: randn([2], 20 + p) } as never, { names: ["W", "b", "x"], atol: 1e-6, rtol: 1e-5 });
      expect(result.ok, result.report).toBe(true);
    }
  });

  it("takes a missing key as a zero direction", async () => {
    const { staged_hvp, staged_grad } = await compiled("fixtures/staged.ts");
    const r = staged_hvp!(0.3, 0.8, {});
    expect(r.hvp).toEqual({ x: 0, y: 0 });
    expect(r.grad).toEqual(staged_grad!(0.3, 0.8).grad);
    const onlyX = staged_hvp!(0.3, 0.8, { x: 1 }).hvp;
    const both = staged_hvp!(0.3, 0.8, { x: 1, y: 0 }).hvp;
    expect(onlyX).toEqual(both);
  });
});

describe("f_hvp of records, tuples and rows takes v and gives hvp shaped like grad", () => {
  it("a record: v.params?.w, hvp.params.w (arrays Float64Array as in grad), a missing field a zero direction", async () => {
    const { linearLoss_grad, linearLoss_hvp } = await compiled("fixtures/records.ts");
    const args = [{ w: [0.3, -0.2, 0.5], b: 0.1 }, [1, 2, -1], 0.4] as const;
    const r = linearLoss_hvp!(...args, { params: { w: [1, 0, 0] } });
    expect(r.grad).toEqual(linearLoss_grad!(...args).grad);
    expect(Object.keys(r.hvp)).toEqual(["params", "x", "y"]);
    expect(r.hvp.params.w).toBeInstanceOf(Float64Array);
    // H = 2 aaᵀ for the residual's gradient a = (x, 1): the column of w[0] is 2 x[0] (x, 1, ...)
    expect(Array.from(r.hvp.params.w as Float64Array)).toEqual([2, 4, -2]);
    expect(r.hvp.params.b).toBe(2);
    const none = linearLoss_hvp!(...args, {});
    expect(Array.from(none.hvp.params.w as Float64Array)).toEqual([0, 0, 0]);
  });
  it("a tuple: v.state as [number, number], hvp.state a tuple", async () => {
    const { oscillate_grad, oscillate_hvp } = await compiled("fixtures/tuples.ts");
    const r = oscillate_hvp!([0.5, -0.3], 0.8, { state: [1, 0] });
    expect(Array.isArray(r.hvp.state) && r.hvp.state.length).toBe(2);
    const result = hvpcheck(oscillate_grad!, oscillate_hvp!, [[0.5, -0.3], 0.8], { state: [1, -2], k: 0.5 } as never, { names: ["state", "k"] });
    expect(result.ok, result.report).toBe(true);
  });
  it("hvpcheck catches a wrong number in a record's hvp, and an hvp not shaped like grad", async () => {
    const { linearLoss_grad, linearLoss_hvp } = await compiled("fixtures/records.ts");
    const args = [{ w: [0.3, -0.2, 0.5], b: 0.1 }, [1, 2, -1], 0.4];
    const v = { params: { w: [0.5, 1, -1], b: 0.3 } };
    expect(hvpcheck(linearLoss_grad!, linearLoss_hvp!, args, v as never, { names: ["params", "x", "y"] }).ok).toBe(true);
    const off = (...a: unknown[]) => {
      const r = linearLoss_hvp!(...a);
      return { ...r, hvp: { ...r.hvp, params: { ...r.hvp.params, b: r.hvp.params.b * 1.001 } } };
    };
    const bad = hvpcheck(linearLoss_grad!, off, args, v as never, { names: ["params", "x", "y"] });
    expect(bad.ok).toBe(false);
    expect(bad.report).toMatch(/✗\s+hvp\.params\.b/);
    const flat = (...a: unknown[]) => ({ ...linearLoss_hvp!(...a), hvp: { ...linearLoss_hvp!(...a).hvp, params: [1, 2, 3, 4] } });
    expect(() => hvpcheck(linearLoss_grad!, flat, args, v as never, { names: ["params", "x", "y"] })).toThrow(/hvp\.params is not shaped like grad\.params/);
  });
  it("rows: v.W as number[][], hvp.W rows of Float64Array as grad.W, symmetric in W", async () => {
    const { matvecError_hvp } = await compiled("fixtures/nested.ts");
    const W = [[0.5, -1, 0.25], [2, 0.3, -0.7]];
    const x = [0.2, -0.4, 1.1];
    const unit = (i: number, j: number) => W.map((row, a) => row.map((_, b) => (a === i && b === j ? 1 : 0)));
    const col = (i: number, j: number) => matvecError_hvp!(W, x, [0, 0], { W: unit(i, j) }).hvp.W as Float64Array[];
    expect(col(0, 0)[0]).toBeInstanceOf(Float64Array);
    // ∂²/∂W[i][j]∂W[k][l] = δ_ik x_j x_l
    for (const [i, j, k, l] of [[0, 0, 0, 2], [1, 1, 1, 0], [0, 1, 1, 1]] as const) {
      expect(col(i, j)[k]![l]).toBeCloseTo(col(k, l)[i]![j]!, 14);
      expect(col(i, j)[k]![l]).toBeCloseTo(i === k ? x[j]! * x[l]! : 0, 14);
    }
  });
});

/** A function calling one with a custom gradient: `sq(x) + x`. */
const CUSTOM = `/** @differentiable @gradient sqBackward */\nexport function sq(x: number): number {\n  return x * x;\n}\nexport function sqBackward(x: number, out: number, dout: number): number {\n  return 2 * x * dout;\n}\n/** @differentiable @hvp */\nexport function f(x: number): number {\n  return sq(x) + x;\n}\n`;

describe("where @hvp is not supported, a located error says what to do", () => {
  const errorOf = async (source: string) => {
    const { diagnostics } = await compile(source, "model.ts");
    expect(diagnostics).toHaveLength(1);
    return diagnostics[0]!;
  };
  it("a Tensor result", async () => {
    const d = await errorOf(`import { tanh, type Tensor } from "tsgrad/tensor";\n/** @differentiable @hvp */\nexport function f(W: Tensor): Tensor {\n  return tanh(W);\n}\n`);
    expect([d.line, d.col]).toEqual([3, 17]);
    expect(d.message).toMatch(/`@hvp` needs a `number` result: .* `f` returns a Tensor: give `@hvp` to a function that reduces it to a number \(a loss, `item\(sum\(\.\.\.\)\)`\), or leave `@hvp` off `f`/);
  });
  it("an array result", async () => {
    const d = await errorOf(`/** @differentiable @hvp */\nexport function f(x: number[]): number[] {\n  return [x[0] * x[1]];\n}\n`);
    expect(d.message).toMatch(/`@hvp` needs a `number` result/);
  });
  it("a call with a custom gradient: at the call, saying what to write instead, and what it says works", async () => {
    const d = await errorOf(CUSTOM);
    expect([d.line, d.col]).toEqual([10, 10]);
    expect(d.message).toMatch(/^`f_hvp` \(`@hvp`\) cannot differentiate this call of `sq` twice: `sq` has a custom gradient \(`@gradient sqBackward`\), and the Hessian needs the derivative of `sqBackward` itself.*: drop `@gradient sqBackward` from `sq` so that tsgrad differentiates its body twice, or leave `@hvp` off `f`$/);
    const { output, diagnostics } = await compile(CUSTOM.replace(" @gradient sqBackward", ""), "model.ts");
    expect(diagnostics).toEqual([]);
    const { f_grad, f_hvp } = loadBeside(output!, "model.ts", new Map());
    expect(f_hvp!(0.7, { x: 1 }).hvp.x).toBe(2);
    const result = hvpcheck(f_grad!, f_hvp!, [0.7], { x: -0.4 }, { names: ["x"] });
    expect(result.ok, result.report).toBe(true);
  });
  it("a call with a custom gradient and a @tangent too, inside a loop: at the call", async () => {
    const source = `/**\n * @differentiable\n * @gradient sqBackward\n * @tangent sqTangent\n */\nexport function sq(x: number): number {\n  return x * x;\n}\nexport function sqBackward(x: number, out: number, dout: number): number {\n  return 2 * x * dout;\n}\nexport function sqTangent(x: number, out: number, x_dot: number): number {\n  return 2 * x * x_dot;\n}\n/** @differentiable @hvp */\nexport function g(xs: number[]): number {\n  let s = 0;\n  for (let i = 0; i < xs.length; i++) s += 3 * sq(xs[i]);\n  return s;\n}\n`;
    const d = await errorOf(source);
    expect([d.line, d.col]).toEqual([18, 48]);
    expect(d.message).toMatch(/cannot differentiate this call of `sq` twice.*a `@tangent` gives `sq`'s first derivative only.*leave `@hvp` off `g`$/);
  });
  it("but --hvp on every function leaves those without", async () => {
    const { output, diagnostics } = await compile(`/** @differentiable */\nexport function f(x: number[]): number[] {\n  return [x[0] * x[1]];\n}\n/** @differentiable */\nexport function g(x: number): number {\n  return x ** 3;\n}\n`, "model.ts", { hvp: true });
    expect(diagnostics).toEqual([]);
    expect(output).toContain("export function g_hvp(");
    expect(output).not.toContain("f_hvp");
  });
});

/** The parameters' declared types, roughly: `number` or something else. */
function paramList(source: string, fn: string): string[] {
  const m = new RegExp(`function ${fn}\\(([^)]*)\\)`).exec(source);
  return m ? m[1]!.split(",").filter((p) => p.trim()).map((p) => (/:\s*number\s*$/.test(p) ? "number" : "other")) : [];
}

function paramNames(source: string, fn: string): string[] {
  const m = new RegExp(`function ${fn}\\(([^)]*)\\)`).exec(source);
  return m ? m[1]!.split(",").map((p) => p.replace(/[:=].*$/s, "").trim()).filter(Boolean) : [];
}


