/**
 * New arrays that tsgrad builds with a counted loop (loops.ts `countedLoop`), so their
 * gradients are the loops' gradients:
 *
 *   new Array<number>(n).fill(c), a.fill(c)   zeros, then a loop of `a[i] = c`
 *   x.slice(a, b)                             a new array of the part, copied by a loop (bounds as JavaScript reads them)
 *   Math.max(...xs)                           let m = -Infinity; for (...) m = Math.max(m, xs[i]);
 *   [...a, v, ...b]                           [] and a loop of pushes per spread
 *
 * and what they share with the array methods of methods.ts (the kind of a new array, the
 * name of what a loop builds, a loop's bound).
 */
import { Node, SyntaxKind, type CallExpression, type Expression, type NewExpression, type NumericLiteral, type PropertyAccessExpression } from "ts-morph";
import { constAtom, valueAtom, type Atom } from "../ir/ir.ts";
import { errorAt, locOf } from "./locate.ts";
import { expr } from "./expressions.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { countedLoop } from "./loops.ts";
import { numberOf } from "./syntax.ts";

/** Methods the lowering knows, by what to write instead when a use of one is out of reach. */
export const LOOP_INSTEAD = "write the loop: `for (let i = 0; i < xs.length; i++) { ... }`";

/** `Math.max(...xs)`, `Math.min(a, ...xs, b)`: the arguments folded in order, each spread by a loop. */
export function spreadExtreme(cx: Lowerer, node: CallExpression, key: "Math.max" | "Math.min", target?: Target): Typed {
  const name = accumulatorName(cx, target, key === "Math.max" ? "max" : "min");
  const args = node.getArguments();
  // the fold starts from the first argument, or where `Math.max()` of nothing is: -Infinity
  const first = args[0]!;
  const start = Node.isSpreadElement(first) ? { atom: constAtom(key === "Math.max" ? -Infinity : Infinity), type: "number" as const } : expr(cx, first as Expression);
  if (start.type !== "number") throw errorAt(first, `\`${key}\` takes numbers, not a ${start.type}`);
  const init = cx.op("id", [start], first, target?.name === name ? target : cx.target(name));
  cx.env.set(name, { atom: init.atom, type: "number", mutable: true });
  const fold = (v: Typed, at: Node) => {
    const r = cx.op(key, [cx.env.get(name)!, v], at, cx.target(name));
    cx.env.set(name, { atom: r.atom, type: "number", mutable: true });
  };
  for (const a of Node.isSpreadElement(first) ? args : args.slice(1)) {
    if (!Node.isSpreadElement(a)) {
      fold(expr(cx, a as Expression), a);
      continue;
    }
    const array = spreadArray(cx, a.getExpression());
    countedLoop(cx, a, `for (const v of ${a.getExpression().getText()})`, indexName(cx), zero(), lengthBound(cx, array, a), [name], (i) => {
      fold(cx.op("index", [array, i], a), a);
    });
  }
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "number" };
}

/** `[a, ...xs, b]`: a new `number[]`, its plain items pushed one by one and each spread by a loop. */
export function spreadLiteral(cx: Lowerer, node: Node & { getElements(): Expression[] }, target?: Target): Typed {
  const name = accumulatorName(cx, target, "items");
  const made = cx.op("array.of", [], node, target?.name === name ? target : cx.target(name), "number[]");
  cx.env.set(name, { atom: made.atom, type: "array", mutable: false, root: (made.atom as Atom & { kind: "value" }).id });
  const push = (v: Typed, at: Node) => {
    const a = cx.env.get(name)!;
    const length = cx.op("length", [a], at);
    const r = cx.op("push", [a, length, v], at, cx.target(name));
    cx.env.set(name, { ...a, atom: r.atom });
  };
  for (const e of node.getElements()) {
    if (Node.isOmittedExpression(e)) throw errorAt(e, "an array literal has no holes here: write each number");
    if (!Node.isSpreadElement(e)) {
      push(expr(cx, e), e);
      continue;
    }
    const array = spreadArray(cx, e.getExpression());
    countedLoop(cx, e, `for (const v of ${e.getExpression().getText()})`, indexName(cx), zero(), lengthBound(cx, array, e), [name], (i) => {
      push(cx.op("index", [array, i], e), e);
    });
  }
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "array" };
}

