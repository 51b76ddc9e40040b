/**
 * Nested functions, declared inside the function being lowered and called there:
 *
 *   const sq = (t: number) => t * t;          function inner(t: number) { return t * k; }
 *
 * Each call is inlined as a helper's is (calls.ts), but in the frame of the function that
 * declares it, as an array method's callback is (methods.ts): the closure's parameters are
 * bound to the arguments for the length of the call, and it reads (and may assign) the
 * variables it closes over as they are at the call, which is what JavaScript does for a
 * closure called where it is declared. A closure is only called: one that escapes (passed
 * on, returned, stored), is reassigned, or calls itself is a located error.
 */
import { Node, SyntaxKind, type ArrowFunction, type CallExpression, type Expression, type FunctionDeclaration, type FunctionExpression, type PropertyAccessExpression, type Statement } from "ts-morph";
import { CompileError } from "../diagnostics.ts";
import { constAtom } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { expr } from "./expressions.ts";
import { openScope } from "./scopes.ts";
import { signature, TYPE_NAMES } from "./signatures.ts";
import { asserted, assignedBy, blockDeclarations, containsReturn, declaredInside, isArrayWrite, isLoopNode } from "./syntax.ts";
import { functionLevel, walk } from "./walk.ts";
import { argumentBinding, checkWrittenArguments, writeBack, writesArray, writtenArguments } from "./writes.ts";

export type FunctionLike = FunctionDeclaration | ArrowFunction | FunctionExpression;

/** A nested function: its name, its node, and the block that declares it. */
export interface Closure {
  readonly name: string;
  readonly fn: ArrowFunction | FunctionExpression | FunctionDeclaration;
  readonly scope: Node;
}

const isFunctionLike = (n: Node): n is FunctionLike => Node.isFunctionDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n);

/** The nested function the name `name` at `at` stands for (by the scopes around it), or null when it is anything else. */
export function closureAt(at: Node, name: string): Closure | null {
  for (let n = at.getParent(); n && !Node.isSourceFile(n); n = n.getParent()) {
    if (isFunctionLike(n) && n.getParameters().some((p) => p.getName() === name)) return null;
    if (Node.isForStatement(n) || Node.isForOfStatement(n)) {
      const init = n.getInitializer();
      if (init && Node.isVariableDeclarationList(init) && init.getDeclarations().some((d) => d.getName() === name)) return null;
    }
    if (!Node.isBlock(n)) continue;
    for (const s of n.getStatements()) {
      if (Node.isFunctionDeclaration(s) && s.getName() === name) return { name, fn: s, scope: n };
      if (!Node.isVariableStatement(s)) continue;
      const d = s.getDeclarations().find((v) => v.getName() === name);
      if (!d) continue;
      const init = d.getInitializer();
      const f = init && unwrap(init);
      return f && (Node.isArrowFunction(f) || Node.isFunctionExpression(f)) ? { name, fn: f, scope: n } : null;
    }
  }
  return null;
}

const unwrap = (e: Node): Node => (Node.isParenthesizedExpression(e) || Node.isAsExpression(e) || Node.isSatisfiesExpression(e) ? unwrap(e.getExpression()) : e);

/**
 * A statement declaring a nested function (`function inner(...) { ... }`, `const sq = (t) =>
 * ...`): nothing is lowered here, each call inlines it. Checked: it is a `const`, and every
 * use of its name is a call. False for any other statement.
 */
export function nestedFunction(stmt: Statement): boolean {
  if (Node.isFunctionDeclaration(stmt)) {
    checkOnlyCalled(stmt.getName() ?? "", stmt, stmt.getParentOrThrow());
    return true;
  }
  if (!Node.isVariableStatement(stmt)) return false;
  const decls = stmt.getDeclarations();
  const fns = decls.filter((d) => {
    const init = d.getInitializer();
    const f = init && unwrap(init);
    return f !== undefined && (Node.isArrowFunction(f) || Node.isFunctionExpression(f));
  });
  if (fns.length === 0) return false;
  if (decls.length > 1) throw errorAt(fns[0]!, "declare a nested function in a statement of its own (`const sq = (t: number) => t * t;`)");
  const d = fns[0]!;
  if (stmt.getDeclarationKind() !== "const") {
    throw errorAt(d.getNameNode(), `\`${d.getName()}\` is a nested function declared with \`${stmt.getDeclarationKind()}\`: a function tsgrad inlines is one function, declare it \`const ${d.getName()} = ...\` and give another function another name`);
  }
  checkOnlyCalled(d.getName(), d.getNameNode(), stmt.getParentOrThrow());
  return true;
}

