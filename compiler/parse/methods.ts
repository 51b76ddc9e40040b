/**
 * Array methods and spread, lowered to the counted loops tsgrad already reverses, so their
 * gradients are the loops' gradients:
 *
 *   const t = xs.reduce((s, v) => s + v * v, 0)   let t = 0; for (let i = 0; i < xs.length; i++) { const v = xs[i]; t = t + v * v; }
 *   const ys = xs.map((v, i) => f(v, i))          const ys = new Array<number>(xs.length).fill(0); for (...) ys[i] = f(v, i);
 *   xs.forEach((v, i) => { out[i] = ... })        for (...) { const v = xs[i]; out[i] = ...; }
 *   new Array<number>(n).fill(c), a.fill(c)       zeros, then a loop of `a[i] = c`
 *   x.slice(a, b)                                 a new array of the part, copied by a loop
 *   Math.max(...xs)                               let m = -Infinity; for (...) m = Math.max(m, xs[i]);
 *   [...a, v, ...b]                               [] and a loop of pushes per spread
 *
 * A callback is an arrow function with an expression or a block body; it reads any variable
 * in scope. A `.forEach` callback may write variables and local arrays as a loop body does;
 * a `.map` or `.reduce` callback computes its value and writes nothing outside itself.
 */
import {
  Node, SyntaxKind,
  type ArrowFunction, type CallExpression, type Expression, type NewExpression, type ParameterDeclaration, type PropertyAccessExpression,
} from "ts-morph";
import { constAtom, type Atom } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import { merge as mergeArms } from "./branches.ts";
import { assign, expr } from "./expressions.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { assignedIn, countedLoop } from "./loops.ts";
import { assignedBy, containsReturn, isLoopNode, numberOf } from "./syntax.ts";
import { functionLevel, walk, type Level } from "./walk.ts";

/** Methods the lowering knows, by what to write instead when a use of one is out of reach. */
const LOOP_INSTEAD = "write the loop: `for (let i = 0; i < xs.length; i++) { ... }`";
const OTHER_METHODS: Readonly<Record<string, string>> = {
  filter: "`.filter` makes an array whose length depends on the data: push the kept elements in a loop (`const kept: number[] = []; for (const v of xs) if (...) kept.push(v);`)",
  sort: "`.sort` is not supported: it reorders by comparisons, and its gradient is a permutation; sort indices outside and pass them in, or write the loop",
  reduceRight: "`.reduceRight` is not supported: write the loop that counts down, `for (let i = xs.length - 1; i >= 0; i--)`",
  flatMap: "`.flatMap` is not supported: push the elements in a loop",
  concat: "`.concat` is not supported: spread the arrays into a literal, `[...a, ...b]`",
  some: "`.some` is not supported: write the loop, with a flag set inside it",
  every: "`.every` is not supported: write the loop, with a flag set inside it",
  find: "`.find` is not supported: write the loop, with `break` at the element",
  findIndex: "`.findIndex` is not supported: write the loop, with `break` at the element",
  indexOf: "`.indexOf` is not supported: write the loop, with `break` at the element",
  includes: "`.includes` is not supported: write the loop, with a flag set inside it",
  reverse: "`.reverse` is not supported: copy in a loop that counts down",
  splice: "`.splice` is not supported: build the new array in a loop",
  join: "`.join` is not supported here: differentiable code computes numbers",
};
export const ARRAY_METHODS = new Set(["map", "reduce", "forEach", "fill", "slice", ...Object.keys(OTHER_METHODS)]);

/** `recv.name(...)` for a method of arrays, as an expression. */
export function arrayMethod(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, target?: Target): Typed {
  const name = callee.getName();
  const made = callee.getExpression();
  if (name === "fill" && (Node.isNewExpression(made) || Node.isCallExpression(made)) && made.getExpression().getText() === "Array") {
    return filledArray(cx, node, made, target);
  }
  const other = OTHER_METHODS[name];
  if (other) throw errorAt(callee.getNameNode(), other);
  const recv = receiver(cx, callee);
  switch (name) {
    case "map": return map(cx, node, callee, recv, target);
    case "reduce": return reduce(cx, node, callee, recv, target);
    case "slice": return slice(cx, node, callee, recv, target);
    case "forEach": throw errorAt(node, "`.forEach` gives no value: call it as a statement");
    default: throw errorAt(node, `\`${callee.getText()}(...)\` writes into \`${made.getText()}\` and gives it back: call it as a statement, \`${made.getText()}.fill(c);\``);
  }
}

