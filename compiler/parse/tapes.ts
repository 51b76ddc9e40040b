/**
 * `xs.pop()!` over an array a loop filled with `xs.push(v)`, as tsgrad's own output reads
 * its tapes back: a read at a cursor that starts at the array's length and steps down one
 * per pop. The array itself is not changed (nothing reads it after its last pop in that
 * code), so the cursor is a plain number variable (`elems_top`), carried round the loops
 * that pop as any variable they assign. A push or `.length` after a pop would see the
 * array unchanged: both are errors.
 */
import { Node, type CallExpression, type Node as AnyNode, type PropertyAccessExpression } from "ts-morph";
import { constAtom } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";

/** `xs.pop()` on a name. */
export function isPop(n: AnyNode): n is CallExpression {
  if (!Node.isCallExpression(n)) return false;
  const callee = n.getExpression();
  return Node.isPropertyAccessExpression(callee) && callee.getName() === "pop" && Node.isIdentifier(callee.getExpression()) && n.getArguments().length === 0;
}

const poppedName = (n: CallExpression) => (n.getExpression() as PropertyAccessExpression).getExpression().getText();

/** The cursor variable of array `name`, once it has been popped in this function. */
export function cursorOf(cx: Lowerer, name: string): string | undefined {
  return cx.frame.cursors?.get(name);
}

/** Before a loop: the cursor of each array the loop pops, set to its length, so the loop carries it. */
export function openCursors(cx: Lowerer, loop: AnyNode): void {
  loop.forEachDescendant((n) => {
    if (isPop(n)) openCursor(cx, poppedName(n), n);
  });
}

function openCursor(cx: Lowerer, array: string, at: AnyNode): string {
  const binding = cx.env.get(array);
  if (!binding || binding.type !== "array") throw errorAt(at, `\`${array}.pop()\` pops a local array of numbers here`);
  const known = cursorOf(cx, array);
  if (known && cx.env.has(known)) return known;
  const name = cx.freshName(`${array}_top`);
  const length = cx.op("length", [binding], at, cx.target(name));
  cx.env.set(name, { atom: length.atom, type: "number", mutable: true });
  (cx.frame.cursors ??= new Map()).set(array, name);
  return name;
}

/** `xs.pop()`: the element below the cursor, which steps down. */
export function pop(cx: Lowerer, node: CallExpression, target?: Target): Typed {
  const array = poppedName(node);
  const cursor = openCursor(cx, array, node);
  const top = cx.op("-", [cx.env.get(cursor)!, { atom: constAtom(1), type: "number" }], node, cx.target(cursor));
  cx.env.set(cursor, { atom: top.atom, type: "number", mutable: true });
  return cx.op("index", [cx.env.get(array)!, top], node, target);
}

/** A push or `.length` of an array after it was popped: an error, since the pops left it as it was. */
export function checkNotPopped(cx: Lowerer, array: string, at: AnyNode): void {
  if (cursorOf(cx, array)) throw errorAt(at, `\`${array}\` is used after \`${array}.pop()\`: tsgrad reads pops as a stack that only shrinks; push everything first, then pop, or index the array`);
}
