/**
 * Modules that use tsgrad's own output as a user would (test/compiler/own-output.test.ts):
 * for a generated `f_grad`, a `@differentiable` function that imports it, calls it, and
 * returns its value plus a dot product of its gradient with constants,
 *
 *     const r = f_grad(x, xs);
 *     let s = r.value;
 *     s += 0.5 * r.grad.x;
 *     for (let i = 0; i < r.grad.xs.length; i++) s += (0.25 * i - 0.75) * r.grad.xs[i]!;
 *     return s;
 *
 * so that its gradient is the value's gradient plus a Hessian-vector product of f.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import ts from "typescript";

export interface GradFunction {
  /** The original function's name (`staged` for `staged_grad`). */
  readonly name: string;
  /** Its parameters, as the generated function spells them (the original's, without `dout` and `into`). */
  readonly params: readonly { readonly name: string; readonly type: string }[];
  /** The type of `dout`, when it has no default (an array or Tensor result). */
  readonly dout: string | null;
}

/** The `f_grad` functions a generated module exports, read from its text. */
export function gradFunctions(gradPath: string, inputPath: string): GradFunction[] {
  const grad = ts.createSourceFile(gradPath, readFileSync(gradPath, "utf8"), ts.ScriptTarget.ES2022, true);
  const input = ts.createSourceFile(inputPath, readFileSync(inputPath, "utf8"), ts.ScriptTarget.ES2022, true);
  const original = new Map(input.statements.filter(ts.isFunctionDeclaration).map((f) => [f.name?.text, f.parameters.length]));
  return grad.statements.filter(ts.isFunctionDeclaration).flatMap((f) => {
    const full = f.name?.text ?? "";
    if (!full.endsWith("_grad")) return [];
    const name = full.slice(0, -"_grad".length);
    const count = original.get(name) ?? 0;
    const params = f.parameters.slice(0, count).map((p) => ({ name: p.name.getText(grad), type: p.type!.getText(grad) }));
    const dout = f.parameters[count]!;
    return [{ name, params, dout: dout.initializer ? null : dout.type!.getText(grad) }];
  });
}

/** Coefficient `k` of the dot product: distinct, both signs, none zero. */
const coef = (k: number) => (k % 2 === 0 ? 0.5 + 0.25 * k : -(0.25 + 0.125 * k));

/**
 * The module: beside the fixture (`fixtures/own_staged.ts`), with the generated module's
 * imports (its runtime and any type it names) and the import of `f_grad`. `sample` is a
 * result of `f_grad` (its `value` and `grad` say which terms the sum has); the function is
 * differentiated with respect to the parameters `f_grad` differentiates (`@wrt`). A result
 * that is an array or a Tensor takes its `dout` as one more parameter, not differentiated.
 */
export function ownModule(gradPath: string, fn: GradFunction, sample: { value: unknown; grad: Record<string, unknown> }): { path: string; text: string; name: string; params: string[] } {
  const grad = ts.createSourceFile(gradPath, readFileSync(gradPath, "utf8"), ts.ScriptTarget.ES2022, true);
  const imports = grad.statements.filter(ts.isImportDeclaration).map((d) => d.getText(grad));
  const gradModule = `./${basename(gradPath)}`;
  const usesTensor = isTensor(sample.value) || Object.values(sample.grad).some(hasTensor);
  const tensorImport = usesTensor ? [`import { item as itemOf, sum as sumOf } from "${tensorSpecifier(grad)}";`] : [];
  const name = `${fn.name}_own`;
  const params = fn.params.map((p) => `${p.name}: ${p.type}`);
  const args = fn.params.map((p) => p.name);
  if (fn.dout) {
    params.push(`seed: ${fn.dout === "ArrayLike<number>" ? "number[]" : fn.dout}`);
    args.push("seed");
  }
  // names of its own that no parameter has
  const taken = new Set(fn.params.map((p) => p.name));
  const fresh = (base: string) => {
    let n = base;
    while (taken.has(n)) n = `${n}_`;
    taken.add(n);
    return n;
  };
  const r = fresh("r");
  const s = fresh("s");
  const lines: string[] = [];
  let k = 0;
  let loops = 0;
  const term = (path: string, v: unknown) => {
    if (typeof v === "number") lines.push(`${s} += ${coef(k++)} * ${path};`);
    else if (isTensor(v)) lines.push(`${s} += ${coef(k++)} * itemOf(sumOf(${path}));`);
    else if (ArrayLike(v) && [...v].every((e) => typeof e === "number")) {
      const i = fresh(loops++ === 0 ? "i" : `i${loops}`);
      lines.push(`for (let ${i} = 0; ${i} < ${path}.length; ${i}++) ${s} += (${0.25 + 0.125 * k} * ${i} - ${0.5 + 0.25 * k}) * ${path}[${i}]!;`);
      k++;
    } else if (Array.isArray(v)) v.forEach((e, j) => term(`${path}[${j}]`, e));
    else if (v && typeof v === "object") for (const [f, e] of Object.entries(v)) term(`${path}.${f}`, e);
  };
  term(`${r}.value`, sample.value);
  for (const [p, g] of Object.entries(sample.grad)) term(`${r}.grad.${p}`, g);
  const text = [
    ...imports,
    ...tensorImport,
    `import { ${fn.name}_grad } from "${gradModule}";`,
    "",
    `/**`,
    ` * \`${fn.name}\`'s value plus a dot product of its gradient with constants, through its generated \`${fn.name}_grad\`.`,
    ` * @differentiable`,
    ` * @wrt ${Object.keys(sample.grad).join(" ")}`,
    ` */`,
    `export function ${name}(${params.join(", ")}): number {`,
    `  const ${r} = ${fn.name}_grad(${args.join(", ")});`,
    `  let ${s} = 0;`,
    ...lines.map((l) => `  ${l}`),
    `  return ${s};`,
    "}",
    "",
  ].join("\n");
  return { path: join(dirname(gradPath), `own_${basename(gradPath).replace(/\.grad\.ts$/, ".ts")}`), text, name, params: params.map((p) => p.split(":")[0]!) };
}

