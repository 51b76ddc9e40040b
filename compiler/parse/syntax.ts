/**
 * What the lowering asks of TypeScript's syntax tree without lowering anything: the operator
 * and type tables, and predicates over statements (does this loop `break`, does this `if`
 * leave the iteration). No state: every function here reads nodes only.
 */
import {
  Node,
  type Block, type BreakStatement, type CallExpression, type ContinueStatement, type DoStatement, type ForOfStatement, type ForStatement,
  type FunctionDeclaration, type IfStatement, type JSDocTag, type NumericLiteral, type ReturnStatement, type Statement, type WhileStatement,
} from "ts-morph";
import type { Import } from "../ir/ir.ts";
import { RUNTIME_FUNCTIONS, TENSOR_FUNCTIONS } from "../rules/rules.ts";

/** Module specifiers that name tsgrad's runtime: its index, scalar helpers, or tensor module. */
export const RUNTIME_MODULE = /(^|\/)runtime(\/(index|scalar|tensor))?(\.[cm]?[jt]s)?$|^tsgrad(\/(runtime|tensor))?$/;
export const TENSOR_MODULE = /(^|\/)runtime\/tensor(\.[cm]?[jt]s)?$|^tsgrad\/tensor$/;
export const SCALAR_MODULE = /(^|\/)runtime\/scalar(\.[cm]?[jt]s)?$/;
/** The rule-table key of a runtime import (`sigmoid`, `tensor.matmul`), or null when it is not one. */
export function runtimeKey(imported: Import): string | null {
  if (!RUNTIME_MODULE.test(imported.module)) return null;
  const name = imported.imported;
  const tensorModule = TENSOR_MODULE.test(imported.module);
  if (!tensorModule && RUNTIME_FUNCTIONS.has(name)) return name;
  if (!SCALAR_MODULE.test(imported.module) && TENSOR_FUNCTIONS.has(name)) return `tensor.${name}`;
  return null;
}
/** Array types a function may take; `number[]` and `Float64Array` are differentiated by default. */
export const ARRAY_TYPE = /^(readonly\s+number\[\]|number\[\]|Array<number>|ReadonlyArray<number>|ArrayLike<number>|Float64Array|Float32Array|Int32Array|Uint32Array|Int16Array|Uint16Array|Int8Array|Uint8Array)$/;
export const DIFFERENTIABLE_ARRAY = /^(number\[\]|Float64Array)$/;

export const ASSIGNMENT_OPS: Readonly<Record<string, string | null>> = {
  "=": null, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**",
};
export const BINARY_OPS = new Set(["+", "-", "*", "/", "%", "**", "<", "<=", ">", ">=", "===", "!==", "&&", "||"]);
/** What to call instead of an operator on tensors. */
export const TENSOR_OPERATORS: Readonly<Record<string, string>> = {
  "+": "add(a, b)", "-": "sub(a, b)", "*": "mul(a, b)", "/": "div(a, b)", neg: "neg(a)",
  "Math.exp": "exp(t)", "Math.log": "log(t)", "Math.tanh": "tanh(t)", "Math.max": "maximum(t, s)",
};
export const LOOSE_EQUALITY: Readonly<Record<string, string>> = { "==": "===", "!=": "!==" };

export type LoopNode = ForStatement | WhileStatement | DoStatement | ForOfStatement;
export type JumpNode = BreakStatement | ContinueStatement | ReturnStatement;

export const isLoopNode = (node: Node): node is LoopNode =>
  Node.isForStatement(node) || Node.isWhileStatement(node) || Node.isDoStatement(node) || Node.isForOfStatement(node);

export const isJump = (node: Node): node is JumpNode =>
  Node.isBreakStatement(node) || Node.isContinueStatement(node) || Node.isReturnStatement(node);

/** `break`, `continue` or `return`, as messages name it. */
export const jumpWord = (stmt: JumpNode) => (Node.isBreakStatement(stmt) ? "break" : Node.isContinueStatement(stmt) ? "continue" : "return");

