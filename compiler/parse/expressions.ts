/**
 * Expressions: every nested expression becomes an operation with a named or temporary
 * output (`target`, when the value is a user's variable). Calls are calls.ts's, `?:` is
 * branches.ts's.
 */
import { Node, SyntaxKind, type Expression, type NewExpression } from "ts-morph";
import { constAtom } from "../ir/ir.ts";
import { MATH_CONSTANTS } from "../rules/rules.ts";
import { errorAt } from "./locate.ts";
import { checkPoisoned } from "./recover.ts";
import { conditional } from "./branches.ts";
import { call } from "./calls.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { spreadLiteral } from "./arrays.ts";
import { ARRAY_METHODS, arrayMethod } from "./methods.ts";
import { isPop, pop } from "./tapes.ts";
import { ASSIGNMENT_OPS, BINARY_OPS, LOOSE_EQUALITY, asserted, assignedBy, numberOf } from "./syntax.ts";
import { access, valueOf } from "./records.ts";
import { moduleConstant, NUMBER_CONSTANTS } from "./constants.ts";
import { expressionStatement, readBeforeAssigned, valueAssignment } from "./statements.ts";
import { describeUnsupported } from "./unsupported.ts";
import { elementAssignmentValue, elementIncrementValue } from "./writes.ts";
import { escapes } from "./closures.ts";

export function expr(cx: Lowerer, node: Expression, target?: Target): Typed {
  if (Node.isParenthesizedExpression(node)) return expr(cx, node.getExpression(), target);
  // `x!`, `x as number`, `<number>x`, `x satisfies number`: no run-time effect
  if (Node.isNonNullExpression(node) || Node.isAsExpression(node) || Node.isTypeAssertion(node) || Node.isSatisfiesExpression(node)) {
    return expr(cx, node.getExpression(), target);
  }
  if (Node.isNumericLiteral(node)) return { atom: constAtom(numberOf(node)), type: "number" };
  if (Node.isTrueLiteral(node)) return { atom: constAtom(true), type: "boolean" };
  if (Node.isFalseLiteral(node)) return { atom: constAtom(false), type: "boolean" };
  // a string is a constant, compared with a constant parameter (`kind === "relu"`, `case "relu":`)
  if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) return { atom: constAtom(node.getLiteralValue()), type: "string" };
  if (Node.isIdentifier(node)) return identifier(cx, node);
  if (Node.isPropertyAccessExpression(node)) {
    if (Node.isThisExpression(node.getExpression())) throw errorAt(node.getExpression(), describeUnsupported(node.getExpression()));
    const read = access(cx, node, target);
    if (read) return read;
    const member = node.getName();
    if (member === "length" && Node.isIdentifier(node.getExpression()) && cx.env.get(node.getExpression().getText())?.type === "array") {
      return cx.op("length", [expr(cx, node.getExpression())], node, target);
    }
    if (node.getExpression().getText() === "Math" && member in MATH_CONSTANTS) {
      return { atom: constAtom(MATH_CONSTANTS[member]!, `Math.${member}`), type: "number" };
    }
    if (node.getExpression().getText() === "Number" && member in NUMBER_CONSTANTS) {
      return { atom: constAtom(NUMBER_CONSTANTS[member]!, `Number.${member}`), type: "number" };
    }
    let base: Node = node;
    while (Node.isPropertyAccessExpression(base) || Node.isElementAccessExpression(base)) base = base.getExpression();
    if (Node.isIdentifier(base) && !cx.env.has(base.getText())) checkPoisoned(cx, base.getText());
    throw errorAt(node, `property access \`${node.getText()}\` is not supported yet (objects are outside this version's subset)`);
  }
  if (Node.isPrefixUnaryExpression(node)) {
    const operand = node.getOperand();
    switch (node.getOperatorToken()) {
      case SyntaxKind.MinusToken:
        if (Node.isNumericLiteral(operand)) return { atom: constAtom(-numberOf(operand)), type: "number" };
        return cx.op("neg", [expr(cx, operand)], node, target);
      case SyntaxKind.PlusToken:
        return expr(cx, operand, target);
      case SyntaxKind.ExclamationToken:
        return cx.op("!", [condition(cx, operand)], node, target);
      case SyntaxKind.PlusPlusToken:
      case SyntaxKind.MinusMinusToken:
        return incrementValue(cx, node, true);
      default:
        throw errorAt(node, "`~` is not supported here: bitwise operators do not apply to differentiable numbers");
    }
  }
  if (Node.isBinaryExpression(node)) {
    const token = node.getOperatorToken().getText();
    if (token in ASSIGNMENT_OPS) return assignmentValue(cx, node);
    if (token === ",") {
      // `a, b`: `a` for what it assigns, then the value of `b`
      expressionStatement(cx, node.getLeft());
      return expr(cx, node.getRight(), target);
    }
    // `&&`, `||` between conditions read numbers as JavaScript does (0 is false)
    if (token === "&&" || token === "||") return cx.op(token, [condition(cx, node.getLeft()), condition(cx, node.getRight())], node, target);
    const op = LOOSE_EQUALITY[token] ?? token;
    if (!BINARY_OPS.has(op)) throw errorAt(node.getOperatorToken(), `the \`${token}\` operator is not supported yet`);
    return cx.op(op, [expr(cx, node.getLeft()), expr(cx, node.getRight())], node, target);
  }
  if (Node.isConditionalExpression(node)) return conditional(cx, node, target);
  if (Node.isPostfixUnaryExpression(node)) return incrementValue(cx, node, false);
  if (Node.isArrayLiteralExpression(node)) {
    if (node.getElements().some((e) => Node.isSpreadElement(e))) return spreadLiteral(cx, node, target);
    const items = node.getElements().map((e) => {
      if (Node.isOmittedExpression(e)) throw errorAt(e, "an array literal has no holes here: write each number");
      return expr(cx, e);
    });
    return cx.op("array.of", items, node, target, "number[]");
  }
  if (Node.isNewExpression(node)) return newArray(cx, node, target);
  if (Node.isCallExpression(node)) {
    const callee = node.getExpression();
    if (isPop(node)) return pop(cx, node, target);
    if (Node.isPropertyAccessExpression(callee) && ARRAY_METHODS.has(callee.getName()) && callee.getExpression().getText() !== "Math") {
      return arrayMethod(cx, node, callee, target);
    }
    return call(cx, node, target);
  }
  if (Node.isElementAccessExpression(node)) {
    const read = access(cx, node, target);
    if (read) return read;
    const array = node.getExpression();
    const arg = node.getArgumentExpression();
    const a = expr(cx, array);
    if (a.type !== "array") throw errorAt(array, `only arrays of numbers can be indexed here, and \`${array.getText()}\` is a ${a.type}`);
    if (!arg) throw errorAt(node, "an element read needs an index");
    return cx.op("index", [a, expr(cx, arg)], node, target);
  }
  throw errorAt(node, describeUnsupported(node));
}

