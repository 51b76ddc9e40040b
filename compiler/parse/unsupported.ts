/**
 * What tsgrad says about syntax outside its subset: one line naming the construct and
 * whether it is coming ("not supported yet") or out of scope ("not supported here").
 */
import { Node, SyntaxKind } from "ts-morph";

const MESSAGES: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.ForStatement]: "a `for` loop is not supported yet",
  [SyntaxKind.ForInStatement]: "a `for...in` loop is not supported here: loop over the indices, `for (let i = 0; i < a.length; i++)`, or the values, `for (const v of a)`",
  [SyntaxKind.WhileStatement]: "a `while` loop is not supported yet",
  [SyntaxKind.DoStatement]: "a `do...while` loop is not supported yet",
  [SyntaxKind.SwitchStatement]: "a `switch` statement is not supported yet: use the ternary `c ? a : b`",
  [SyntaxKind.TryStatement]: "`try` is not supported here: a differentiable function cannot catch exceptions; check the inputs before calling it",
  [SyntaxKind.ThrowStatement]: "`throw` is not supported here: check the inputs before calling the function, or return `NaN` where it is not defined",
  [SyntaxKind.FunctionDeclaration]: "a nested function is not supported here",
  [SyntaxKind.ClassDeclaration]: "a class is not supported here: declare an object type outside the function (`type Point = { x: number; y: number }`) and pass records of it",
  [SyntaxKind.LabeledStatement]: "a labelled statement is not supported yet",
  [SyntaxKind.BreakStatement]: "`break` outside a loop is not supported",
  [SyntaxKind.ContinueStatement]: "`continue` outside a loop is not supported",
  [SyntaxKind.EmptyStatement]: "an empty statement `;` is not supported: remove it",
  [SyntaxKind.ObjectLiteralExpression]: "an object literal is a record here only where it is named, returned, passed to a helper or read (`const p = { w, b }`, `return { y, z }`, `f({ w, b })`, `{ ...p, w }.w`)",
  [SyntaxKind.ArrayLiteralExpression]: "an array literal is not supported yet",
  [SyntaxKind.ArrowFunction]: "an arrow function is supported as a nested function declared on its own and called (`const sq = (t: number) => t * t;`, then `sq(x)`) and as the callback of `.map`, `.reduce` and `.forEach`; here it is not: declare it with a name and call it, or write a function at the top of the module (tsgrad inlines both)",
  [SyntaxKind.FunctionExpression]: "a closure (function expression) is not supported here: write a function at the top of the module and call it (tsgrad inlines it)",
  [SyntaxKind.AwaitExpression]: "`await` is not supported here: a differentiable function is synchronous; await the inputs before calling it",
  [SyntaxKind.YieldExpression]: "`yield` is not supported here: return an array of the values instead",
  [SyntaxKind.NewExpression]: "`new` is not supported yet",
  [SyntaxKind.StringLiteral]: "a string is not supported here: differentiable code computes numbers",
  [SyntaxKind.NoSubstitutionTemplateLiteral]: "a string is not supported here: differentiable code computes numbers",
  [SyntaxKind.TemplateExpression]: "a template string is not supported here: differentiable code computes numbers",
  [SyntaxKind.NullKeyword]: "`null` is not supported here: use a number (`NaN`) or a flag parameter",
  [SyntaxKind.ThisKeyword]: "`this` is not supported here: methods and `this` stay out of differentiable code, write a plain function taking the record (`function norm(p: P)`)",
  [SyntaxKind.AsExpression]: "a type assertion `as` is not supported yet",
  [SyntaxKind.TypeOfExpression]: "`typeof` is not supported here: the types are fixed when tsgrad compiles; pass a flag parameter to choose",
  [SyntaxKind.DeleteExpression]: "`delete` is not supported here: differentiable code does not change objects; build a new record",
  [SyntaxKind.VoidExpression]: "`void` is not supported here: drop it",
  [SyntaxKind.CommaListExpression]: "the comma operator is not supported",
  [SyntaxKind.TaggedTemplateExpression]: "a tagged template is not supported here",
  [SyntaxKind.BigIntLiteral]: "a bigint is not supported here: differentiable code computes with `number`",
};

export function describeUnsupported(node: Node): string {
  const known = MESSAGES[node.getKind()];
  if (known) return known;
  const kind = node.getKindName().replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return `${Node.isStatement(node) ? "this statement" : "this expression"} (${kind}) is not supported yet`;
}
