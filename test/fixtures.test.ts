/**
 * Every fixture, three ways: its emitted code equals the golden `.grad.ts` byte for byte
 * (and is the same on a second compile), the golden code type-checks under --strict (and
 * noUncheckedIndexedAccess, with no `!` TypeScript does not need), and
 * its gradients match finite differences at random points.
 */
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/index.ts";
import { outputPath } from "../compiler/cli.ts";
import { gradcheck, jvpcheck, rand, type Tensor } from "../runtime/index.ts";
import { fixtureInputs } from "./helpers/fixtures.ts";
import { ANY, ARRAY_INPUTS, DOMAINS, POINTS, randomLike, TENSOR_INPUTS, TENSOR_POINTS, uniform } from "./helpers/fixture-inputs.ts";
import { loadBeside, loadFile, readFixture } from "./helpers/load.ts";
import { typeErrorsBeside } from "./helpers/typecheck.ts";

/**
 * Functions whose gradient is by design not the derivative of their value (a
 * straight-through estimator): at each point, the gradient is checked against finite
 * differences of a surrogate whose derivative it is, and the value against the function.
 * A surrogate is built from the fixture module's own exports and the point.
 */
type Module = Record<string, (...args: number[]) => number>;
const SURROGATES: Record<string, (m: Module, at: readonly number[]) => (...args: number[]) => number> = {
  // quantize(w) passes dout through: near w0 it acts as quantize(w0) + (w - w0)
  quantizedUnit: (m, [w0]) => (w, x) => m.swish!((m.quantize!(w0!) + w! - w0!) * x!),
};

describe.each(fixtureInputs())("fixture %s", (input) => {
  const source = readFileSync(input, "utf8");
  const golden = readFileSync(outputPath(input), "utf8");

  it("emits exactly its golden .grad.ts (run `npm run fixtures:update` to accept a change)", async () => {
    const { output, diagnostics } = await compile(source, input, { readFile: readFixture });
    expect(diagnostics).toEqual([]);
    expect(output).toBe(golden);
  });

  it("emits the same bytes when compiled twice", async () => {
    const first = await compile(source, input, { readFile: readFixture });
    const second = await compile(source, input, { readFile: readFixture });
    expect(second.output).toBe(first.output);
  });

  it("has gradients that match finite differences at random points", () => {
    const modules = new Map();
    const original = loadFile(input, modules);
    const generated = loadFile(outputPath(input), modules);
    const names = Object.keys(generated).filter((k) => k.endsWith("_grad")).map((k) => k.slice(0, -5));
    expect(names.length).toBeGreaterThan(0);
    names.forEach((name, fi) => {
      // a function may write into its array parameters (fixtures/writes.ts): each call gets copies
      const f = onCopies(original[name]!);
      const params = paramNames(source, name);
      const arrayCase = ARRAY_INPUTS[name];
      if (arrayCase) {
        for (let p = 0; p < POINTS; p++) {
          const args = arrayCase(100 * p + fi + 1);
          // an array result: the check is of the vector-Jacobian product with a random dout
          const y = f(...args) as number | ArrayLike<number>;
          // shaped like the result: an array, or a record of numbers and arrays
          const dout = typeof y === "number" ? 1 : (randomLike(y, y, 100 * p + fi + 7) as ArrayLike<number>);
          const before = JSON.stringify(args, arrays);
          const result = gradcheck(f, generated[`${name}_grad`]!, args as number[], { names: params, dout });
          expect(result.ok, result.report).toBe(true);
          // f_grad works on copies of the arrays it writes into: the caller's stay as they were
          expect(JSON.stringify(args, arrays)).toBe(before);
        }
        return;
      }
      const tensorCase = TENSOR_INPUTS[name];
      if (tensorCase) {
        for (let p = 0; p < TENSOR_POINTS; p++) {
          const { args, dout } = tensorCase(100 * p + fi);
          const result = gradcheck(f, generated[`${name}_grad`]!, args as number[], { names: params, dout, atol: 1e-5, rtol: 1e-4 });
          expect(result.ok, result.report).toBe(true);
        }
        return;
      }
      const u = rand([POINTS * params.length], 1000 + fi).data;
      for (let p = 0; p < POINTS; p++) {
        const args = params.map((param, j) => (DOMAINS[name]?.[param] ?? ANY)(u[p * params.length + j]!)) as number[];
        const fGrad = generated[`${name}_grad`]!;
        const surrogate = SURROGATES[name]?.(original as Module, args);
        if (surrogate) {
          expect(fGrad(...args).value).toBe(f(...args));
          const result = gradcheck(surrogate, (...a: number[]) => ({ value: surrogate(...a.slice(0, -1)), grad: fGrad(...a).grad }), args, { names: params });
          expect(result.ok, result.report).toBe(true);
          continue;
        }
        const result = gradcheck(f, fGrad, args, { names: params });
        expect(result.ok, result.report).toBe(true);
      }
    });
  });
});

