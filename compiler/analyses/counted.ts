/**
 * Counted loops: `for (let i = lo; i < hi; i++)` (or `<=`) whose index steps by 1, which
 * nothing else assigns, and whose bound does not change inside the loop. Such a loop runs
 * backward as `for (let i = hi - 1; i >= lo; i--)` and may save into arrays indexed by `i`.
 * parse records the bounds (`LoopStmt.counted`) with `countedBounds`.
 */
import { Node } from "ts-morph";
import type { Atom, LoopStmt, OpStmt, Stmt, Value } from "../ir/ir.ts";
import { findOp } from "../ir/search.ts";
import { assignedBy, pushesOnto } from "../parse/syntax.ts";

/**
 * The bounds of a counted `for` loop `stmt`, lowered to `test` and `body` with condition
 * `cond`: the index steps by 1, nothing else assigns it, and `hi` does not change inside
 * the loop. Null when the loop is not counted.
 */
export function countedBounds(
  stmt: Node,
  values: readonly Value[],
  test: readonly Stmt[],
  body: readonly Stmt[],
  cond: Atom,
  carried: readonly { name: string | null; phi: number; init: Atom }[],
  loopCarried: readonly { phi: number; init: Atom; next: Atom }[],
): LoopStmt["counted"] {
  const compare = test.find((t): t is OpStmt => t.kind === "op" && cond.kind === "value" && t.out === cond.id);
  if (!compare || (compare.op !== "<" && compare.op !== "<=")) return null;
  const [left, hi] = compare.args;
  const index = carried.find((c) => c.name !== null && left!.kind === "value" && c.phi === left!.id);
  if (!index) return null;
  const next = loopCarried.find((c) => c.phi === index.phi)!.next;
  const update = next.kind === "value" ? findOp(body, next.id) : null;
  const stepsByOne = update?.op === "+" && update.args[0]!.kind === "value" && update.args[0]!.id === index.phi &&
    update.args[1]!.kind === "const" && update.args[1]!.value === 1;
  if (!stepsByOne) return null;
  // the index is assigned once per iteration, by the update
  const name = values[index.phi]!.name;
  const assignments = stmt.getDescendants().filter((n) => {
    const target = assignedBy(n);
    return target !== null && target.getText() === name;
  });
  if (assignments.length !== 1) return null;
  // hi is fixed: a constant, a value from before the loop, or computed in the test from
  // those; an array the loop writes into but never pushes onto keeps its length
  const phis = new Set(loopCarried.map((c) => c.phi));
  const lengthOnly = (def: OpStmt | undefined) => def?.op === "length";
  const fixed = (a: Atom, parent?: OpStmt): boolean => {
    if (a.kind === "const") return true;
    const v = values[a.id]!;
    if (phis.has(a.id) && v.type === "array" && lengthOnly(parent) && !pushesOnto(stmt, v.name ?? "")) return true;
    if (phis.has(a.id)) return false;
    const def = test.find((t): t is OpStmt => t.kind === "op" && t.out === a.id);
    return def ? def.args.every((x) => fixed(x, def)) : true;
  };
  if (!fixed(hi!)) return null;
  return { lo: index.init, hi: hi!, inclusive: compare.op === "<=" };
}
