/**
 * Liveness for the primal code (./primal.ts): which values and loops the code must compute
 * — the result, what a later stage reads (`needed`) and what those read, to a fixed point
 * round loops — and how often live code reads each value, and from which block, which
 * decides what folds into the expression reading it (./folding.ts).
 */
import { resultAtoms, type Atom, type LoopStmt, type Stmt } from "../ir/ir.ts";
import type { TransformContext } from "./context.ts";
import type { LoopPlan } from "./tape.ts";

/** One value's reads by live code: how many, the block and statement of the last, and whether it was a branch's merge. */
export interface Use {
  readonly count: number;
  readonly block: number;
  readonly byMerge: boolean;
  readonly by: Stmt;
}

export interface Liveness {
  readonly live: ReadonlySet<number>;
  readonly liveLoops: ReadonlySet<LoopStmt>;
  readonly uses: ReadonlyMap<number, Use>;
}

export function liveness(cx: TransformContext, needed: ReadonlySet<number>, plans: ReadonlyMap<LoopStmt, LoopPlan>): Liveness {
  const { fn } = cx;
  const live = new Set<number>(needed);
  for (const r of resultAtoms(fn)) if (r.kind === "value") live.add(r.id);
  const liveLoops = new Set<LoopStmt>();

  // liveness, last statement first; a loop feeds back into itself, so repeat until stable
  let grew = true;
  const mark = (a: Atom) => {
    if (a.kind === "value" && !live.has(a.id)) {
      live.add(a.id);
      grew = true;
    }
  };
  const markLive = (stmts: readonly Stmt[]) => {
    for (const s of [...stmts].reverse()) {
      if (s.kind === "op") {
        if (live.has(s.out)) s.args.forEach(mark);
      } else if (s.kind === "if") {
        if (!s.outs.some((o) => live.has(o.out)) && ![...cx.innerOf.get(s)!].some((id) => live.has(id))) continue;
        for (const o of s.outs) {
          if (!live.has(o.out)) continue;
          mark(o.then);
          mark(o.else);
        }
        mark(s.cond);
        markLive(s.then);
        markLive(s.else);
      } else {
        const plan = plans.get(s)!;
        const used = s.carried.some((c) => live.has(c.phi)) || [...cx.innerOf.get(s)!].some((id) => live.has(id));
        if (!used) continue;
        if (!liveLoops.has(s)) {
          liveLoops.add(s);
          grew = true;
        }
        for (const c of s.carried) {
          // a next value written into the loop variable needs the variable
          if (c.next.kind === "value" && live.has(c.next.id) && cx.carriedBy.get(c.next.id) === c.phi) mark({ kind: "value", id: c.phi });
          if (!live.has(c.phi)) continue;
          mark(c.init);
          mark(c.next);
        }
        if (plan.counted) mark({ kind: "value", id: cx.countedIndex(s)! });
        mark(s.cond);
        markLive(s.body);
        markLive(s.test);
      }
    }
  };
  while (grew) {
    grew = false;
    markLive(fn.body);
  }

  // reads of each value by live code, and the block reading it
  const uses = new Map<number, Use>();
  let reader: Stmt = fn.body[0]!;
  const use = (a: Atom, block: number, byMerge = false) => {
    if (a.kind !== "value") return;
    const u = uses.get(a.id);
    uses.set(a.id, { count: (u?.count ?? 0) + 1, block, byMerge, by: reader });
  };
  const countUses = (stmts: Stmt[]) => {
    const block = cx.branchIds.get(stmts)!;
    for (const s of stmts) {
      reader = s;
      if (s.kind === "op") {
        if (!live.has(s.out)) continue;
        s.args.forEach((a) => use(a, block));
        // a recomputed expression is written out wherever it is read: what it reads stays a variable
        if (cx.isRematerialised(s.out)) s.args.forEach((a) => use(a, block));
      } else if (s.kind === "if") {
        if (!s.outs.some((o) => live.has(o.out)) && ![...cx.innerOf.get(s)!].some((id) => live.has(id))) continue;
        use(s.cond, block);
        for (const o of s.outs) {
          if (!live.has(o.out)) continue;
          use(o.then, cx.branchIds.get(s.then)!, true);
          use(o.else, cx.branchIds.get(s.else)!, true);
        }
        countUses(s.then);
        countUses(s.else);
      } else if (liveLoops.has(s)) {
        use(s.cond, cx.branchIds.get(s.test)!);
        for (const c of s.carried) {
          if (!live.has(c.phi)) continue;
          use(c.init, block);
          if (c.next.kind === "value" && cx.carriedBy.get(c.next.id) !== c.phi) use(c.next, cx.branchIds.get(s.body)!);
        }
        countUses(s.test);
        countUses(s.body);
      }
    }
  };
  countUses(fn.body);
  return { live, liveLoops, uses };
}