/** `f` called on copies of its array arguments, so one that writes into them (fixtures/writes.ts) sees the same inputs each call. */
function onCopies<F extends (...args: never[]) => unknown>(f: F): F {
  const copy = (a: unknown) => (a instanceof Float64Array ? a.slice() : Array.isArray(a) && a.every((v) => typeof v === "number") ? a.slice() : a);
  const g = (...args: unknown[]) => f(...(args.map(copy) as never[]));
  return Object.defineProperty(g, "name", { value: f.name }) as unknown as F;
}

/** JSON.stringify's replacer that writes a Float64Array as its numbers. */
const arrays = (_key: string, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v);

/** Random tangents for the differentiated parameters (the gradient's keys), shaped like them. */
function tangentsFor(args: readonly unknown[], params: readonly string[], grad: Record<string, unknown>, seed: number): Record<string, number | number[] | Float64Array | Tensor> {
  const out: Record<string, number | number[] | Float64Array | Tensor> = {};
  Object.keys(grad).forEach((key, j) => {
    const a = args[params.indexOf(key)];
    const s = seed + 31 * j;
    // shaped like the gradient, which leaves out a record's fields that carry none
    out[key] = randomLike(a, grad[key], s) as number;
  });
  return out;
}

const CUSTOM_GRADIENTS = /(^|\/)custom\.ts$/;

describe.each(fixtureInputs().filter((f) => !CUSTOM_GRADIENTS.test(f)))("fixture %s in forward mode (--jvp)", (input) => {
  it("has f_jvp matching central differences along random tangents, and its gradient by the dot-product test", async () => {
    const source = readFileSync(input, "utf8");
    const { output, diagnostics } = await compile(source, input, { readFile: readFixture, jvp: true });
    expect(diagnostics).toEqual([]);
    const modules = new Map();
    const original = loadFile(input, modules);
    const generated = loadBeside(output!, input, modules);
    const names = Object.keys(generated).filter((k) => k.endsWith("_jvp")).map((k) => k.slice(0, -4));
    expect(names.length).toBeGreaterThan(0);
    names.forEach((name, fi) => {
      const f = onCopies(original[name]!);
      const params = paramNames(source, name);
      const fGrad = generated[`${name}_grad`]!;
      const fJvp = generated[`${name}_jvp`]!;
      const cases: { args: unknown[]; tol?: { atol: number; rtol: number } }[] = [];
      if (ARRAY_INPUTS[name]) for (let p = 0; p < 8; p++) cases.push({ args: ARRAY_INPUTS[name]!(100 * p + fi + 1) });
      else if (TENSOR_INPUTS[name]) for (let p = 0; p < TENSOR_POINTS; p++) cases.push({ args: TENSOR_INPUTS[name]!(100 * p + fi).args, tol: { atol: 1e-5, rtol: 1e-4 } });
      else {
        const u = rand([POINTS * params.length], 1000 + fi).data;
        for (let p = 0; p < POINTS; p++) cases.push({ args: params.map((param, j) => (DOMAINS[name]?.[param] ?? ANY)(u[p * params.length + j]!)) });
      }
      cases.forEach(({ args, tol }, p) => {
        const y = f(...(args as number[])) as number | ArrayLike<number> | Tensor;
        const dout = typeof y === "number" ? uniform(1, 7 * p + 3)[0]! : (randomLike(y, y, 7 * p + 3) as ArrayLike<number> | Tensor);
        const tangents = tangentsFor(args, params, fGrad(...args, dout).grad, 1 + 13 * p + fi);
        // a straight-through estimator's derivative is by design not its function's: only the dot-product test holds
        const fd = SURROGATES[name] ? null : f;
        const result = jvpcheck(fd ?? ((...a: unknown[]) => fJvp(...a, tangents).value), fJvp, args as number[], tangents, { names: params, grad: { fGrad, dout }, ...tol });
        const failed = fd ? result.rows.filter((r) => !r.ok) : result.rows.filter((r) => !r.ok && !r.name.startsWith("tangent"));
        expect(failed, result.report).toEqual([]);
      });
    });
  });
});

