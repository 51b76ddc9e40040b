/**
 * Expressions: every nested expression becomes an operation with a named or temporary
 * output (`target`, when the value is a user's variable). Calls are calls.ts's, `?:` is
 * branches.ts's.
 */
import { Node, SyntaxKind, type Expression, type NewExpression } from "ts-morph";
import { constAtom } from "../ir/ir.ts";
import { MATH_CONSTANTS } from "../rules/rules.ts";
import { errorAt } from "./locate.ts";
import { conditional } from "./branches.ts";
import { call } from "./calls.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { spreadLiteral } from "./arrays.ts";
import { ARRAY_METHODS, arrayMethod } from "./methods.ts";
import { ASSIGNMENT_OPS, BINARY_OPS, LOOSE_EQUALITY, numberOf } from "./syntax.ts";
import { readBeforeAssigned } from "./statements.ts";
import { access, valueOf } from "./records.ts";
import { describeUnsupported } from "./unsupported.ts";

export function expr(cx: Lowerer, node: Expression, target?: Target): Typed {
  if (Node.isParenthesizedExpression(node)) return expr(cx, node.getExpression(), target);
  // `x[i]!`: no run-time effect
  if (Node.isNonNullExpression(node)) return expr(cx, node.getExpression(), target);
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
        return cx.op("!", [expr(cx, operand)], node, target);
      default:
        throw errorAt(node, "`++`, `--` and `~` are not supported yet");
    }
  }
  if (Node.isBinaryExpression(node)) {
    const token = node.getOperatorToken().getText();
    if (token in ASSIGNMENT_OPS) throw errorAt(node, "an assignment inside an expression is not supported: write it as its own statement");
    const op = LOOSE_EQUALITY[token] ?? token;
    if (!BINARY_OPS.has(op)) throw errorAt(node.getOperatorToken(), `the \`${token}\` operator is not supported yet`);
    return cx.op(op, [expr(cx, node.getLeft()), expr(cx, node.getRight())], node, target);
  }
  if (Node.isConditionalExpression(node)) return conditional(cx, node, target);
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

/** Evaluates `e` into a new value named by `target` (a copy when it is just an atom). */
export function assign(cx: Lowerer, target: Target, e: Expression, whole: Node): Typed {
  const first = cx.values.length;
  const r = expr(cx, e, target);
  // computed for the target: its value, or a later version of it (the array a `.map` loop fills)
  const v = r.atom.kind === "value" ? cx.values[r.atom.id]! : null;
  const fresh = v !== null && v.name === target.name && (v.version === target.version || v.id >= first);
  if (fresh) return r;
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
  if (binding?.unset) throw readBeforeAssigned(node, name);
  if (binding) return { atom: binding.atom, type: binding.type };
  const aggregate = cx.frame.aggregates.get(name);
  if (aggregate) return valueOf(cx, aggregate, node);
  if (name === "Infinity") return { atom: constAtom(Infinity), type: "number" };
  if (name === "NaN") return { atom: constAtom(NaN), type: "number" };
  const declared = cx.frame.file.getVariableDeclaration(name);
  if (declared) throw errorAt(node, `\`${name}\` is a module-level variable: reading it is not supported yet, pass it as a parameter`);
  throw errorAt(node, `\`${name}\` is not a parameter or local variable of \`${cx.frame.fn.getName()}\``);
}
