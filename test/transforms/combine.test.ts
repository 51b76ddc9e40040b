/**
 * Combining element sums (compiler/transforms/combine.ts): the contributions one source
 * line makes to one array element are added in one statement. Whole programs are compiled
 * with and without it, checked against finite differences and each other; the rules for
 * when a contribution may move are checked on the code IR directly.
 */
import { describe, expect, it } from "vitest";
import { combineSums } from "../../compiler/transforms/combine.ts";
import { printEx, ref, index, num, neg, mul, type Ex, type Sym } from "../../compiler/ir/expr.ts";
import type { CodeStmt } from "../../compiler/ir/code.ts";
import type { SourceLoc } from "../../compiler/ir/ir.ts";
import { bothWays, ROSENBROCK, uniform } from "../helpers/both.ts";

/** Compiles `source` with and without combining; checks both; returns both outputs. */
async function both(source: string, name: string, args: (seed: number) => unknown[]) {
  const { on, off } = await bothWays(source, name, args, { combine: false });
  return { joined: on, apart: off };
}

describe("combining element sums, on whole programs", () => {
  it("adds Rosenbrock's two contributions to dx[i] in one statement", async () => {
    const { joined, apart } = await both(ROSENBROCK, "rosenbrock", (seed) => [uniform(7, seed, -1.5, 1.5)]);
    // (and carries dx[i + 1]'s to the next iteration, transforms/carry.ts: test/transforms/carry.test.ts)
    expect(joined).toMatch(/dx\[i\] = 2 \* x\[i\]! \* dpow - ddiff_1 \+ dxNext; \/\/ line 5: x\[i\]\n/);
    expect(joined.match(/dx\[i\] [+-]?=/g)?.length).toBe(1);
    expect(apart).toContain("dx[i]! -= ddiff_1; // line 5: x[i]");
    expect(apart.match(/dx\[i\]! [+-]=/g)?.length).toBe(2);
  });

  it("keeps contributions from different lines apart, so each points at its line", async () => {
    const { joined } = await both(`/** @differentiable */
export function f(x: number[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.sin(x[i]);
    s += a * x[i];
  }
  return s;
}
`, "f", (seed) => [uniform(5, seed)]);
    expect(joined.match(/dx\[i\]! \+=/g)?.length).toBe(2);
    expect(joined).toMatch(/dx\[i\]! \+= [^\n]*\/\/ line 5/);
    expect(joined).toMatch(/dx\[i\]! \+= [^\n]*\/\/ line 6/);
  });

  it("joins inside a branch, and writes a sum of negative contributions as one subtraction", async () => {
    const { joined } = await both(`/** @differentiable */
export function f(y: number[], level: number): number {
  let t = 0;
  for (let i = 1; i < y.length; i++) {
    if (y[i] > level) {
      t += (level - y[i - 1]) / (y[i] - y[i - 1]);
    }
  }
  return t;
}
`, "f", (seed) => [uniform(6, seed, 0, 1).map((v, i) => v + i), 2.5]);
    expect(joined).toMatch(/dy\[i - 1\]! -= \w+ \+ \w+; \/\/ line 6: y\[i - 1\]/);
  });
});

// ---- the rules, on the code IR ----------------------------------------------------------------

let ids = 0;
const sym = (hint: string): Sym => ({ id: ids++, hint, user: false });
const at = (line: number): SourceLoc => ({ line, col: 1, text: "x[i]" });
const [dx, i, a, b, c, dy] = ["dx", "i", "a", "b", "c", "dy"].map(sym) as [Sym, Sym, Sym, Sym, Sym, Sym];
const sum = (target: Sym, op: "+=" | "-=", e: Ex, line = 1, where: Ex = ref(i)): CodeStmt =>
  ({ k: "assign", op, sym: target, index: where, expr: e, role: "backward", origin: at(line) });
const print = (stmts: readonly CodeStmt[]): string[] => stmts.map((s) => {
  const ex = (e: Ex) => printEx(e, (x) => x.hint);
  switch (s.k) {
    case "assign": return `${s.sym.hint}${s.index ? `[${ex(s.index)}]` : ""} ${s.op} ${ex(s.expr)}`;
    case "decl": return `const ${s.sym.hint} = ${s.init ? ex(s.init) : ""}`;
    default: return s.k;
  }
});

describe("combining element sums, the rules", () => {
  it("joins three contributions, positive terms first", () => {
    expect(print(combineSums([sum(dx, "-=", ref(a)), sum(dx, "+=", ref(b)), sum(dx, "+=", neg(ref(c)))]))).toEqual(["dx[i] += b - a - c"]);
    expect(print(combineSums([sum(dx, "+=", ref(a)), sum(dx, "+=", mul(num(2), ref(b)))]))).toEqual(["dx[i] += a + 2 * b"]);
    // equal contributions are added once and doubled
    expect(print(combineSums([sum(dx, "+=", mul(ref(a), ref(b))), sum(dx, "-=", ref(c)), sum(dx, "+=", mul(ref(a), ref(b)))]))).toEqual(["dx[i] += 2 * a * b - c"]);
  });

  it("moves an earlier contribution past sums into other elements and other arrays", () => {
    const out = combineSums([sum(dx, "+=", ref(a)), sum(dx, "+=", ref(b), 1, index(ref(c), num(0))), sum(dy, "+=", ref(a)), sum(dx, "+=", ref(c))]);
    expect(print(out)).toEqual(["dx[c[0]!] += b", "dy[i] += a", "dx[i] += a + c"]);
  });

  it("leaves a contribution that pops a stack where it is", () => {
    const pop = (): Ex => ({ k: "method", a: ref(b), name: "pop", args: [] });
    const stmts = [sum(dx, "-=", pop()), sum(dx, "+=", pop())];
    expect(print(combineSums(stmts))).toEqual(["dx[i] -= b.pop()", "dx[i] += b.pop()"]);
  });

  it("does not join different elements or different lines", () => {
    const stmts = [sum(dx, "+=", ref(a)), sum(dx, "+=", ref(b), 1, num(0)), sum(dx, "+=", ref(c), 2)];
    expect(print(combineSums(stmts))).toEqual(["dx[i] += a", "dx[0] += b", "dx[i] += c"]);
  });

  it("stops at a read of the array, and at a change to what the earlier contribution reads", () => {
    const read: CodeStmt = { k: "decl", mutable: false, sym: b, init: index(ref(dx), num(0)), role: "backward" };
    expect(print(combineSums([sum(dx, "+=", ref(a)), read, sum(dx, "+=", ref(c))]))).toEqual(["dx[i] += a", "const b = dx[0]!", "dx[i] += c"]);
    const change: CodeStmt = { k: "assign", op: "=", sym: a, expr: num(1), role: "backward" };
    expect(print(combineSums([sum(dx, "+=", ref(a)), change, sum(dx, "+=", ref(c))]))).toEqual(["dx[i] += a", "a = 1", "dx[i] += c"]);
    // nor past a change of the index
    const step: CodeStmt = { k: "assign", op: "+=", sym: i, expr: num(1), role: "backward" };
    expect(print(combineSums([sum(dx, "+=", ref(a)), step, sum(dx, "+=", ref(c))]))).toEqual(["dx[i] += a", "i += 1", "dx[i] += c"]);
  });
});
