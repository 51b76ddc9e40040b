/**
 * Single statements other than jumps (walk.ts lowers lists and what `return`, `break` and
 * `continue` mean): declarations, assignments to variables and array elements, `i++`,
 * `a.push(v)`; an `if` goes to branches.ts, a loop to loops.ts.
 */
import {
  Node, SyntaxKind,
  type CallExpression, type ElementAccessExpression, type Expression, type PropertyAccessExpression, type Statement, type VariableDeclaration,
} from "ts-morph";
import { CompileError } from "../diagnostics.ts";
import { constAtom, type Atom, type ValueType } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import { checkPoisoned } from "./recover.ts";
import { ifStatement } from "./branches.ts";
import { assign, expr } from "./expressions.ts";
import type { Binding, Target, Typed } from "./frame.ts";
import { loop } from "./loops.ts";
import { declareAggregate } from "./records.ts";
import { recordWrite } from "./built.ts";
import type { Lowerer } from "./lowerer.ts";
import { ARRAY_METHODS, methodStatement } from "./methods.ts";
import { ASSIGNMENT_OPS, DIFFERENTIABLE_ARRAY, asserted, isLoopNode, isPush } from "./syntax.ts";
import { checkNotPopped } from "./tapes.ts";
import { describeUnsupported } from "./unsupported.ts";
import { callStatement } from "./calls.ts";
import { nestedFunction } from "./closures.ts";

export function statement(cx: Lowerer, stmt: Statement): void {
  // a nested function is lowered where it is called (closures.ts)
  if (nestedFunction(stmt)) return;
  if (Node.isVariableStatement(stmt)) {
    const kind = stmt.getDeclarationKind();
    if (kind === "var") throw errorAt(stmt, "`var` is not supported: use `let` or `const`");
    for (const decl of stmt.getDeclarations()) declare(cx, decl, kind === "let");
    return;
  }
  if (Node.isExpressionStatement(stmt)) return expressionStatement(cx, stmt.getExpression());
  if (Node.isIfStatement(stmt)) return ifStatement(cx, stmt);
  if (isLoopNode(stmt)) {
    loop(cx, stmt);
    return;
  }
  throw errorAt(stmt, describeUnsupported(stmt));
}

export function declare(cx: Lowerer, decl: VariableDeclaration, mutable: boolean): void {
  if (declareAggregate(cx, decl, mutable)) return;
  const nameNode = decl.getNameNode();
  if (!Node.isIdentifier(nameNode)) throw errorAt(nameNode, "destructuring is not supported yet");
  const name = nameNode.getText();
  const init = decl.getInitializer();
  if (cx.env.has(name)) throw errorAt(nameNode, `\`${name}\` is already declared in this function`);
  const typeNode = decl.getTypeNode();
  const declared = typeNode ? cx.valueType(typeNode, `\`${name}\``) : null;
  if (!init) return declareUnset(cx, decl, name, mutable, declared);
  const r = assign(cx, cx.target(name), init, init);
  if (r.type === "string") throw errorAt(init, `a string is a constant here, compared with \`===\` or by a \`switch\` where it is used: \`${name}\` cannot hold one`);
  if (declared && declared !== r.type) throw errorAt(init, `\`${name}\` is declared \`${declared}\` but its value is a ${r.type}`);
  if (r.type === "array" && declared && typeNode && !DIFFERENTIABLE_ARRAY.test(typeNode.getText())) {
    throw errorAt(typeNode, `a local array is a \`number[]\` or a \`Float64Array\`, not a \`${typeNode.getText()}\``);
  }
  cx.env.set(name, { atom: r.atom, type: r.type, mutable, root: r.type === "array" ? (r.atom as Atom & { kind: "value" }).id : undefined });
}

/**
 * `let x: number;`: a name with no value yet. It gets one from its first assignment; a
 * read before that, on any path, is an error (as TypeScript's definite assignment).
 */
function declareUnset(cx: Lowerer, decl: VariableDeclaration, name: string, mutable: boolean, declared: ValueType | null): void {
  if (!mutable) throw errorAt(decl, `\`const ${name}\` needs a value: write \`const ${name} = ...\``);
  if (!declared) throw errorAt(decl, `\`let ${name}\` without a value needs a type: write \`let ${name}: number;\``);
  if (declared === "array") throw errorAt(decl, `a local array gets its value where it is declared: write \`let ${name} = new Array<number>(n).fill(0)\``);
  cx.env.set(name, { atom: constAtom(0), type: declared, mutable, unset: true });
}

