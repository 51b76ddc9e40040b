/**
 * Combining element sums: where one source line reads an array element twice, the backward
 * pass adds two contributions to the same gradient element, and each `+=` on an array
 * element is a load and a store. The contributions are added in one statement instead,
 * as a person writes it by hand:
 *
 *   dx[i] -= ddiff_1; // line 43: x[i]
 *   const ddiff = 2 * diff * dpow_1;                       const ddiff = 2 * diff * dpow_1;
 *   dx[i] += 2 * x[i] * dpow; // line 43: x[i]    ==>      dx[i] += 2 * x[i] * dpow - ddiff_1; // line 43: x[i]
 *
 * Only sums into the same element (the same array, the same index expression) that come
 * from the same source line are joined, so each line still points at the line it came
 * from. An earlier contribution moves down to the last one, so nothing between them may
 * read the array or change what the earlier contribution reads; sums into other elements
 * of the array may sit between (sums commute). Equal contributions are added once and
 * doubled. The value can change only in the last bits, from the order of the additions.
 */
import { add, mul, neg, num, sameEx, twice, type Ex } from "../ir/expr.ts";
import { mapBlocks, type CodeStmt } from "../ir/code.ts";
import type { SourceLoc } from "../ir/ir.ts";
import { mutates, usesOf } from "../analyses/uses.ts";

type Assign = Extract<CodeStmt, { k: "assign" }>;

export function combineSums(stmts: readonly CodeStmt[]): CodeStmt[] {
  const out = mapBlocks(stmts, combineSums);
  const gone = new Set<number>();
  for (let a = 0; a < out.length; a++) {
    const first = out[a]!;
    if (gone.has(a) || !isElementSum(first)) continue;
    const joined = [a];
    const moved = usesOf([first]).reads;
    for (let b = a + 1; b < out.length; b++) {
      const t = out[b]!;
      if (isElementSum(t) && t.sym === first.sym && sameEx(t.index, first.index) && sameLine(t.origin, first.origin)) {
        joined.push(b);
        usesOf([t]).reads.forEach((r) => moved.add(r));
        continue;
      }
      const u = usesOf([t]);
      const otherElement = isElementSum(t) && t.sym === first.sym && !u.reads.has(first.sym);
      if (!otherElement && (u.reads.has(first.sym) || u.writes.has(first.sym) || u.sums.has(first.sym) || u.decls.has(first.sym))) break;
      if ([...u.writes, ...u.sums].some((s) => s !== first.sym && moved.has(s))) break;
    }
    if (joined.length === 1) continue;
    const terms = alike(joined.map((k) => signed(out[k] as Assign)));
    const plus = terms.filter((t) => !t.negative).map((t) => t.e);
    const minus = terms.filter((t) => t.negative).map((t) => t.e);
    const sum = (es: Ex[]) => es.reduce((x, y) => add(x, y));
    const expr = plus.length === 0 ? neg(sum(minus)) : minus.reduce((x, y) => add(x, neg(y)), sum(plus));
    const last = joined.at(-1)!;
    out[last] = { ...(out[last] as Assign), op: "+=", expr };
    joined.slice(0, -1).forEach((k) => gone.add(k));
  }
  return out.filter((_, k) => !gone.has(k));
}

/**
 * `a[i] += e` or `a[i] -= e`, where `e` changes nothing (a `stack.pop()` must run as often
 * as written, and in its place).
 */
function isElementSum(s: CodeStmt): s is Assign & { index: Ex } {
  return s.k === "assign" && s.index !== undefined && (s.op === "+=" || s.op === "-=") && !mutates(s.expr) && !mutates(s.index);
}

/** A contribution as a term of the sum: `dx[i] -= e` and `dx[i] += -e` both add `e` negated. */
function signed(s: Assign): { e: Ex; negative: boolean } {
  const negated = s.expr.k === "neg";
  const e = s.expr.k === "neg" ? s.expr.a : s.expr;
  return { e, negative: negated !== (s.op === "-=") };
}

/** Equal terms added once and multiplied: `y[i] * ds + y[i] * ds` is `2 * y[i] * ds`. */
function alike(terms: readonly { e: Ex; negative: boolean }[]): { e: Ex; negative: boolean }[] {
  const groups: { e: Ex; negative: boolean; n: number }[] = [];
  for (const t of terms) {
    const g = groups.find((h) => h.negative === t.negative && sameEx(h.e, t.e));
    if (g) g.n++;
    else groups.push({ ...t, n: 1 });
  }
  return groups.map(({ e, negative, n }) => ({ e: n === 1 ? e : n === 2 ? twice(e) : mul(num(n), e), negative }));
}

function sameLine(a: SourceLoc | undefined, b: SourceLoc | undefined): boolean {
  return a !== undefined && b !== undefined && a.line === b.line && a.file === b.file && a.fn === b.fn;
}
