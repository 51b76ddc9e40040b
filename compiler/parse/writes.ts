/**
 * Writes into arrays that are not the function's own locals, and element writes as values:
 *
 * - a parameter array the compiled function writes into (`x[0] = x[0] * 2`): the function
 *   itself changes its caller's array, as JavaScript does; its gradient starts from a copy
 *   (`const x_2 = x.slice()`), so `f_grad` leaves the caller's array as it was and its
 *   gradient is with respect to `x` as it was on entry;
 * - an array passed to an inlined helper that writes into it (`scale(y, x, 2)`): the helper's
 *   parameter is the caller's array (an alias), and what the helper wrote is the caller's
 *   array's new value after the call;
 * - `a[i] = v`, `a[i] += v`, `a[i]++` used as values (`const old = a[i]++`).
 *
 * Which arrays a statement writes is also what a loop around it carries (loops.ts
 * `assignedIn`), so `writtenArguments` answers it for a call: through helpers and closures.
 */
import { Node, SyntaxKind, type CallExpression, type ElementAccessExpression, type Expression, type ParameterDeclaration, type PropertyAccessExpression } from "ts-morph";
import { constAtom, valueAtom, type Atom, type Param } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import type { Binding, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { resolveCallee } from "./calls.ts";
import { closureAt, closureWrites, type FunctionLike } from "./closures.ts";
import { elementWrite } from "./statements.ts";
import { expr } from "./expressions.ts";
import { asserted, assignedBy, containsReturn, DIFFERENTIABLE_ARRAY, isArrayWrite } from "./syntax.ts";

/** The function-like nodes whose `k`th parameter is written, by node (a scan is syntactic and done once). */
const writtenCache = new WeakMap<Node, ReadonlySet<number>>();

/** Whether `body` writes into the array named `name` (an element write, `++`, a push, a fill), or passes it to a call that does. */
export function writesArray(cx: Lowerer, body: Node, name: string, open: Set<Node> = new Set()): boolean {
  return body.getDescendants().some((n) => {
    const assigned = assignedBy(n);
    if (assigned && Node.isElementAccessExpression(assigned) && asserted(assigned.getExpression()).getText() === name) return true;
    if (isArrayWrite(n) && asserted((n.getExpression() as PropertyAccessExpression).getExpression()).getText() === name) return true;
    return Node.isCallExpression(n) && writtenArguments(cx, n, open).has(name);
  });
}

/**
 * The names of the arrays a call writes into: its arguments whose parameter the callee (an
 * inlined helper, or a closure) writes, and for a closure the outer variables it assigns.
 */
export function writtenArguments(cx: Lowerer, call: CallExpression, open: Set<Node> = new Set()): Set<string> {
  const out = new Set<string>();
  const callee = call.getExpression();
  if (!Node.isIdentifier(callee)) return out;
  const fn = calleeOf(cx, callee);
  if (!fn || open.has(fn)) return out;
  open.add(fn);
  try {
    const written = writtenParams(cx, fn, open);
    call.getArguments().forEach((a, k) => {
      const arg = asserted(a);
      if (written.has(k) && Node.isIdentifier(arg)) out.add(arg.getText());
    });
    if (!Node.isFunctionDeclaration(fn) || fn.getParent() !== fn.getSourceFile()) for (const name of closureWrites(cx, fn)) out.add(name);
  } finally {
    open.delete(fn);
  }
  return out;
}

/** The function a called name stands for, if tsgrad inlines it (a closure, or a helper it can read); null for anything else. */
function calleeOf(cx: Lowerer, callee: Node): FunctionLike | null {
  const closure = closureAt(callee, callee.getText());
  if (closure) return closure.fn;
  try {
    const resolved = resolveCallee(cx, callee, callee.getSourceFile());
    return resolved.kind === "function" ? resolved.decl : null;
  } catch {
    return null;
  }
}

/** Which parameters of `fn` (by position) its body writes into. */
function writtenParams(cx: Lowerer, fn: FunctionLike, open: Set<Node>): ReadonlySet<number> {
  const known = writtenCache.get(fn);
  if (known) return known;
  const body = fn.getBody();
  const written = new Set<number>();
  if (body) fn.getParameters().forEach((p: ParameterDeclaration, k: number) => { if (writesArray(cx, body, p.getName(), open)) written.add(k); });
  if (open.size <= 1) writtenCache.set(fn, written);
  return written;
}

/**
 * The compiled function's array parameters that its body writes into (itself or through
 * the helpers and closures it calls): each is copied where the function starts, and the
 * body works on the copy. Returns their names, which the emitted code's comment lists.
 */
export function copyWrittenParams(cx: Lowerer, params: readonly Param[]): string[] {
  const body = cx.fn.getBody();
  if (!body) return [];
  const copied: string[] = [];
  for (const p of params) {
    if (p.leafOf || p.type !== "array" || !DIFFERENTIABLE_ARRAY.test(p.typeText) || !writesArray(cx, body, p.name)) continue;
    const node = cx.fn.getParameter(p.name) ?? cx.fn;
    const copy = cx.op("array.copy", [{ atom: valueAtom(p.value), type: "array" }], node, cx.target(p.name), p.typeText);
    cx.env.set(p.name, { atom: copy.atom, type: "array", mutable: true, root: (copy.atom as Atom & { kind: "value" }).id });
    copied.push(p.name);
  }
  return copied;
}

/** The binding of an inlined function's parameter: an array argument keeps the root of the caller's array, so the callee may write into it. */
export function argumentBinding(cx: Lowerer, arg: Typed, argNode: Node | undefined): Binding {
  const base = { atom: arg.atom, type: arg.type, mutable: true };
  if (arg.type !== "array") return base;
  const node = argNode && asserted(argNode);
  const named = node && Node.isIdentifier(node) ? cx.env.get(node.getText()) : undefined;
  if (named) return named.root === undefined ? base : { ...base, root: named.root };
  // a fresh array (`g(x.slice())`) is its own root
  return arg.atom.kind === "value" && !(node && Node.isIdentifier(node)) ? { ...base, root: arg.atom.id } : base;
}

/**
 * Before an inlined call that writes into an array argument: the same array may not be
 * passed twice (the two parameters would be one array the graph sees as two), and the
 * callee must return only at its end (each `return` of an `if` is one arm, which would
 * lose what the other arm wrote).
 */
export function checkWrittenArguments(cx: Lowerer, fn: FunctionLike, argNodes: readonly Node[]): void {
  const written = writtenParams(cx, fn, new Set([fn]));
  if (written.size === 0) return;
  const name = fnName(fn);
  const names = argNodes.map((a) => asserted(a)).map((a) => (Node.isIdentifier(a) && cx.env.get(a.getText())?.type === "array" ? a.getText() : null));
  for (const k of written) {
    const a = names[k];
    if (a && names.filter((n) => n === a).length > 1) {
      throw errorAt(argNodes[k]!, `\`${a}\` is passed twice to \`${name}\`, which writes into its parameter \`${fn.getParameters()[k]!.getName()}\`: the compiler cannot follow a write through one name to a read through the other (an alias). Pass a copy (\`${a}.slice()\`) as one of them`);
    }
  }
  const body = fn.getBody();
  if (body && Node.isBlock(body)) {
    const statements = body.getStatements();
    const early = statements.slice(0, -1).find((s) => Node.isReturnStatement(s) || containsReturn(s)) ?? (statements.length > 0 && !Node.isReturnStatement(statements.at(-1)!) && containsReturn(statements.at(-1)!) ? statements.at(-1) : undefined);
    if (early) {
      const ret = early.getFirstDescendantByKind(SyntaxKind.ReturnStatement) ?? early;
      throw errorAt(ret, `\`${name}\` writes into the array \`${fn.getParameters()[[...written][0]!]!.getName()}\` it is given and returns before its end: a helper that writes into its caller's array returns once, as its last statement (set a variable and return it there)`);
    }
  }
}

/** After an inlined call: each caller's array the callee wrote into has the value the callee left in it. */
export function writeBack(cx: Lowerer, env: ReadonlyMap<string, Binding>, fn: FunctionLike, argNodes: readonly Node[]): void {
  fn.getParameters().forEach((p, k) => {
    const a = argNodes[k] && asserted(argNodes[k]!);
    if (!a || !Node.isIdentifier(a)) return;
    const mine = cx.env.get(a.getText());
    const theirs = env.get(p.getName());
    if (!mine || mine.type !== "array" || !theirs || theirs.type !== "array" || sameAtom(mine.atom, theirs.atom)) return;
    cx.env.set(a.getText(), { ...mine, atom: theirs.atom });
  });
}

const sameAtom = (a: Atom, b: Atom) => a.kind === b.kind && (a.kind === "value" ? a.id === (b as typeof a).id : true);
const fnName = (fn: FunctionLike) => (Node.isFunctionDeclaration(fn) || Node.isFunctionExpression(fn) ? fn.getName() : undefined) ?? closureName(fn);
function closureName(fn: Node): string {
  const parent = fn.getParent();
  return parent && Node.isVariableDeclaration(parent) ? parent.getName() : "the function";
}

/**
 * `a[i] = v`, `a[i] += v` used as a value: what the element holds after the write (`v` for
 * `=`). The index is computed once.
 */
export function elementAssignmentValue(cx: Lowerer, left: ElementAccessExpression, op: string, right: Expression, whole: Expression): Typed {
  const w = elementWrite(cx, left, op, () => expr(cx, right), whole);
  if (op === "=") return w.value;
  return cx.op("index", [w.array, w.index], whole);
}

/** `a[i]++`, `--a[i]` used as a value: the element before the step (postfix) or after it (prefix). */
export function elementIncrementValue(cx: Lowerer, operand: ElementAccessExpression, increment: boolean, prefix: boolean, whole: Expression): Typed {
  const one: Typed = { atom: constAtom(1), type: "number" };
  let before: Typed | null = null;
  const w = elementWrite(cx, operand, increment ? "+=" : "-=", () => one, whole, prefix ? undefined : (a, i) => { before = cx.op("index", [a, i], operand); });
  return before ?? cx.op("index", [w.array, w.index], whole);
}