/** An expression used as a statement: an assignment, `i++`, or a comma list of those (a `for` update). */
export function expressionStatement(cx: Lowerer, e: Expression): void {
  if (Node.isParenthesizedExpression(e)) return expressionStatement(cx, e.getExpression());
  if (Node.isBinaryExpression(e)) {
    const op = e.getOperatorToken().getText();
    if (op in ASSIGNMENT_OPS) return assignment(cx, e.getLeft(), op, e.getRight(), e);
    if (op === ",") {
      expressionStatement(cx, e.getLeft());
      return expressionStatement(cx, e.getRight());
    }
  }
  if (Node.isPrefixUnaryExpression(e) || Node.isPostfixUnaryExpression(e)) return increment(cx, e);
  if (isPush(e)) return push(cx, e);
  if (Node.isCallExpression(e) && Node.isIdentifier(e.getExpression())) return callStatement(cx, e);
  if (Node.isCallExpression(e) && Node.isPropertyAccessExpression(e.getExpression()) && ARRAY_METHODS.has((e.getExpression() as PropertyAccessExpression).getName())) {
    return methodStatement(cx, e);
  }
  throw errorAt(e, "an expression statement other than an assignment or `a.push(v)` is not supported: its value would be discarded");
}

/** `i++`, `++i`, `i--`, `--i` as a statement: `i += 1` / `i -= 1`. */
function increment(cx: Lowerer, e: Node & { getOperand(): Node; getOperatorToken(): SyntaxKind }): void {
  const operator = e.getOperatorToken();
  if (operator !== SyntaxKind.PlusPlusToken && operator !== SyntaxKind.MinusMinusToken) {
    throw errorAt(e, "an expression statement other than an assignment is not supported: its value would be discarded");
  }
  const operand = asserted(e.getOperand());
  const one = { atom: constAtom(1), type: "number" as ValueType };
  if (Node.isElementAccessExpression(operand)) {
    elementWrite(cx, operand, operator === SyntaxKind.PlusPlusToken ? "+=" : "-=", () => one, e);
    return;
  }
  assignTo(cx, operand, e, (binding, target) =>
    cx.op(operator === SyntaxKind.PlusPlusToken ? "+" : "-", [{ atom: binding.atom, type: binding.type }, one], e, target));
}

/** An assignment (`right` null: `++`/`--` as `+= 1`/`-= 1`) to a variable, used as a value by expressions.ts. */
export function valueAssignment(cx: Lowerer, left: Expression, op: string, right: Expression | null, whole: Expression): void {
  if (right) return assignment(cx, left, op, right, whole);
  const one = { atom: constAtom(1), type: "number" as ValueType };
  assignTo(cx, left, whole, (binding, target) => cx.op(op === "+=" ? "+" : "-", [{ atom: binding.atom, type: binding.type }, one], whole, target));
}

function assignment(cx: Lowerer, written: Expression, op: string, right: Expression, whole: Expression): void {
  // `y[i]! += v`, as code checked with noUncheckedIndexedAccess writes it
  const left = asserted(written);
  if (Node.isElementAccessExpression(left)) {
    elementWrite(cx, left, op, () => expr(cx, right), whole);
    return;
  }
  const binop = ASSIGNMENT_OPS[op];
  assignTo(cx, left, whole, (binding, target) => {
    if (!binop) return assign(cx, target, right, whole);
    return cx.op(binop, [{ atom: binding.atom, type: binding.type }, expr(cx, right)], whole, target);
  }, right, binop !== null);
}

/** Writes a new value of the local variable `left`, computed by `compute` from its current binding. */
function assignTo(cx: Lowerer, left: Node, whole: Node, compute: (binding: Binding, target: Target) => Typed, right: Node = whole, reads = true): void {
  const toRecord = recordWrite(cx, left);
  if (toRecord) throw toRecord;
  if (!Node.isIdentifier(left)) throw errorAt(left, "assigning to anything but a local variable or an element of a local array is not supported");
  const name = left.getText();
  const binding = cx.env.get(name);
  if (!binding) throw outsideWrite(cx, left, name);
  if (!binding.mutable) throw errorAt(left, `cannot assign to \`${name}\` because it is a constant`);
  if (binding.type === "array") throw errorAt(left, `reassigning the array \`${name}\` is not supported: write into its elements, or give the new array its own name`);
  if (binding.unset && reads) {
    checkPoisoned(cx, name);
    throw readBeforeAssigned(left, name);
  }
  if (binding.type === "string") throw errorAt(left, `\`${name}\` is a string, a constant here: it cannot be assigned`);
  const r = compute(binding, cx.target(name));
  if (r.type !== binding.type) throw errorAt(right, `\`${name}\` holds a ${binding.type}; assigning a ${r.type} is not supported`);
  const { unset: _unset, ...assigned } = binding;
  cx.env.set(name, { ...assigned, atom: r.atom });
}