/** `xs.forEach(...)` or `a.fill(c)` as a statement. */
export function methodStatement(cx: Lowerer, node: CallExpression): void {
  const callee = node.getExpression() as PropertyAccessExpression;
  const name = callee.getName();
  if (name !== "forEach" && name !== "fill") {
    arrayMethod(cx, node, callee);
    throw errorAt(node, `the value of \`${callee.getText()}(...)\` would be discarded: give it a name, \`const r = ${node.getText()}\``);
  }
  if (name === "fill") return fillLocal(cx, node, callee);
  const recv = receiver(cx, callee);
  const fn = callback(node, 1, 2, "(v, i) => { ... }");
  const [element, index] = fn.getParameters().map(paramName);
  const writes = assignedIn(cx, fn.getBody());
  if (Node.isIdentifier(callee.getExpression()) && pushesOnto(fn, callee.getExpression().getText())) {
    throw errorAt(fn, `this callback pushes onto \`${callee.getExpression().getText()}\`, the array \`.forEach\` runs over: ${LOOP_INSTEAD}`);
  }
  overElements(cx, node, callee, recv, element!, index, writes, () => {
    const body = fn.getBody();
    if (Node.isBlock(body)) walk(cx, body.getStatements(), forEachLevel(cx));
    else throw errorAt(body, `a \`.forEach\` callback writes something: give it a block body, \`(v, i) => { out[i] = ...; }\``);
  });
}

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

function spreadArray(cx: Lowerer, e: Expression): Typed {
  const a = expr(cx, e);
  if (a.type !== "array") throw errorAt(e, `only an array of numbers can be spread here, and \`${e.getText()}\` is a ${a.type}`);
  return a;
}

const zero = (): Typed => ({ atom: constAtom(0), type: "number" });

/**
 * A loop's bound, `a.length`: read in the loop's test for a named array; computed once
 * before the loop for a temporary (`new Array(n).fill(0).map(...)`), whose length the
 * backward loop could not read again.
 */
function lengthBound(cx: Lowerer, a: Typed, at: Node): () => Typed {
  if (a.atom.kind === "value" && cx.values[a.atom.id]!.name !== null) return () => cx.op("length", [a], at);
  const n = cx.op("length", [a], at);
  return () => n;
}

/** The index of a loop tsgrad writes: `i`, unless a variable in scope has that name. */
const indexName = (cx: Lowerer) => (cx.env.has("i") ? cx.freshName("i") : "i");

/** The array a method is called on: any expression whose value is an array of numbers. */
function receiver(cx: Lowerer, callee: PropertyAccessExpression): Typed {
  const e = callee.getExpression();
  if (Node.isIdentifier(e) && !cx.env.has(e.getText()) && cx.frame.file.getVariableDeclaration(e.getText()) === undefined) {
    throw errorAt(e, `\`.${callee.getName()}\` is called on \`${e.getText()}\`, which is not a parameter or local variable of \`${cx.frame.fn.getName()}\``);
  }
  const r = expr(cx, e);
  if (r.type !== "array") throw errorAt(e, `\`.${callee.getName()}\` is a method of arrays here, and \`${e.getText()}\` is a ${r.type}: ${LOOP_INSTEAD}`);
  return r;
}

/** The kind of array `a` is (`number[]`, `Float64Array`, or a parameter's declared type). */
function kindOf(cx: Lowerer, e: Node, a: Typed): string {
  const binding = Node.isIdentifier(e) ? cx.env.get(e.getText()) : undefined;
  const id = binding?.root ?? (a.atom.kind === "value" ? a.atom.id : undefined);
  return (id === undefined ? undefined : cx.values[id]!.typeText) ?? "number[]";
}