/**
 * A condition: a boolean, or a number read as JavaScript reads it (`while (n)`, `if (k)`:
 * true unless 0; NaN counts as true here).
 */
export function condition(cx: Lowerer, node: Expression): Typed {
  const c = expr(cx, node);
  if (c.type === "number") return cx.op("!==", [c, { atom: constAtom(0), type: "number" }], node);
  if (c.type !== "boolean") throw errorAt(node, `a condition must be a comparison, a boolean or a number, not ${c.type === "array" ? "an array" : `a ${c.type}`}`);
  return c;
}

/** `i++`, `--i` as a value: the variable's value before (postfix) or after (prefix) the step. */
function incrementValue(cx: Lowerer, node: Expression, prefix: boolean): Typed {
  const operand = (node as Expression & { getOperand(): Expression }).getOperand();
  const token = (node as Expression & { getOperatorToken(): SyntaxKind }).getOperatorToken();
  if (token !== SyntaxKind.PlusPlusToken && token !== SyntaxKind.MinusMinusToken) throw errorAt(node, describeUnsupported(node));
  const place = asserted(operand);
  if (Node.isElementAccessExpression(place)) return elementIncrementValue(cx, place, token === SyntaxKind.PlusPlusToken, prefix, node);
  if (!Node.isIdentifier(operand)) throw errorAt(node, "`++` and `--` apply to a variable or an array element (`i++`, `a[i]++`)");
  // the value before the step, kept apart from the variable the step then changes: a version
  // of its own, so a loop still steps the variable in place as the user wrote it (`const i_2 = i;
  // i -= 1;`). Correctness does not hang on this copy (transforms/context.ts `retargets` declines
  // to step in place while the old value is read); without it the step is declared and copied.
  const before = prefix ? null : cx.op("id", [expr(cx, operand)], node, cx.target(operand.getText()));
  valueAssignment(cx, operand, token === SyntaxKind.PlusPlusToken ? "+=" : "-=", null, node);
  return before ?? identifier(cx, operand);
}

/** `x = e`, `x += e` as a value (`while ((n -= 1) > 0)`, `a = b = 0`): the variable's new value. */
function assignmentValue(cx: Lowerer, node: Expression & { getLeft(): Expression; getRight(): Expression; getOperatorToken(): Node }): Typed {
  const left = node.getLeft();
  const place = asserted(left);
  if (Node.isElementAccessExpression(place)) return elementAssignmentValue(cx, place, node.getOperatorToken().getText(), node.getRight(), node);
  if (!Node.isIdentifier(left)) throw errorAt(node, "an assignment gives a value to a variable or an array element (`x = v`, `a[i] = v`)");
  valueAssignment(cx, left, node.getOperatorToken().getText(), node.getRight(), node);
  return identifier(cx, left);
}