/**
 * `a[i] = v`, `a[i] += v`, `a[i] -= v` (other operators read the element first): a new
 * value of the array, written in place by the emitted code.
 */
export function elementWrite(
  cx: Lowerer, left: ElementAccessExpression, op: string, right: () => Typed, whole: Node, before?: (a: Typed, i: Typed) => void,
): { array: Typed; index: Typed; value: Typed } {
  const array = left.getExpression();
  const at = left.getArgumentExpression();
  if (!at) throw errorAt(left, "an element write needs an index");
  const { name, binding } = writableArray(cx, array, whole);
  const target = cx.target(name);
  const a = { atom: binding.atom, type: binding.type };
  const i = expr(cx, at);
  before?.(a, i);
  let key = op === "=" ? "store" : op === "+=" ? "storeAdd" : op === "-=" ? "storeSub" : null;
  let v = right();
  if (!key) {
    const element = cx.op("index", [a, i], left);
    v = cx.op(ASSIGNMENT_OPS[op]!, [element, v], whole);
    key = "store";
  }
  const r = cx.op(key, [a, i, v], whole, target);
  cx.env.set(name, { ...binding, atom: r.atom });
  return { array: r, index: i, value: v };
}

/** `a.push(v)`: the value goes in at the array's old length, where the backward pass finds its gradient. */
function push(cx: Lowerer, call: CallExpression): void {
  const receiver = (call.getExpression() as PropertyAccessExpression).getExpression();
  const { name, binding } = writableArray(cx, receiver, call);
  checkNotPopped(cx, name, call);
  const root = cx.values[binding.root!]!;
  if (root.typeText !== "number[]") throw errorAt(call, `\`${name}\` is a ${root.typeText}, whose length is fixed: only a \`number[]\` can grow with \`push\``);
  const args = call.getArguments();
  if (args.length !== 1) throw errorAt(call, "`push` takes one value here: push several with one call each");
  const a = { atom: binding.atom, type: binding.type };
  const at = cx.op("length", [a], call);
  const v = expr(cx, args[0] as Expression);
  const r = cx.op("push", [a, at, v], call, cx.target(name));
  cx.env.set(name, { ...binding, atom: r.atom });
}

/** A read of `let x: number;` on a path where nothing has assigned it yet. */
export function readBeforeAssigned(node: Node, name: string): CompileError {
  return errorAt(node, `\`${name}\` is read before it is assigned: give it a value on every path that reaches here (or declare it with one, \`let ${name} = 0\`)`);
}

/** Writing a variable (or an array's element) that is not the function's own. */
function outsideWrite(cx: Lowerer, node: Node, name: string): CompileError {
  checkPoisoned(cx, name);
  const where = cx.frame.file.getVariableDeclaration(name) ? "is a module-level variable" : `is not a local variable of \`${cx.frame.fn.getName()}\``;
  return errorAt(node, `\`${name}\` ${where}: writing to state outside the function is not supported (the gradient could not see it)`);
}

/** The local array an element write or a push changes; parameters and outside state are not writable. */
function writableArray(cx: Lowerer, array: Node, whole: Node): { name: string; binding: Binding } {
  if (!Node.isIdentifier(array)) {
    throw errorAt(array, `only a local array variable can be written into (\`a[i] = v\`), or an array parameter; \`${array.getText()}\` is a part of another value: write into a copy (\`const y = ${array.getText()}.slice()\`)`);
  }
  const name = array.getText();
  const binding = cx.env.get(name);
  if (!binding && cx.frame.aggregates.has(name)) {
    throw errorAt(array, `\`${name}\` is a part of a record, a tuple or a nested array (a place in it), which tsgrad reads but cannot write through: write into a copy, \`const y = ${name}.slice()\``);
  }
  if (!binding) throw outsideWrite(cx, array, name);
  if (binding.type !== "array") throw errorAt(array, `\`${name}\` is a ${binding.type}, not an array: only arrays of numbers can be written by element`);
  // an array parameter the function writes into is copied where it starts (writes.ts); an
  // inlined helper's parameter is its caller's array; what has no root here is a part of another value
  const root = binding.root === undefined ? null : cx.values[binding.root]!;
  if (!root || root.param) {
    throw errorAt(whole, `writing into \`${name}\` is not supported here: the array it stands for is not a local array or an array parameter of the function being compiled (a record's field, a row, a constant) and tsgrad cannot follow writes through it. Copy it into a local array and write into that (\`const y = ${name}.slice()\`)`);
  }
  return { name, binding };
}