/** The new array a method makes from `source` keeps its kind: `number[]` or `Float64Array` (other typed arrays would round). */
function madeKind(cx: Lowerer, callee: PropertyAccessExpression, source: Typed): "number[]" | "Float64Array" {
  const kind = kindOf(cx, callee.getExpression(), source).replace(/\s+/g, " ");
  if (kind === "Float64Array") return "Float64Array";
  if (/^(readonly number\[\]|number\[\]|Array<number>|ReadonlyArray<number>)$/.test(kind)) return "number[]";
  throw errorAt(callee, `\`.${callee.getName()}\` of a \`${kind}\` makes a \`${kind}\`, whose elements are rounded: ${LOOP_INSTEAD}, into a \`number[]\``);
}

/** The one arrow function a method takes, with `fewest` to `most` plain parameters. */
function callback(node: CallExpression, fewest: number, most: number, shape: string, extra = 0): ArrowFunction {
  const args = node.getArguments();
  const fn = args[0];
  const method = (node.getExpression() as PropertyAccessExpression).getName();
  if (!fn || !Node.isArrowFunction(fn)) {
    throw errorAt(fn ?? node, `\`.${method}\` takes an arrow function here, \`${shape}\`${fn && Node.isIdentifier(fn) ? `: write \`(v) => ${fn.getText()}(v)\`` : ""}`);
  }
  if (args.length > 1 + extra) throw errorAt(args[1 + extra]!, `\`.${method}\` takes ${extra ? "a callback and an initial value" : "one callback"} here`);
  if (fn.isAsync()) throw errorAt(fn, "an `async` callback is not supported here");
  const params = fn.getParameters();
  if (params.length < fewest || params.length > most) {
    const last = params[most];
    throw errorAt(last ?? fn, last
      ? `the callback's parameter \`${last.getText()}\` (the array itself) is not supported: read \`${(node.getExpression() as PropertyAccessExpression).getExpression().getText()}\` by its name`
      : `\`.${method}\`'s callback takes ${shape}`);
  }
  for (const p of params) {
    if (!Node.isIdentifier(p.getNameNode())) throw errorAt(p, "destructuring is not supported yet: name the callback's parameter");
    if (p.getInitializer() || p.isRestParameter()) throw errorAt(p, "a callback's parameter is a plain name here (no default value, no `...`)");
  }
  return fn;
}

const paramName = (p: ParameterDeclaration) => p.getName();

/** Whether `fn` pushes onto the array `name`. */
function pushesOnto(fn: Node, name: string): boolean {
  return fn.getDescendantsOfKind(SyntaxKind.CallExpression).some((c) => {
    const callee = c.getExpression();
    return Node.isPropertyAccessExpression(callee) && callee.getName() === "push" && callee.getExpression().getText() === name;
  });
}

/**
 * A loop over the elements of `source` from `from` (0, or 1 for `.reduce` without a
 * start): binds the callback's element and index (the index is the loop's), then `body`.
 */
function overElements(
  cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Typed,
  element: string, index: string | undefined, writes: Iterable<string>, body: (i: Typed) => void, from: Typed = zero(),
): void {
  const fn = node.getArguments()[0] as ArrowFunction;
  for (const p of fn.getParameters()) {
    if ((p.getName() === element || p.getName() === index) && cx.env.has(p.getName())) throw errorAt(p, `\`${p.getName()}\` is already declared in this function: give the callback's parameter another name`);
  }
  if (index !== undefined && writesName(fn, index)) {
    throw errorAt(fn.getParameters().find((p) => p.getName() === index)!, `\`${index}\` is the index \`.${callee.getName()}\` passes: assigning it is not supported, use another variable`);
  }
  const blockBody = fn.getBody();
  if (Node.isBlock(blockBody)) {
    const returning = blockBody.getDescendants().find((n) => isLoopNode(n) && containsReturn(n));
    if (returning) throw errorAt(returning, "a `return` inside a loop in a callback is not supported: set a variable in the loop and return it after");
  }
  const header = `${callee.getText()}((${fn.getParameters().map(paramName).join(", ")}) => ...)`;
  const elementNode = fn.getParameters().find((p) => p.getName() === element)!;
  // a `.forEach` callback may write the array it runs over: each element is read from its current value
  const recv = callee.getExpression();
  const current = () => (Node.isIdentifier(recv) && cx.env.has(recv.getText()) ? cx.env.get(recv.getText())! : source);
  countedLoop(cx, node, header, index ?? indexName(cx), from, lengthBound(cx, source, callee), writes, (i) => {
    const v = cx.op("index", [current(), i], elementNode, cx.target(element));
    cx.env.set(element, { atom: v.atom, type: "number", mutable: true });
    body(i);
  });
}