/** Evaluates `e` into a new value named by `target` (a copy when it is just an atom). */
export function assign(cx: Lowerer, target: Target, e: Expression, whole: Node): Typed {
  const first = cx.values.length;
  const r = expr(cx, e, target);
  // computed for the target: its value, or a later version of it (the array a `.map` loop fills)
  const v = r.atom.kind === "value" ? cx.values[r.atom.id]! : null;
  const fresh = v !== null && v.name === target.name && (v.version === target.version || v.id >= first);
  if (fresh) return r;
  if (r.type === "array" && readOnlyAlias(cx, e)) return r;
  if (r.type === "array") {
    throw errorAt(e, `\`${target.name}\` would be a second name for the array \`${e.getText()}\`: use that name, or build a new array (\`new Array<number>(n).fill(0)\`) and copy into it`);
  }
  return cx.op("id", [r], whole, target);
}

/** `new Float64Array(n)` and `new Array<number>(n)`: n zeros. */
function newArray(cx: Lowerer, node: NewExpression, target?: Target): Typed {
  const ctor = node.getExpression().getText();
  const args = node.getArguments();
  if (ctor === "Float64Array" && args.length === 1) {
    const n = expr(cx, args[0] as Expression);
    if (n.type === "number") return cx.op("array.zeros", [n], node, target, "Float64Array");
    // `new Float64Array(dout)`, as tsgrad's own output starts an array's gradient: a copy
    if (n.type === "array") return cx.op("array.copy", [n], node, target, "Float64Array");
  }
  // `new Array<number>(n)`, filled later: it starts as zeros here (JavaScript's holes read as `undefined`, which no filled array reads)
  if (ctor === "Array" && args.length === 1) {
    const n = expr(cx, args[0] as Expression);
    if (n.type === "number") return cx.op("array.zeros", [n], node, target, "number[]");
  }
  throw errorAt(node, `\`new ${ctor}(...)\` is not supported: local arrays are \`new Array<number>(n).fill(0)\`, \`new Float64Array(n)\` or a literal \`[a, b, c]\``);
}

function identifier(cx: Lowerer, node: Node): Typed {
  const name = node.getText();
  const binding = cx.env.get(name);
  if (binding?.unset) {
    checkPoisoned(cx, name);
    throw readBeforeAssigned(node, name);
  }
  if (binding) return { atom: binding.atom, type: binding.type };
  const aggregate = cx.frame.aggregates.get(name);
  if (aggregate) return valueOf(cx, aggregate, node);
  checkPoisoned(cx, name);
  if (name === "Infinity") return { atom: constAtom(Infinity), type: "number" };
  if (name === "NaN") return { atom: constAtom(NaN), type: "number" };
  const constant = moduleConstant(cx, node, name);
  if (constant) return constant;
  const closure = escapes(node);
  if (closure) throw closure;
  const declared = cx.frame.file.getVariableDeclaration(name);
  if (declared) throw errorAt(node, `\`${name}\` is a module-level variable: reading it is not supported yet, pass it as a parameter`);
  throw errorAt(node, `\`${name}\` is not a parameter or local variable of \`${cx.frame.fn.getName()}\``);
}

/**
 * `const dx = dy;` (as tsgrad's own output passes a gradient through), `const w = params.w`,
 * `const d = backward(x)`: a second name for an array is the same value when nothing writes either name after it (no element write, push,
 * fill or pop, and neither is passed to a call), so no write through one can be missed by the other.
 */
function readOnlyAlias(cx: Lowerer, e: Expression): boolean {
  const decl = e.getParent();
  if (!Node.isVariableDeclaration(decl) || decl.getInitializer() !== e) return false;
  if (decl.getVariableStatement()?.getDeclarationKind() !== "const" || !Node.isIdentifier(decl.getNameNode())) return false;
  return !writtenAfter(cx, new Set([e.getText(), decl.getName()]), decl.getEnd());
}

/** Whether anything after source position `after` writes an array by one of `names` (an element write, a method other than `.slice`, a call it is passed to). */
export function writtenAfter(cx: Lowerer, names: ReadonlySet<string>, after: number): boolean {
  const named = (n: Node | undefined) => n !== undefined && names.has(n.getText());
  return cx.frame.fn.getDescendants().some((n) => {
    if (n.getStart() < after) return false;
    const assigned = assignedBy(n);
    if (assigned && Node.isElementAccessExpression(assigned) && named(asserted(assigned.getExpression()))) return true;
    if (Node.isCallExpression(n)) {
      const callee = n.getExpression();
      if (Node.isPropertyAccessExpression(callee) && named(callee.getExpression()) && callee.getName() !== "slice") return true;
      if (n.getArguments().some((a) => named(a))) return true;
    }
    return false;
  });
}