export function spreadArray(cx: Lowerer, e: Expression): Typed {
  const a = expr(cx, e);
  if (a.type !== "array") throw errorAt(e, `only an array of numbers can be spread here, and \`${e.getText()}\` is a ${a.type}`);
  return a;
}

export const zero = (): Typed => ({ atom: constAtom(0), type: "number" });

/**
 * A loop's bound, `a.length`: read in the loop's test for a named array; computed once
 * before the loop for a temporary (`new Array(n).fill(0).map(...)`), whose length the
 * backward loop could not read again.
 */
export function lengthBound(cx: Lowerer, a: Typed, at: Node): () => Typed {
  if (a.atom.kind === "value" && cx.values[a.atom.id]!.name !== null) return () => cx.op("length", [a], at);
  const n = cx.op("length", [a], at);
  return () => n;
}

/** The index of a loop tsgrad writes: `i`, unless a variable in scope has that name. */
export const indexName = (cx: Lowerer) => (cx.env.has("i") ? cx.freshName("i") : "i");

/** The kind of array `a` is (`number[]`, `Float64Array`, or a parameter's declared type). */
export function kindOf(cx: Lowerer, e: Node, a: Typed): string {
  const binding = Node.isIdentifier(e) ? cx.env.get(e.getText()) : undefined;
  const id = binding?.root ?? (a.atom.kind === "value" ? a.atom.id : undefined);
  return (id === undefined ? undefined : cx.values[id]!.typeText) ?? "number[]";
}

/** The new array a method makes from `source` keeps its kind: `number[]` or `Float64Array` (other typed arrays would round). */
export function madeKind(cx: Lowerer, callee: PropertyAccessExpression, source: Typed): "number[]" | "Float64Array" {
  const kind = kindOf(cx, callee.getExpression(), source).replace(/\s+/g, " ");
  if (kind === "Float64Array") return "Float64Array";
  if (/^(readonly number\[\]|number\[\]|Array<number>|ReadonlyArray<number>)$/.test(kind)) return "number[]";
  throw errorAt(callee, `\`.${callee.getName()}\` of a \`${kind}\` makes a \`${kind}\`, whose elements are rounded: ${LOOP_INSTEAD}, into a \`number[]\``);
}

/** A name for what a method builds: the variable it initialises when that is new, else `base` made fresh. */
export function accumulatorName(cx: Lowerer, target: Target | undefined, base: string): string {
  if (target?.name && !cx.env.has(target.name)) return target.name;
  return cx.freshName(base);
}

/**
 * `x.slice()` copies a whole array; `x.slice(a)` and `x.slice(a, b)` copy the part from a
 * up to b (a negative bound counts from the end, as JavaScript's does), into a new array
 * of the same kind.
 */
export function slice(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Typed, target?: Target): Typed {
  const args = node.getArguments() as Expression[];
  if (args.length === 0) {
    // `x.slice()` copies an array variable: a new array, of the same kind
    return cx.op("array.copy", [source], node, target, kindOf(cx, callee.getExpression(), source) === "Float64Array" ? "Float64Array" : "number[]");
  }
  const kind = madeKind(cx, callee, source);
  if (args.length > 2) throw errorAt(args[2]!, "`slice` takes a start and an end");
  const length = cx.op("length", [source], callee);
  const bound = (e: Expression, start: boolean): Typed => {
    const literal = Node.isPrefixUnaryExpression(e) && e.getOperatorToken() === SyntaxKind.MinusToken && Node.isNumericLiteral(e.getOperand())
      ? -numberOf(e.getOperand() as NumericLiteral) : Node.isNumericLiteral(e) ? numberOf(e) : null;
    // a whole literal: a start past the end makes the length below 0, which becomes 0; an end past it stops at it
    if (literal !== null && Number.isInteger(literal)) {
      const k = { atom: constAtom(Math.abs(literal)), type: "number" as const };
      if (literal < 0) return cx.op("Math.max", [cx.op("-", [length, k], e), zero()], e, undefined, "Math.max");
      return start ? k : cx.op("Math.min", [k, length], e, undefined, "Math.min");
    }
    // a bound that varies: made whole as JavaScript does, then counted from the end when negative
    const b = expr(cx, e);
    if (b.type !== "number") throw errorAt(e, `a \`slice\` bound is a number, not a ${b.type}`);
    const whole = cx.op("Math.trunc", [b], e, undefined, "Math.trunc");
    const negative = cx.op("<", [whole, zero()], e);
    const { then, otherwise } = cx.arms(
      () => cx.op("Math.max", [cx.op("+", [length, whole], e), zero()], e, undefined, "Math.max"),
      () => (start ? whole : cx.op("Math.min", [whole, length], e, undefined, "Math.min")),
    );
    const out = cx.newValue(null, 1, start ? "start" : "end", "number");
    cx.block.push({ kind: "if", cond: negative.atom, then: then.block, else: otherwise.block, outs: [{ out, then: then.result.atom, else: otherwise.result.atom }], loc: locOf(e) });
    return { atom: valueAtom(out), type: "number" };
  };
  const lo = bound(args[0]!, true);
  const hi = args[1] ? bound(args[1], false) : length;
  const fromStart = lo.atom.kind === "const" && lo.atom.value === 0;
  const n = fromStart ? hi : cx.op("Math.max", [cx.op("-", [hi, lo], node), zero()], node, undefined, "Math.max");
  const name = accumulatorName(cx, target, "part");
  const made = cx.op("array.zeros", [n], node, target?.name === name ? target : cx.target(name), kind);
  cx.env.set(name, { atom: made.atom, type: "array", mutable: false, root: (made.atom as Atom & { kind: "value" }).id });
  countedLoop(cx, node, `for (let i = 0; i < ${node.getText()}.length; i++)`, indexName(cx), zero(), () => n, [name], (i) => {
    const out = cx.env.get(name)!;
    const v = cx.op("index", [source, fromStart ? i : cx.op("+", [lo, i], node)], node);
    const r = cx.op("store", [out, i, v], node, cx.target(name));
    cx.env.set(name, { ...out, atom: r.atom });
  });
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "array" };
}

