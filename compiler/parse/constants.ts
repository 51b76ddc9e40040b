/**
 * Named constants a function may read: `Number.EPSILON` and its kin, and the module's own
 * `const` numbers (`const LOG_2PI = Math.log(2 * Math.PI);`), whose initializer is
 * computed where the function reads it (it depends on no parameter, so it has no gradient).
 */
import { Node, VariableDeclarationKind, type Expression } from "ts-morph";
import type { Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { errorAt } from "./locate.ts";
import { expr } from "./expressions.ts";

export const NUMBER_CONSTANTS: Readonly<Record<string, number>> = {
  EPSILON: Number.EPSILON, MAX_VALUE: Number.MAX_VALUE, MIN_VALUE: Number.MIN_VALUE,
  MAX_SAFE_INTEGER: Number.MAX_SAFE_INTEGER, MIN_SAFE_INTEGER: Number.MIN_SAFE_INTEGER,
  POSITIVE_INFINITY: Number.POSITIVE_INFINITY, NEGATIVE_INFINITY: Number.NEGATIVE_INFINITY,
};

/** Module constants being computed, to stop one that reads itself. */
const open = new Set<Node>();

/**
 * A `const NAME = <number>` at the top of the module the function is in, read by `node`:
 * its initializer, lowered where it is read with only module names in scope. Null when
 * `name` is not one.
 */
export function moduleConstant(cx: Lowerer, node: Node, name: string): Typed | null {
  const decl = cx.frame.file.getVariableDeclaration(name);
  const statement = decl?.getVariableStatement();
  if (!decl || !statement || !Node.isSourceFile(statement.getParent())) return null;
  if (statement.getDeclarationKind() !== VariableDeclarationKind.Const) return null;
  const init = decl.getInitializer();
  if (!init || open.has(decl)) return null;
  const env = cx.env;
  open.add(decl);
  // the initializer sees the module's names, not the function's
  cx.env = new Map();
  let r: Typed;
  try {
    r = expr(cx, init as Expression, { name: null, version: 1, hint: name });
  } finally {
    cx.env = env;
    open.delete(decl);
  }
  if (r.type !== "number") {
    throw errorAt(node, `\`${name}\` is a module-level ${r.type === "array" ? "array" : r.type}: only module-level \`const\` numbers can be read here; pass it as a parameter`);
  }
  return r;
}
