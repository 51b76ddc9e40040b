/**
 * Branches: `if` statements and `?:`. Each arm is lowered on its own copy of the variables
 * and into its own block; a variable either arm assigns gets a merged value after the
 * branch (a phi node). An `if` through which a path leaves early is split by walk.ts.
 */
import type { Expression, IfStatement, Node, Statement } from "ts-morph";
import { valueAtom, type Atom, type SourceLoc, type Stmt } from "../ir/ir.ts";
import { errorAt, headerLoc, locOf } from "./locate.ts";
import { condition as asCondition, expr } from "./expressions.ts";
import type { Binding, Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { statementsOf } from "./syntax.ts";
import { armItems } from "./scopes.ts";
import { plainLevel, walk } from "./walk.ts";

const sameAtom = (a: Atom, b: Atom) =>
  a.kind === "value" ? b.kind === "value" && a.id === b.id : b.kind === "const" && Object.is(a.value, b.value);

/** `if (c) A else B` that no path leaves early. */
export function ifStatement(cx: Lowerer, stmt: IfStatement): void {
  const { cond, then, otherwise, loc, before } = branch(cx, stmt, (_own, node) => walk(cx, armItems(node), plainLevel));
  merge(cx, before, cond, then, otherwise, loc);
}

/** Pushes a branch whose arms were lowered from the variables `before`, merging what they assign (phi nodes). */
export function merge(
  cx: Lowerer,
  before: ReadonlyMap<string, Binding>,
  cond: Atom,
  then: { block: Stmt[]; env: ReadonlyMap<string, Binding> },
  otherwise: { block: Stmt[]; env: ReadonlyMap<string, Binding> },
  loc: SourceLoc,
): void {
  const outs: { out: number; then: Atom; else: Atom }[] = [];
  for (const [name, binding] of before) {
    const thenBinding = then.env.get(name)!;
    const elseBinding = otherwise.env.get(name)!;
    // `let x: number;` assigned by one arm only stays unassigned after the branch
    if (thenBinding.unset || elseBinding.unset) continue;
    const a = thenBinding.atom;
    const b = elseBinding.atom;
    if (!binding.unset && sameAtom(a, binding.atom) && sameAtom(b, binding.atom)) continue;
    const out = cx.newValue(name, cx.nextVersion(name), name, binding.type);
    outs.push({ out, then: a, else: b });
    const { unset: _unset, ...assigned } = binding;
    cx.env.set(name, { ...assigned, atom: valueAtom(out) });
  }
  cx.block.push({ kind: "if", cond, then: then.block, else: otherwise.block, outs, loc });
}

/**
 * The shared half of every `if`: the condition, then each arm lowered by `arm` on its own
 * copy of the variables and into its own block. The variables are restored after; `before`
 * is them as the arms start, after the condition (whose `Math.max(...xs)` or `.reduce` is a
 * loop that leaves the variables in a new map).
 */
export function branch<T>(cx: Lowerer, stmt: IfStatement, arm: (statements: Statement[], node: Statement | undefined) => T) {
  const condition = stmt.getExpression();
  const c = asCondition(cx, condition);
  const before: ReadonlyMap<string, Binding> = cx.env;
  const { then, otherwise } = cx.arms(
    () => arm(statementsOf(stmt.getThenStatement()), stmt.getThenStatement()),
    () => arm(statementsOf(stmt.getElseStatement()), stmt.getElseStatement()),
  );
  return { cond: c.atom, then, otherwise, before, loc: headerLoc(stmt, `if (${condition.getText()})`) };
}

/** `c ? a : b`: a branch whose one output is the expression's value. */
export function conditional(cx: Lowerer, node: Node & { getCondition(): Expression; getWhenTrue(): Expression; getWhenFalse(): Expression }, target?: Target): Typed {
  const c = asCondition(cx, node.getCondition());
  const outer = cx.block;
  const thenBlock: Stmt[] = [];
  const elseBlock: Stmt[] = [];
  cx.block = thenBlock;
  const a = expr(cx, node.getWhenTrue());
  cx.block = elseBlock;
  const b = expr(cx, node.getWhenFalse());
  cx.block = outer;
  if (a.type !== b.type) throw errorAt(node, `the branches of \`?:\` must have the same type (here ${a.type} and ${b.type})`);
  if (a.type === "array") throw errorAt(node, "choosing between two arrays with `?:` is not supported: choose between their elements");
  if (a.type === "string") throw errorAt(node, "choosing between two strings is not supported: a string is a constant here, compared where it is used");
  const out = cx.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? "picked", a.type);
  cx.block.push({ kind: "if", cond: c.atom, then: thenBlock, else: elseBlock, outs: [{ out, then: a.atom, else: b.atom }], loc: locOf(node) });
  return { atom: valueAtom(out), type: a.type };
}
