/**
 * The forward half of a gradient function: the user's statements, keeping every value the
 * backward pass reads. A temporary that is read once and not needed by the backward pass
 * is folded back into the expression that reads it, so the user's lines come out as the
 * user wrote them; values nothing reads are dropped.
 */
import { bool, cond, num, type Ex } from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";
import type { Atom, IfStmt, Stmt } from "../ir/ir.ts";
import type { TransformContext } from "./context.ts";

export function primal(cx: TransformContext, needed: ReadonlySet<number>): CodeStmt[] {
  const { fn } = cx;
  const live = new Set<number>(needed);
  if (fn.result.kind === "value") live.add(fn.result.id);

  // liveness, last statement first
  const markLive = (stmts: readonly Stmt[]) => {
    for (const s of [...stmts].reverse()) {
      if (s.kind === "op") {
        if (live.has(s.out)) for (const a of s.args) if (a.kind === "value") live.add(a.id);
      } else if (s.outs.some((o) => live.has(o.out))) {
        for (const o of s.outs) {
          if (!live.has(o.out)) continue;
          for (const a of [o.then, o.else]) if (a.kind === "value") live.add(a.id);
        }
        if (s.cond.kind === "value") live.add(s.cond.id);
        markLive(s.then);
        markLive(s.else);
      }
    }
  };
  markLive(fn.body);

  // reads of each value by live code, and the block reading it
  const uses = new Map<number, { count: number; block: number; byMerge: boolean }>();
  const use = (a: Atom, block: number, byMerge = false) => {
    if (a.kind !== "value") return;
    const u = uses.get(a.id);
    uses.set(a.id, { count: (u?.count ?? 0) + 1, block, byMerge });
  };
  const countUses = (stmts: Stmt[]) => {
    const block = cx.branchIds.get(stmts)!;
    for (const s of stmts) {
      if (s.kind === "op") {
        if (live.has(s.out) && !cx.isRematerialised(s.out)) s.args.forEach((a) => use(a, block));
      } else if (s.outs.some((o) => live.has(o.out))) {
        use(s.cond, block);
        for (const o of s.outs) {
          if (!live.has(o.out)) continue;
          use(o.then, cx.branchIds.get(s.then)!, true);
          use(o.else, cx.branchIds.get(s.else)!, true);
        }
        countUses(s.then);
        countUses(s.else);
      }
    }
  };
  countUses(fn.body);

  const resultId = fn.result.kind === "value" ? fn.result.id : -1;
  const folds = (id: number): boolean => {
    const u = uses.get(id);
    const def = cx.defs.get(id);
    if (!def || needed.has(id) || id === resultId || cx.isRematerialised(id)) return false;
    if (!u || u.count !== 1 || u.block !== cx.blockOf.get(id)) return false;
    // a user's variable stays a statement, except a new value of it that an arm of an
    // `if` only hands to the merge: `s_3 = s * 2` rather than `const s_2 = s * 2; s_3 = s_2`
    if (cx.isUser(id) && !(u.byMerge && cx.fn.values[id]!.version > 1)) return false;
    return def.kind === "op" || (def.outs.length === 1 && inline(def));
  };
  /** A branch is written as `c ? a : b` when everything in its arms folds into two expressions. */
  const inline = (s: IfStmt): boolean =>
    [...s.then, ...s.else].every((t) => {
      if (t.kind === "op") return !live.has(t.out) || folds(t.out) || cx.isRematerialised(t.out);
      return t.outs.every((o) => !live.has(o.out) || folds(o.out));
    });

  const ex = (a: Atom): Ex => {
    if (a.kind === "value" && folds(a.id)) {
      const def = cx.defs.get(a.id)!;
      return def.kind === "op" ? cx.opEx(def, ex) : ternary(def);
    }
    return cx.atomEx(a);
  };
  const ternary = (s: IfStmt): Ex => cond(ex(s.cond), ex(s.outs[0]!.then), ex(s.outs[0]!.else));

  const typeOf = (id: number) => fn.values[id]!.type;
  /** The source line a folded value came from, so a merge assignment cites the user's line. */
  const originOf = (a: Atom) => (a.kind === "value" && folds(a.id) ? cx.defs.get(a.id)!.loc : undefined);
  const emit = (stmts: readonly Stmt[], assigned: ReadonlySet<number>): CodeStmt[] => {
    const out: CodeStmt[] = [];
    const define = (id: number, init: Ex, origin: IfStmt["loc"]) => {
      const sym = cx.valueSym(id);
      out.push(assigned.has(id)
        ? { k: "assign", op: "=", sym, expr: init, role: "forward", origin }
        : { k: "decl", mutable: false, sym, init, role: "forward", origin });
    };
    for (const s of stmts) {
      if (s.kind === "op") {
        if (!live.has(s.out) || folds(s.out) || cx.isRematerialised(s.out)) continue;
        define(s.out, cx.opEx(s, ex), s.loc);
        continue;
      }
      const outs = s.outs.filter((o) => live.has(o.out) && !folds(o.out));
      if (outs.length === 0) continue;
      if (inline(s)) {
        for (const o of outs) define(o.out, cond(ex(s.cond), ex(o.then), ex(o.else)), s.loc);
        continue;
      }
      // An `if` statement: what its arms compute for later (the merged outputs and the
      // values the backward pass reads) is declared before it.
      const hoisted = new Set<number>(outs.map((o) => o.out));
      for (const id of cx.innerOf.get(s)!) if (needed.has(id)) hoisted.add(id);
      for (const id of hoisted) {
        if (assigned.has(id)) continue;
        const inner = cx.innerOf.get(s)!.has(id);
        out.push({ k: "decl", mutable: true, sym: cx.valueSym(id), init: inner ? (typeOf(id) === "boolean" ? bool(false) : num(0)) : null, type: typeOf(id), role: "forward" });
      }
      const arm = (which: "then" | "else") => [
        ...emit(s[which], hoisted),
        ...outs.map((o): CodeStmt => ({ k: "assign", op: "=", sym: cx.valueSym(o.out), expr: ex(o[which]), role: "forward", origin: originOf(o[which]) ?? s.loc })),
      ];
      out.push({ k: "if", cond: ex(s.cond), then: arm("then"), else: arm("else"), role: "forward", origin: s.loc });
    }
    return out;
  };
  return emit(fn.body, new Set());
}
