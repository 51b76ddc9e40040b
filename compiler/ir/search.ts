/** Searches of a block of the graph IR, through its nested regions. */
import type { OpStmt, Stmt } from "./ir.ts";

/** The operation defining `id` in a block (searching nested regions). */
export function findOp(stmts: readonly Stmt[], id: number): OpStmt | null {
  for (const s of stmts) {
    if (s.kind === "op" && s.out === id) return s;
    const found = s.kind === "if" ? findOp(s.then, id) ?? findOp(s.else, id) : s.kind === "loop" ? findOp(s.test, id) ?? findOp(s.body, id) : null;
    if (found) return found;
  }
  return null;
}

/** Whether `id` is a loop variable (a phi) of a loop in `stmts`. */
export function isCarried(stmts: readonly Stmt[], id: number): boolean {
  return stmts.some((s) =>
    s.kind === "loop" ? s.carried.some((c) => c.phi === id) || isCarried(s.test, id) || isCarried(s.body, id)
    : s.kind === "if" ? isCarried(s.then, id) || isCarried(s.else, id)
    : false);
}