/** The statements of an `if` arm or a loop body: a block's, or the one statement. */
export const statementsOf = (node: Statement | undefined): Statement[] => (node === undefined ? [] : Node.isBlock(node) ? node.getStatements() : [node]);

/** The names a block's own `const` and `let` statements declare (not those of blocks inside it). */
export function blockDeclarations(block: Block): string[] {
  return block.getStatements().flatMap((s) => (Node.isVariableStatement(s) ? s.getDeclarations().map((d) => d.getNameNode().getText()) : []));
}

/**
 * Whether the identifier `id` names a variable declared inside `loop` (in a block of its
 * body, or by a loop nested in it), not one the loop shares with the code around it.
 */
export function declaredInside(id: Node, loop: Node): boolean {
  const name = id.getText();
  for (let n = id.getParent(); n && n !== loop; n = n.getParent()) {
    if (Node.isBlock(n) && blockDeclarations(n).includes(name)) return true;
    if (Node.isForStatement(n) || Node.isForOfStatement(n)) {
      const init = n.getInitializer();
      if (init && Node.isVariableDeclarationList(init) && init.getDeclarations().some((d) => d.getNameNode().getText() === name)) return true;
    }
  }
  return false;
}

/** Walks the statements under `node` (not into closures), `visit` answering "found", "skip" its children, or "go on". */
function search(node: Node, visit: (n: Node) => "found" | "skip" | "go"): boolean {
  let found = false;
  node.forEachDescendant((n, traversal) => {
    if (Node.isFunctionLikeDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n)) return traversal.skip();
    const answer = visit(n);
    if (answer === "found") {
      found = true;
      traversal.stop();
    } else if (answer === "skip") {
      traversal.skip();
    }
  });
  return found;
}

/** Whether a `return` sits anywhere inside `node` (in a branch, in a loop at any depth). */
export function containsReturn(node: Node): boolean {
  return search(node, (n) => (Node.isReturnStatement(n) ? "found" : "go"));
}

/**
 * The statement a `break` or `continue` leaves: its label's loop, else the nearest loop (or,
 * for `break`, `switch`) around it; null when there is none (or the label names no loop).
 */
export function jumpTarget(stmt: BreakStatement | ContinueStatement): Node | null {
  const label = stmt.getLabel()?.getText();
  for (let n: Node | undefined = stmt.getParent(); n; n = n.getParent()) {
    if (Node.isFunctionLikeDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n)) return null;
    if (label !== undefined) {
      if (Node.isLabeledStatement(n) && n.getLabel().getText() === label) return n.getStatement();
    } else if (isLoopNode(n) || (Node.isBreakStatement(stmt) && Node.isSwitchStatement(n))) {
      return n;
    }
  }
  return null;
}

/** Whether `n` is `inside` or one of its descendants. */
const within = (n: Node, inside: Node) => n === inside || n.getAncestors().includes(inside);

/** Whether a jump under `node` leaves it: a `return`, or a `break` or `continue` whose target is around it. */
export function leavesNode(node: Node): boolean {
  return search(node, (n) => {
    if (Node.isReturnStatement(n)) return "found";
    if (Node.isBreakStatement(n) || Node.isContinueStatement(n)) {
      const target = jumpTarget(n);
      return target === null || !within(target, node) ? "found" : "go";
    }
    return "go";
  });
}

/** Whether a loop's body has a `break` of its own (not one of a loop or `switch` nested inside it). */
export function breaksOut(loop: LoopNode): boolean {
  return search(loop.getStatement(), (n) => (Node.isBreakStatement(n) && jumpTarget(n) === loop ? "found" : "go"));
}

/** Whether a `break` under `node` leaves the `switch` statement `target` (around `node`). */
export function breaksTo(node: Node, target: Node): boolean {
  return search(node, (n) => (Node.isBreakStatement(n) && jumpTarget(n) === target ? "found" : "go"));
}