function isTensor(v: unknown): boolean {
  return !!v && typeof v === "object" && "shape" in v && "data" in v;
}

function hasTensor(v: unknown): boolean {
  if (isTensor(v)) return true;
  if (Array.isArray(v)) return v.some(hasTensor);
  return !!v && typeof v === "object" && !ArrayBuffer.isView(v) && Object.values(v).some(hasTensor);
}

function ArrayLike(v: unknown): v is ArrayLike<number> & Iterable<number> {
  return Array.isArray(v) || v instanceof Float64Array;
}

/** Where the generated module imports tensor operations from (beside the runtime it imports). */
function tensorSpecifier(grad: ts.SourceFile): string {
  for (const d of grad.statements.filter(ts.isImportDeclaration)) {
    const spec = (d.moduleSpecifier as ts.StringLiteral).text;
    if (/runtime\/tensor\.ts$/.test(spec)) return spec;
    if (/runtime\/index\.ts$/.test(spec)) return spec.replace(/index\.ts$/, "tensor.ts");
  }
  return "../runtime/tensor.ts";
}

/**
 * The module of ⟨∇f(x), v⟩ through the generated `f_grad` (test/transforms/hvp-agree.test.ts):
 *
 *     export function f_along(x: number, xs: number[], v_x: number, v_xs: number[]): number {
 *       const r = f_grad(x, xs);
 *       let s = 0;
 *       s += r.grad.x * v_x;
 *       for (let i = 0; i < r.grad.xs.length; i++) s += r.grad.xs[i]! * v_xs[i]!;
 *       return s;
 *     }
 *
 * differentiated with respect to the parameters `f_grad` differentiates (`grad`'s keys, each a
 * number or an array), so that its gradient is H·v, reverse over reverse. The directions are
 * parameters after `f`'s own, named `v_` + the parameter (`directions`).
 */
export function alongModule(gradPath: string, fn: GradFunction, grad: Record<string, unknown>): { path: string; text: string; name: string; directions: string[] } {
  const taken = new Set(fn.params.map((p) => p.name));
  const fresh = (base: string) => {
    let n = base;
    while (taken.has(n)) n = `${n}_`;
    taken.add(n);
    return n;
  };
  const keys = Object.keys(grad);
  const directions = keys.map((k) => fresh(`v_${k}`));
  const r = fresh("r");
  const s = fresh("s");
  const i = fresh("i");
  const terms = keys.map((k, j) => (typeof grad[k] === "number"
    ? `  ${s} += ${r}.grad.${k} * ${directions[j]};`
    : `  for (let ${i} = 0; ${i} < ${r}.grad.${k}.length; ${i}++) ${s} += ${r}.grad.${k}[${i}]! * ${directions[j]}[${i}]!;`));
  const params = [...fn.params.map((p) => `${p.name}: ${p.type}`), ...keys.map((k, j) => `${directions[j]}: ${typeof grad[k] === "number" ? "number" : "number[]"}`)];
  const name = `${fn.name}_along`;
  const text = [
    `import { ${fn.name}_grad } from "./${basename(gradPath)}";`,
    "",
    `/**`,
    ` * ⟨∇${fn.name}, v⟩ through its generated \`${fn.name}_grad\`: its gradient is H·v.`,
    ` * @differentiable`,
    ` * @wrt ${keys.join(" ")}`,
    ` */`,
    `export function ${name}(${params.join(", ")}): number {`,
    `  const ${r} = ${fn.name}_grad(${fn.params.map((p) => p.name).join(", ")});`,
    `  let ${s} = 0;`,
    ...terms,
    `  return ${s};`,
    "}",
    "",
  ].join("\n");
  return { path: join(dirname(gradPath), `along_${basename(gradPath).replace(/\.grad\.ts$/, ".ts")}`), text, name, directions };
}