/** Whether the callback assigns its parameter `name`. */
function writesName(fn: ArrowFunction, name: string): boolean {
  return fn.getBody().getDescendants().some((n) => {
    const target = assignedBy(n);
    return target !== null && Node.isIdentifier(target) && target.getText() === name;
  });
}

/** A `.map` or `.reduce` callback computes its value: it may not write what is outside it. */
function noOuterWrites(cx: Lowerer, fn: ArrowFunction, method: string, allowed: ReadonlySet<string>): void {
  const outside = [...assignedIn(cx, fn.getBody())].filter((n) => !allowed.has(n));
  if (outside.length > 0) {
    throw errorAt(fn, `this \`.${method}\` callback writes \`${outside[0]}\`, which is outside it: a \`.${method}\` callback only computes its value. Write into it from \`.forEach\`, or ${LOOP_INSTEAD}`);
  }
}

/** The callback's value for one element: its expression, or its block's `return`. */
function callbackValue(cx: Lowerer, fn: ArrowFunction, target: Target): Typed {
  const body = fn.getBody();
  const r = Node.isBlock(body)
    ? walk(cx, body.getStatements(), functionLevel(cx, null, target.hint))
    : assign(cx, target, body as Expression, body);
  if (!r) throw errorAt(fn, "this callback does not end with `return <expression>`");
  if (r.type !== "number") throw errorAt(Node.isBlock(body) ? fn : body, `the callback must give a number, not a ${r.type}`);
  return Node.isBlock(body) ? cx.op("id", [r], fn, target) : r;
}

/** A name for what a method builds: the variable it initialises when that is new, else `base` made fresh. */
function accumulatorName(cx: Lowerer, target: Target | undefined, base: string): string {
  if (target?.name && !cx.env.has(target.name)) return target.name;
  return cx.freshName(base);
}

function map(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Typed, target?: Target): Typed {
  const fn = callback(node, 1, 2, "(v, i) => ...");
  const kind = madeKind(cx, callee, source);
  const [element, index] = fn.getParameters().map(paramName);
  noOuterWrites(cx, fn, "map", new Set());
  const name = accumulatorName(cx, target, "mapped");
  const n = cx.op("length", [source], callee);
  const made = cx.op("array.zeros", [n], node, target?.name === name ? target : cx.target(name), kind);
  cx.env.set(name, { atom: made.atom, type: "array", mutable: false, root: (made.atom as Atom & { kind: "value" }).id });
  overElements(cx, node, callee, source, element!, index, [name], (i) => {
    const v = callbackValue(cx, fn, { name: null, version: 1, hint: name });
    const out = cx.env.get(name)!;
    const r = cx.op("store", [out, i, v], node, cx.target(name));
    cx.env.set(name, { ...out, atom: r.atom });
  });
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "array" };
}

function reduce(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Typed, target?: Target): Typed {
  const fn = callback(node, 2, 3, "(s, v, i) => ...", 1);
  const [acc, element, index] = fn.getParameters().map(paramName);
  noOuterWrites(cx, fn, "reduce", new Set());
  // the accumulator is the variable being declared (`const total = xs.reduce(...)`) unless the callback assigns its own
  const ownAcc = writesName(fn, acc!);
  if (cx.env.has(acc!)) throw errorAt(fn.getParameters()[0]!, `\`${acc}\` is already declared in this function: give the callback's parameter another name`);
  const name = ownAcc || !target?.name || cx.env.has(target.name) ? acc! : target.name;
  const init = node.getArguments()[1];
  let start: Typed;
  if (init) {
    start = assign(cx, target?.name === name ? target : cx.target(name), init as Expression, init);
    if (start.type !== "number") throw errorAt(init, `\`.reduce\` starts from a number here, not a ${start.type}`);
  } else {
    // without a start, the first element is it and the loop runs from the second (an empty array gives NaN, not a TypeError)
    start = cx.op("index", [source, zero()], callee, target?.name === name ? target : cx.target(name));
  }
  cx.env.set(name, { atom: start.atom, type: "number", mutable: true });
  const first = init ? zero() : { atom: constAtom(1), type: "number" as const };
  overElements(cx, node, callee, source, element!, index, [name], () => {
    if (acc !== name) cx.env.set(acc!, { atom: cx.env.get(name)!.atom, type: "number", mutable: false });
    const r = callbackValue(cx, fn, cx.target(name));
    cx.env.set(name, { atom: r.atom, type: "number", mutable: true });
  }, first);
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "number" };
}