/** `new Array<number>(n).fill(c)` (or `Array(n)`, `new Float64Array(n)`): n zeros, then a loop of `c` when c is not 0. */
export function filledArray(cx: Lowerer, node: CallExpression, made: NewExpression | CallExpression, target?: Target): Typed {
  const sizes = made.getArguments();
  const fill = node.getArguments();
  if (sizes.length !== 1) throw errorAt(made, `\`new ${made.getExpression().getText()}(n)\` takes the length here`);
  if (fill.length !== 1) throw errorAt(node, "`.fill` takes the one value every element starts as here: `.fill(0)`");
  const n = expr(cx, sizes[0] as Expression);
  if (n.type !== "number") throw errorAt(sizes[0]!, "an array's length must be a number");
  const c = fill[0] as Expression;
  const kind = made.getExpression().getText() === "Float64Array" ? "Float64Array" : "number[]";
  if (Node.isNumericLiteral(c) && numberOf(c) === 0) return cx.op("array.zeros", [n], node, target, kind);
  const name = accumulatorName(cx, target, "filled");
  const zeros = cx.op("array.zeros", [n], node, target?.name === name ? target : cx.target(name), kind);
  cx.env.set(name, { atom: zeros.atom, type: "array", mutable: false, root: (zeros.atom as Atom & { kind: "value" }).id });
  fillLoop(cx, node, name, c);
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "array" };
}

/** `a.fill(c)` on a local array: a loop of `a[i] = c`. */
export function fillLocal(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression): void {
  const e = callee.getExpression();
  const binding = Node.isIdentifier(e) ? cx.env.get(e.getText()) : undefined;
  const root = binding?.root === undefined ? null : cx.values[binding.root]!;
  if (!binding || !root || root.param) {
    throw errorAt(node, `\`.fill\` writes into \`${e.getText()}\`, which is not a local array: fill a copy instead (\`const y = ${e.getText()}.slice()\`)`);
  }
  const fill = node.getArguments();
  if (fill.length !== 1) throw errorAt(node, "`.fill` takes the one value every element gets here: `a.fill(c)`");
  fillLoop(cx, node, e.getText(), fill[0] as Expression);
}

function fillLoop(cx: Lowerer, node: CallExpression, name: string, c: Expression): void {
  const value = expr(cx, c);
  if (value.type !== "number") throw errorAt(c, `an array of numbers is filled with a number, not a ${value.type}`);
  countedLoop(cx, node, `${name}.fill(${c.getText()})`, indexName(cx), zero(), () => cx.op("length", [cx.env.get(name)!], node), [name], (i) => {
    const out = cx.env.get(name)!;
    const r = cx.op("store", [out, i, value], node, cx.target(name));
    cx.env.set(name, { ...out, atom: r.atom });
  });
}