/**
 * Whether an `if` in a loop body leaves the iteration early: a `break`, `continue` or
 * `return` in an arm that jumps out of the `if` (a loop in an arm that returns from the
 * function, too), not one that leaves a loop or a `switch` inside it.
 */
export function jumpsInside(stmt: IfStatement): boolean {
  return leavesNode(stmt);
}

/**
 * A numeric literal's value. (ts-morph's `getLiteralValue` reads `1e-12` with `parseInt`,
 * as 1; TypeScript's own text of the literal is already normalised: `0x10` is "16".)
 */
export function numberOf(literal: NumericLiteral): number {
  return Number(literal.compilerNode.text);
}

/**
 * `n` without the non-null assertions on it: `x[i]!` is `x[i]` (code written under
 * noUncheckedIndexedAccess says so of the elements it reads; it changes nothing at run time).
 */
export function asserted(n: Node): Node {
  return Node.isNonNullExpression(n) ? asserted(n.getExpression()) : n;
}

/** The variable an assignment (`=`, `+=`, ...) or an increment (`++`, `--`) writes, or null when `n` is neither. */
export function assignedBy(n: Node): Node | null {
  return Node.isBinaryExpression(n) && n.getOperatorToken().getText() in ASSIGNMENT_OPS ? asserted(n.getLeft())
    : Node.isPrefixUnaryExpression(n) || Node.isPostfixUnaryExpression(n) ? asserted(n.getOperand()) : null;
}

/** Whether `expr` assigns (`=`, `+=`, `++`, ...) one of `names`. */
export function writesAny(expr: Node, names: ReadonlySet<string>): boolean {
  return [expr, ...expr.getDescendants()].some((n) => {
    const target = assignedBy(n);
    return target !== null && Node.isIdentifier(target) && names.has(target.getText());
  });
}

/** A loop's header as comments show it: `for (let i = 0; i < n; i++)`, `while (x > 1)`, `do ... while (x > 1)`. */
export function loopHeader(stmt: LoopNode): string {
  if (Node.isForStatement(stmt)) {
    return `for (${stmt.getInitializer()?.getText() ?? ""}; ${stmt.getCondition()?.getText() ?? ""}; ${stmt.getIncrementor()?.getText() ?? ""})`;
  }
  if (Node.isForOfStatement(stmt)) return `for (${stmt.getInitializer().getText()} of ${stmt.getExpression().getText()})`;
  return `${Node.isDoStatement(stmt) ? "do ... " : ""}while (${stmt.getExpression().getText()})`;
}

/** Whether a loop pushes onto the array `name` (its length changes). */
export function pushesOnto(loop: Node, name: string): boolean {
  return loop.getDescendants().some((n) => isPush(n) && n.getExpression().getFirstChild()?.getText() === name);
}

/** `a.push(...)`. */
export function isPush(node: Node): node is CallExpression {
  if (!Node.isCallExpression(node)) return false;
  const callee = node.getExpression();
  return Node.isPropertyAccessExpression(callee) && callee.getName() === "push";
}

/** `a.push(...)` or `a.fill(...)`: a call that writes the elements of the array it is called on. */
export function isArrayWrite(node: Node): node is CallExpression {
  if (!Node.isCallExpression(node)) return false;
  const callee = node.getExpression();
  return Node.isPropertyAccessExpression(callee) && (callee.getName() === "push" || callee.getName() === "fill");
}

/** The `@gradient NAME` tag of a function with a custom gradient, if it has one. */
export function gradientTag(fn: FunctionDeclaration): JSDocTag | undefined {
  return fn.getJsDocs().flatMap((d) => d.getTags()).find((t) => t.getTagName() === "gradient");
}

/** The `@tangent NAME` tag of a function with a hand-written forward derivative, if it has one. */
export function tangentTag(fn: FunctionDeclaration): JSDocTag | undefined {
  return fn.getJsDocs().flatMap((d) => d.getTags()).find((t) => t.getTagName() === "tangent");
}