/**
 * `x.slice()` copies a whole array; `x.slice(a)` and `x.slice(a, b)` copy the part from a
 * up to b (a negative bound counts from the end, as JavaScript's does), into a new array
 * of the same kind.
 */
function slice(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Typed, target?: Target): Typed {
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
      ? -numberOf(e.getOperand() as import("ts-morph").NumericLiteral) : Node.isNumericLiteral(e) ? numberOf(e) : null;
    if (literal !== null && !Number.isInteger(literal)) throw errorAt(e, "a `slice` bound is a whole number");
    // a start past the end makes the length below 0, which becomes 0; an end past it stops at it
    if (literal !== null && literal >= 0) return start ? { atom: constAtom(literal), type: "number" } : cx.op("Math.min", [{ atom: constAtom(literal), type: "number" }, length], e, undefined, "Math.min");
    if (literal !== null) return cx.op("Math.max", [cx.op("-", [length, { atom: constAtom(-literal), type: "number" }], e), zero()], e, undefined, "Math.max");
    throw errorAt(e, "`slice` takes whole-number literals here (`x.slice(1)`, `x.slice(0, -1)`): for bounds that vary, copy the part with a loop");
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

/** `new Array<number>(n).fill(c)` (or `Array(n)`): n zeros in a `number[]`, then a loop of `c` when c is not 0. */
function filledArray(cx: Lowerer, node: CallExpression, made: NewExpression | CallExpression, target?: Target): Typed {
  const sizes = made.getArguments();
  const fill = node.getArguments();
  if (sizes.length !== 1) throw errorAt(made, "`new Array<number>(n)` takes the length here");
  if (fill.length !== 1) throw errorAt(node, "`.fill` takes the one value every element starts as here: `.fill(0)`");
  const n = expr(cx, sizes[0] as Expression);
  if (n.type !== "number") throw errorAt(sizes[0]!, "an array's length must be a number");
  const c = fill[0] as Expression;
  if (Node.isNumericLiteral(c) && numberOf(c) === 0) return cx.op("array.zeros", [n], node, target, "number[]");
  const name = accumulatorName(cx, target, "filled");
  const zeros = cx.op("array.zeros", [n], node, target?.name === name ? target : cx.target(name), "number[]");
  cx.env.set(name, { atom: zeros.atom, type: "array", mutable: false, root: (zeros.atom as Atom & { kind: "value" }).id });
  fillLoop(cx, node, name, c);
  const result = cx.env.get(name)!;
  cx.env.delete(name);
  return { atom: result.atom, type: "array" };
}

/** `a.fill(c)` on a local array: a loop of `a[i] = c`. */
function fillLocal(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression): void {
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

/** A `.forEach` callback's block: `return;` ends the element's turn (as `continue` would a loop's). */
function forEachLevel(cx: Lowerer): Level<void> {
  const level: Level<void> = {
    splits: containsReturn,
    jump(stmt, rest) {
      if (!Node.isReturnStatement(stmt) || stmt.getExpression()) {
        throw errorAt(stmt, Node.isReturnStatement(stmt) ? "a `.forEach` callback returns nothing: write `return;`" : "`break` and `continue` do not apply to a `.forEach` callback: write the loop");
      }
      if (rest.length > 0) throw errorAt(rest[0]!, "unreachable code after `return`");
    },
    end: () => {},
    arm: () => {},
    join: (_stmt, cond, then, otherwise, loc, before) => mergeArms(cx, before, cond, then, otherwise, loc),
    afterReturningLoop: (_s, _e, _r, walkRest) => walkRest(),
  };
  return level;
}
