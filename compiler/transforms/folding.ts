/**
 * What the primal code writes as an expression rather than a statement (./primal.ts): a
 * temporary read once, in its own block, that no later stage reads, folds into the
 * expression that reads it, so the user's lines come out as the user wrote them; a branch
 * whose arms all fold is written `c ? a : b`.
 */
import { resultAtoms, type IfStmt, type OpStmt, type Stmt, type Atom } from "../ir/ir.ts";
import { ruleOf } from "../rules/rules.ts";
import type { TransformContext } from "./context.ts";
import type { Liveness } from "./live.ts";

export interface Folding {
  /** Whether a value is written into the expression that reads it. */
  readonly folds: (id: number) => boolean;
  /** Whether a branch is written as `c ? a : b`. */
  readonly inline: (s: IfStmt) => boolean;
}

export function folding(cx: TransformContext, needed: ReadonlySet<number>, { live, liveLoops, uses }: Liveness): Folding {
  const { fn } = cx;
  const results = new Set(resultAtoms(fn).flatMap((r) => (r.kind === "value" ? [r.id] : [])));
  const folds = (id: number): boolean => {
    const u = uses.get(id);
    const def = cx.defs.get(id);
    if (!def || def.kind === "loop" || needed.has(id) || results.has(id) || cx.isRematerialised(id) || cx.carriedBy.has(id) || cx.isArray(id)) return false;
    if (!u || u.count !== 1 || u.block !== cx.blockOf.get(id)) return false;
    if (def.kind === "op" && cx.readsChanging(def) && !readsBeforeWrite(def, u.by)) return false;
    // a user's variable stays a statement, except a new value of it that an arm of an
    // `if` only hands to the merge: `s_3 = s * 2` rather than `const s_2 = s * 2; s_3 = s_2`
    if (cx.isUser(id) && !(u.byMerge && cx.fn.values[id]!.version > 1)) return false;
    return def.kind === "op" || (def.outs.length === 1 && inline(def));
  };
  /**
   * An element read folded into the statement that reads it moves down to that statement:
   * allowed only when no write to the array comes in between (`y[i] = y[i - 1] * w` reads
   * before it writes).
   */
  const readsBeforeWrite = (read: OpStmt, by: Stmt): boolean => {
    const array = cx.root((read.args[0] as Atom & { kind: "value" }).id);
    let end: Stmt = by;
    while (end.kind === "op" && !cx.isArray(end.out) && uses.get(end.out)?.count === 1 && folds(end.out)) end = uses.get(end.out)!.by;
    const block = [...cx.branchIds].find(([, id]) => id === cx.blockOf.get(read.out))![0];
    const from = block.indexOf(read);
    const to = block.indexOf(end);
    if (to < from) return false;
    return block.slice(from + 1, to).every((s) => !writes(s, array));
  };
  const writes = (s: Stmt, array: number): boolean => {
    if (s.kind === "op") return !!ruleOf(s).write && cx.root(s.out) === array;
    if (s.kind === "if") return [...s.then, ...s.else].some((t) => writes(t, array));
    return [...s.test, ...s.body].some((t) => writes(t, array));
  };

  /**
   * A branch is written as `c ? a : b` when everything in its arms folds into two
   * expressions, and it gives a number: a flag a branch sets (`if (s > limit) done = true`,
   * from a `break`) reads better as the branch.
   */
  const inline = (s: IfStmt): boolean =>
    s.outs.every((o) => fn.values[o.out]!.type !== "boolean") &&
    [...s.then, ...s.else].every((t) => {
      if (t.kind === "op") return !live.has(t.out) || folds(t.out) || cx.isRematerialised(t.out);
      if (t.kind === "loop") return !liveLoops.has(t);
      return t.outs.every((o) => !live.has(o.out) || folds(o.out));
    });

  return { folds, inline };
}