/** No assignment gives the nested function `name` another value (a use as a value is `escapes`' error, where it is). */
function checkOnlyCalled(name: string, own: Node, scope: Node): void {
  for (const id of scope.getDescendantsOfKind(SyntaxKind.Identifier)) {
    if (id.getText() !== name || id === own || (Node.isFunctionDeclaration(own) && id === own.getNameNode())) continue;
    const parent = id.getParentOrThrow();
    if (Node.isPropertyAccessExpression(parent) && parent.getNameNode() === id) continue;
    if (Node.isCallExpression(parent) && parent.getExpression() === id) continue;
    if (Node.isParameterDeclaration(parent) || Node.isVariableDeclaration(parent) || Node.isFunctionDeclaration(parent)) continue;
    if (closureAt(id, name) === null) continue;
    if (assignedBy(parent) === id) {
      throw errorAt(parent, `\`${name}\` is a nested function: assigning it another function is not supported (tsgrad inlines each call of one function); declare the other one with a name of its own`);
    }
  }
}

/** A nested function's name read as a value (`return sq`, `g(sq)`, `const h = sq`): the closure would escape. Null when `id` names no nested function. */
export function escapes(id: Node): CompileError | null {
  const name = id.getText();
  if (!closureAt(id, name)) return null;
  return errorAt(id, `the nested function \`${name}\` is used here as a value: a nested function is only called where it is in scope (\`${name}(...)\`), because tsgrad inlines each call; passing it on, returning it or storing it (a closure that escapes) is not supported`);
}

/** The nested functions being inlined: a call of one of them from inside itself is recursion. */
const open = new Set<Node>();

/**
 * A call of a nested function, inlined where it is: its parameters are bound to the
 * arguments, its body lowered, its `return` the call's value (null, for `statement`, when
 * it returns nothing). The variables it assigns outside itself keep their new values.
 */
export function closureCall(cx: Lowerer, node: CallExpression, c: Closure, target?: Target, statement = false): Typed | null {
  const fn = c.fn;
  if (open.has(fn)) throw errorAt(node, `\`${c.name}\` calls itself: recursion is not supported, because tsgrad inlines every call; write it as a loop`);
  if (fn.isAsync() || (!Node.isArrowFunction(fn) && fn.isGenerator())) throw errorAt(fn, "an `async` or generator nested function is not supported here");
  if (fn.getTypeParameters().length > 0) throw errorAt(fn.getTypeParameters()[0]!, "generic functions are not supported yet");
  const argNodes = node.getArguments();
  const spread = argNodes.find((a) => Node.isSpreadElement(a));
  if (spread) throw errorAt(spread, `pass the arguments of \`${c.name}\` one by one`);
  const params = signature(cx, fn as FunctionDeclaration);
  const required = params.filter((p) => !p.init).length;
  if (argNodes.length < required || argNodes.length > params.length) {
    throw errorAt(node, `\`${c.name}\` takes ${required === params.length ? params.length : `${required} to ${params.length}`} argument${params.length === 1 ? "" : "s"}, got ${argNodes.length}`);
  }
  const body = fn.getBody();
  if (!body) throw errorAt(fn, `\`${c.name}\` has no body`);
  if (Node.isBlock(body)) {
    const returning = body.getDescendants().find((n) => isLoopNode(n) && containsReturn(n));
    if (returning) throw errorAt(returning, `a \`return\` inside a loop of the nested function \`${c.name}\` is not supported: set a variable in the loop and return it after (or make \`${c.name}\` a function of the module)`);
  }
  const free = freeNames(fn);
  checkNotShadowed(node, c, free);
  const outerWrites = closureWrites(cx, fn);
  checkWrittenArguments(cx, fn, argNodes);
  if (outerWrites.size > 0 && Node.isBlock(body) && hasEarlyReturn(body)) {
    throw errorAt(body.getFirstDescendantByKind(SyntaxKind.ReturnStatement)!, `\`${c.name}\` assigns \`${[...outerWrites][0]}\`, outside itself, and returns before its end: such a nested function returns once, as its last statement`);
  }
  const args = params.map((p, i) => {
    const a = argNodes[i] ?? p.init!;
    if (p.shape.k !== "leaf") throw errorAt(p.typeNode, `a nested function takes numbers, booleans, strings, arrays and Tensors here, not a \`${p.typeText}\`: make \`${c.name}\` a function of the module to pass a record`);
    const r = expr(cx, a as Expression);
    if (r.type !== p.type) throw errorAt(a, `argument ${i + 1} of \`${c.name}\` is ${TYPE_NAMES[r.type]}, but its parameter \`${p.name}\` is a \`${p.typeText}\``);
    const arg = asserted(a);
    if (r.type === "array" && Node.isIdentifier(arg) && ((writesArray(cx, body, p.name) && free.has(arg.getText())) || outerWrites.has(arg.getText()))) {
      throw errorAt(a, `\`${c.name}\` reads or writes \`${arg.getText()}\` by its own name and, as its parameter \`${p.name}\`, by another: the compiler cannot follow a write through one name to a read through the other (an alias). Use one name inside \`${c.name}\``);
    }
    return r;
  });
  const returnType = fn.getReturnTypeNode();
  const declared = returnType ? cx.valueType(returnType, `the result of \`${c.name}\``) : null;

  const before = new Map(cx.env);
  const bindings = params.map((p, i) => [p.name, argumentBinding(cx, args[i]!, argNodes[i])] as const);
  for (const [name, b] of bindings) cx.env.set(name, b);
  open.add(fn);
  let r: Typed | null;
  try {
    r = Node.isBlock(body)
      ? walk(cx, openScope(cx, body), functionLevel(cx, null, target?.hint ?? c.name))
      : expr(cx, body as Expression, target);
  } finally {
    open.delete(fn);
  }
  // the closure's parameters go out of scope; what it assigned outside itself stays assigned
  const after = cx.env;
  const own = new Set(params.map((p) => p.name));
  cx.env = new Map([...before].map(([name, b]) => [name, own.has(name) ? b : after.get(name) ?? b]));
  writeBack(cx, after, fn, argNodes);
  if (!r) {
    if (statement) return null;
    throw errorAt(fn, `\`${c.name}\` must end with \`return <expression>\` to be called for its value`);
  }
  if (declared && r.type !== declared) throw errorAt(returnType!, `\`${c.name}\` is declared to return ${TYPE_NAMES[declared]} but returns ${TYPE_NAMES[r.type]}`);
  if (statement && outerWrites.size === 0 && ![...writtenArguments(cx, node)].length) {
    throw errorAt(node, `the value of \`${node.getText()}\` would be discarded: give it a name, \`const r = ${node.getText()}\``);
  }
  return statement ? { atom: constAtom(0), type: "data" } : r;
}

