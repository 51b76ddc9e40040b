/**
 * `switch`, lowered to the `if` / `else if` chain the rest of the compiler already
 * differentiates. The discriminant is computed once; case k tests `d === test` in the
 * `else` of case k - 1 (in order, as JavaScript tests them), and its arm runs its clause
 * and the clauses after it (fall-through) up to a `break`; `default` is the last `else`,
 * wherever it is written. The clauses share one scope, as in TypeScript.
 *
 * A `switch` no path leaves (no `return`, no `continue`, no `break` of a loop around it)
 * is lowered where it stands, at a level of its own whose `break` ends the arm; its arms
 * are merged after it as an `if`'s. One that a path leaves takes the rest of the list into
 * each arm at the level around it (as an `if` through which a path leaves early does),
 * and there its `break` goes on after the `switch` (walk.ts).
 */
import { Node, type CaseOrDefaultClause, type Statement, type SwitchStatement } from "ts-morph";
import type { Atom } from "../ir/ir.ts";
import { errorAt, headerLoc } from "./locate.ts";
import { merge } from "./branches.ts";
import { expr } from "./expressions.ts";
import type { Binding, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { closeScope, isScopeEnd, type Item, type ScopeEnd } from "./scopes.ts";
import { breaksTo, jumpTarget } from "./syntax.ts";
import { join, walk, type Level } from "./walk.ts";

/** The clauses of a `switch`: its cases in order, where `default` is, and the statements from clause k to the end. */
function clausesOf(cx: Lowerer, stmt: SwitchStatement) {
  const d = expr(cx, stmt.getExpression());
  if (d.type !== "number" && d.type !== "string" && d.type !== "boolean") {
    throw errorAt(stmt.getExpression(), `a \`switch\` compares a number or a string, not ${d.type === "array" ? "an array" : "a Tensor"}`);
  }
  const clauses = stmt.getCaseBlock().getClauses();
  const cases = clauses.flatMap((clause, k) => (Node.isCaseClause(clause) ? [{ clause, k }] : []));
  const defaultAt = clauses.findIndex((c) => Node.isDefaultClause(c));
  const from = (k: number): Statement[] => clauses.slice(k).flatMap((c) => c.getStatements());
  // the clauses' `const`s and `let`s shadow outer names until the `switch` ends
  const saved = new Map<string, Binding | undefined>();
  for (const clause of clauses) {
    for (const s of clause.getStatements()) {
      if (!Node.isVariableStatement(s)) continue;
      for (const decl of s.getDeclarations()) {
        const name = decl.getNameNode().getText();
        if (!saved.has(name)) saved.set(name, cx.env.get(name));
        cx.env.delete(name);
      }
    }
  }
  const end: ScopeEnd = { scopeEnd: saved };
  return { d, cases, defaultAt, from, end, clauses };
}

/** `d === test` for one case. */
function caseTest(cx: Lowerer, d: Typed, clause: CaseOrDefaultClause): Atom {
  if (!Node.isCaseClause(clause)) throw errorAt(clause, "internal: a default clause has no test");
  const test = clause.getExpression();
  return cx.op("===", [d, expr(cx, test)], test).atom;
}

const caseLoc = (stmt: SwitchStatement, clause: CaseOrDefaultClause) =>
  headerLoc(clause, Node.isCaseClause(clause) ? `case ${clause.getExpression().getText()}` : `switch (${stmt.getExpression().getText()})`);

/** A `switch` no path leaves: an `if` chain lowered here, its arms merged after it. */
export function switchInPlace(cx: Lowerer, stmt: SwitchStatement): void {
  const { d, cases, defaultAt, from, end } = clausesOf(cx, stmt);
  const level = switchLevel(cx, stmt);
  const chain = (j: number): void => {
    if (j === cases.length) {
      if (defaultAt >= 0) walk(cx, [...from(defaultAt), end], level);
      return;
    }
    const { clause, k } = cases[j]!;
    const cond = caseTest(cx, d, clause);
    const before = cx.env;
    const { then, otherwise } = cx.arms(() => walk(cx, [...from(k), end], level), () => chain(j + 1));
    merge(cx, before, cond, then, otherwise, caseLoc(stmt, clause));
  };
  chain(0);
  closeScope(cx, end);
}

/**
 * A `switch` a path leaves (by `return` or `continue`): each case's arm runs its clauses
 * and then the rest of the list, at the level around the `switch`.
 */
export function switchSplit<T>(cx: Lowerer, stmt: SwitchStatement, rest: readonly Item[], level: Level<T>): T {
  const { d, cases, defaultAt, from, end, clauses } = clausesOf(cx, stmt);
  const path = (k: number): Item[] => [...from(k), end, { switchEnd: stmt }, ...rest];
  const ends: Item[] = [end, ...rest.filter(isScopeEnd)];
  const chain = (j: number): T => {
    if (j === cases.length) {
      const last = defaultAt >= 0 ? clauses[defaultAt]! : stmt;
      return level.arm(walk(cx, defaultAt >= 0 ? path(defaultAt) : [end, ...rest], level), last, stmt);
    }
    const { clause, k } = cases[j]!;
    const cond = caseTest(cx, d, clause);
    const inner = cx.env;
    const { then, otherwise } = cx.arms(() => level.arm(walk(cx, path(k), level), clause, stmt), () => chain(j + 1));
    return join(cx, level, clause, cond, then, otherwise, caseLoc(stmt, clause), inner, ends);
  };
  return chain(0);
}

/** The clauses of a `switch` lowered where it stands: `break` ends the arm; an `if` with such a `break` splits. */
function switchLevel(cx: Lowerer, stmt: SwitchStatement): Level<void> {
  return {
    splits: (s) => breaksTo(s, stmt),
    jump(j) {
      if (Node.isBreakStatement(j) && jumpTarget(j) === stmt) return;
      throw errorAt(j, "internal: a jump out of a `switch` lowered in place");
    },
    end: () => {},
    arm: () => {},
    join: (_s, cond, then, otherwise, loc, before) => merge(cx, before, cond, then, otherwise, loc),
    afterReturningLoop: (_s, _exits, _rest, walkRest) => walkRest(),
  };
}