describe("the forward-mode and second-order output of every fixture (--jvp --hvp)", () => {
  it("type-checks under tsc --strict and noUncheckedIndexedAccess, with no unused locals", async () => {
    const outputs = new Map<string, string>();
    for (const input of fixtureInputs()) {
      // custom.ts's custom gradients have no tangent, so no f_jvp: its f_grad and f_hvp are checked
      const { output, diagnostics } = await compile(readFileSync(input, "utf8"), input, { readFile: readFixture, jvp: !CUSTOM_GRADIENTS.test(input), hvp: true });
      expect(diagnostics).toEqual([]);
      outputs.set(input.replace(/\.ts$/, ".jvp.ts"), output!);
    }
    expect(typeErrorsBeside(outputs)).toEqual([]);
    const all = [...outputs.values()].join("");
    expect(all.match(/export function \w+_jvp\(/g)!.length).toBeGreaterThan(100);
    expect(all.match(/export function \w+_hvp\(/g)!.length).toBeGreaterThan(70);
  }, 300_000);
});

describe("generated code", () => {
  const files = fixtureInputs().flatMap((f) => [f, outputPath(f)]);
  const options: ts.CompilerOptions = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true,
    noUnusedLocals: true, noUnusedParameters: false, skipLibCheck: true, types: [],
  };
  const located = (d: ts.Diagnostic) => {
    const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "";
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  };
  const generated = (file: ts.SourceFile) => file.fileName.endsWith(".grad.ts");
  let strict: ts.Program | undefined;
  const strictProgram = () => (strict ??= ts.createProgram(files, options));

  it("type-checks under tsc --strict, with the fixture inputs it came from", () => {
    expect(ts.getPreEmitDiagnostics(strictProgram()).map(located)).toEqual([]);
  });

  it("type-checks under noUncheckedIndexedAccess too, and every `!` in it is one TypeScript needs", () => {
    // the inputs are the user's, written under --strict alone: only the generated code is judged
    const program = ts.createProgram(files, { ...options, noUncheckedIndexedAccess: true }, undefined, strictProgram());
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file && generated(d.file)).map(located);
    expect(diagnostics).toEqual([]);
    // a non-null assertion on a value whose type has no `undefined` is noise for the reader
    const checker = program.getTypeChecker();
    const unneeded: string[] = [];
    const visit = (file: ts.SourceFile) => (n: ts.Node): void => {
      if (ts.isNonNullExpression(n)) {
        const type = checker.getTypeAtLocation(n.expression);
        const parts = type.isUnion() ? type.types : [type];
        if (!parts.some((t) => t.flags & ts.TypeFlags.Undefined)) {
          unneeded.push(`${file.fileName}:${file.getLineAndCharacterOfPosition(n.getStart(file)).line + 1}: ${n.getText(file)}`);
        }
      }
      ts.forEachChild(n, visit(file));
    };
    for (const file of program.getSourceFiles().filter(generated)) visit(file)(file);
    expect(unneeded).toEqual([]);
  });
});

function paramNames(source: string, fn: string): string[] {
  const file = ts.createSourceFile("f.ts", source, ts.ScriptTarget.ES2022);
  const decl = file.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === fn);
  if (!decl) throw new Error(`no function ${fn}`);
  return decl.parameters.map((p) => p.name.getText(file));
}