/** Whether a `return` comes before the end of a body (in an `if`, or not last). */
function hasEarlyReturn(body: Node & { getStatements(): Statement[] }): boolean {
  const statements = body.getStatements();
  const last = statements.at(-1);
  return statements.slice(0, -1).some((s) => Node.isReturnStatement(s) || containsReturn(s)) || (last !== undefined && !Node.isReturnStatement(last) && containsReturn(last));
}

/** The names a function reads or writes that it does not declare: what it closes over. */
function freeNames(fn: FunctionLike): Set<string> {
  const own = new Set(fn.getParameters().map((p) => p.getName()));
  const free = new Set<string>();
  const body = fn.getBody();
  for (const id of body ? body.getDescendantsOfKind(SyntaxKind.Identifier) : []) {
    const parent = id.getParentOrThrow();
    if (Node.isPropertyAccessExpression(parent) && parent.getNameNode() === id) continue;
    if (own.has(id.getText()) || declaredInside(id, fn)) continue;
    free.add(id.getText());
  }
  return free;
}

/** The variables outside `fn` that it assigns or writes into (itself, or through what it calls). */
export function closureWrites(cx: Lowerer, fn: FunctionLike, open: Set<Node> = new Set([fn])): Set<string> {
  const own = new Set(fn.getParameters().map((p) => p.getName()));
  const out = new Set<string>();
  const body = fn.getBody();
  if (!body) return out;
  const note = (at: Node, name: string) => {
    if (!own.has(name) && !declaredInside(at, fn, name)) out.add(name);
  };
  body.forEachDescendant((n) => {
    let t = assignedBy(n) ?? (isArrayWrite(n) ? (n.getExpression() as PropertyAccessExpression).getExpression() : null);
    if (t) {
      t = asserted(t);
      if (Node.isElementAccessExpression(t)) t = asserted(t.getExpression());
      if (Node.isIdentifier(t)) note(t, t.getText());
    }
    if (Node.isCallExpression(n)) for (const name of writtenArguments(cx, n, open)) note(n, name);
  });
  return out;
}

/**
 * A closure reads the variables of the scope that declares it. Inlined at its call, it
 * sees those of the call instead: the same, unless a block between them declares one of
 * its names again (`{ const k = 5; f(1); }`), which is an error here.
 */
function checkNotShadowed(call: Node, c: Closure, free: ReadonlySet<string>): void {
  for (let n = call.getParent(); n && n !== c.scope; n = n.getParent()) {
    const declared = Node.isBlock(n) ? blockDeclarations(n)
      : Node.isForStatement(n) || Node.isForOfStatement(n) ? declaredBy(n.getInitializer())
      : isFunctionLike(n) ? n.getParameters().map((p) => p.getName()) : [];
    const clash = declared.find((name) => free.has(name));
    if (clash) {
      throw errorAt(call, `\`${c.name}\` reads the \`${clash}\` of the scope it is declared in, but here \`${clash}\` is another variable (declared in between): rename one of them, or pass \`${clash}\` as a parameter`);
    }
  }
}

const declaredBy = (init: Node | undefined): string[] => (init && Node.isVariableDeclarationList(init) ? init.getDeclarations().map((d) => d.getName()) : []);
