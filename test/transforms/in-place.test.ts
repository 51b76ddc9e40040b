/**
 * When a loop's variable is updated in place (`k += 1` writes the variable the iteration
 * started with): only when nothing reads the old value after the new one is defined.
 * The case is built at the IR level, where the old value is read directly after the step
 * (the parser names a copy for `a[k++]`; the transform must not rely on that).
 */
import { describe, expect, it } from "vitest";
import { analyseActivity } from "../../compiler/analyses/activity.ts";
import { printModule } from "../../compiler/emit/emit.ts";
import type { Atom, FunctionIR, Stmt } from "../../compiler/ir/ir.ts";
import { parse } from "../../compiler/parse/parse.ts";
import { adjoints, assembleGradient, primalHalf, startGradient, tape } from "../../compiler/transforms/reverse.ts";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { compileAndLoad, load } from "../helpers/load.ts";
import { typeErrors } from "../helpers/typecheck.ts";

const source = `/**
 * @differentiable
 * @wrt w
 */
export function f(a: number[], w: number): number {
  let s = 0;
  let k = 0;
  while (k < a.length) {
    const old = k;
    k = k + 1;
    s += a[old] * w * k;
  }
  return s;
}
`;

/** Drops the copy `old = k` and makes its readers read `k`'s value at the top of the iteration. */
function withoutCopy(fn: FunctionIR): FunctionIR {
  const copy = fn.values.find((v) => v.name === "old")!.id;
  let from: Atom | null = null;
  const visit = (stmts: Stmt[]): Stmt[] => stmts.flatMap((s): Stmt[] => {
    if (s.kind === "op" && s.out === copy) {
      from = s.args[0]!;
      return [];
    }
    const swap = (x: Atom): Atom => (x.kind === "value" && x.id === copy ? from! : x);
    if (s.kind === "op") return [{ ...s, args: s.args.map(swap) }];
    if (s.kind === "if") return [{ ...s, cond: swap(s.cond), then: visit(s.then), else: visit(s.else) }];
    return [{ ...s, test: visit(s.test), body: visit(s.body) }];
  });
  const body = visit(fn.body);
  expect(from).not.toBeNull();
  return { ...fn, body };
}

describe("updating a loop variable in place", () => {
  it("keeps the old value where it is read after the new one is defined", async () => {
    const parsed = parse(source, "m.ts");
    expect(parsed.diagnostics).toEqual([]);
    const fn = withoutCopy(parsed.functions[0]!);
    const output = printModule([assembleGradient(primalHalf(tape(adjoints(startGradient(fn, analyseActivity(fn), "f_grad")))))], "m.ts");
    expect(typeErrors(output), output).toEqual([]);
    const original = load(source).f!;
    const grad = load(output).f_grad!;
    for (let seed = 1; seed <= 3; seed++) {
      const a = Array.from({ length: 2 + seed }, (_, i) => Math.sin(i + seed));
      const w = 0.3 * seed;
      expect(grad(a, w).value, output).toBe(original(a, w));
      const result = gradcheck((x: number) => original(a, x), (x: number) => { const r = grad(a, x); return { value: r.value, grad: { x: r.grad.w } }; }, [w], { names: ["x"] });
      expect(result.ok, `${result.report}\n${output}`).toBe(true);
    }
  });

  it("keeps it where a temporary read before the step is folded into a statement after it", async () => {
    // `a[k] * w` is computed before `k++` and written into the statement that multiplies by the old `k`
    const model = source.replace("    const old = k;\n    k = k + 1;\n    s += a[old] * w * k;", "    s += a[k] * w * k++;");
    const { original, grad, output } = await compileAndLoad(model, "m.ts");
    expect(output).not.toMatch(/k \+= 1;\n\s*s \+= a\[k\]/);
    for (let seed = 1; seed <= 3; seed++) {
      const a = Array.from({ length: 2 + seed }, (_, i) => Math.cos(i * seed));
      expect(grad.f_grad!(a, 0.7).value, output).toBe(original.f!(a, 0.7));
      expect(grad.f_grad!(a, 0.7).grad.w, output).toBeCloseTo(original.f!(a, 1) , 12);
    }
  });
});
