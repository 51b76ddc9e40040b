/**
 * Array methods with arrow callbacks, lowered to the counted loops tsgrad already reverses
 * (loops.ts `countedLoop`), so their gradients are the loops' gradients:
 *
 *   const t = xs.reduce((s, v) => s + v * v, 0)   let t = 0; for (let i = 0; i < xs.length; i++) { const v = xs[i]; t = t + v * v; }
 *   const ys = xs.map((v, i) => f(v, i))          const ys = new Array<number>(xs.length).fill(0); for (...) ys[i] = f(v, i);
 *   xs.forEach((v, i) => { out[i] = ... })        for (...) { const v = xs[i]; out[i] = ...; }
 *
 * A callback is an arrow function with an expression or a block body; it reads any variable
 * in scope. A `.forEach` callback may write variables and local arrays as a loop body does;
 * a `.map` or `.reduce` callback computes its value and writes nothing outside itself.
 * `.fill`, `.slice` and spread build new arrays (arrays.ts); the other methods of arrays
 * are located errors naming the loop to write.
 */
import { Node, SyntaxKind, type ArrowFunction, type CallExpression, type Expression, type ParameterDeclaration, type PropertyAccessExpression } from "ts-morph";
import { constAtom, type Atom } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import { checkPoisoned } from "./recover.ts";
import { accumulatorName, filledArray, fillLocal, indexName, lengthBound, LOOP_INSTEAD, madeKind, slice, zero } from "./arrays.ts";
import { merge } from "./branches.ts";
import { assign, expr } from "./expressions.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { assignedIn, countedLoop } from "./loops.ts";
import { bindElement, dataArray, lengthOfData, valueOf, type DataArray } from "./records.ts";
import { assignedBy, containsReturn, isLoopNode } from "./syntax.ts";
import { functionLevel, walk, type Level } from "./walk.ts";

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
  const ctor = Node.isNewExpression(made) || Node.isCallExpression(made) ? made.getExpression().getText() : "";
  if (name === "fill" && (Node.isNewExpression(made) || Node.isCallExpression(made)) && (ctor === "Array" || (ctor === "Float64Array" && Node.isNewExpression(made)))) {
    return filledArray(cx, node, made, target);
  }
  const other = OTHER_METHODS[name];
  if (other) throw errorAt(callee.getNameNode(), other);
  const rows = dataArray(cx, callee.getExpression());
  if (rows && (name === "map" || name === "reduce")) return name === "map" ? map(cx, node, callee, rows, target) : reduce(cx, node, callee, rows, target);
  if (rows && rows.path !== "") valueOf(cx, rows, callee.getExpression());
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
  const recv = dataArray(cx, callee.getExpression()) ?? receiver(cx, callee);
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

/** The array a method is called on: any expression whose value is an array of numbers. */
function receiver(cx: Lowerer, callee: PropertyAccessExpression): Typed {
  const e = callee.getExpression();
  if (Node.isIdentifier(e) && !cx.env.has(e.getText()) && cx.frame.file.getVariableDeclaration(e.getText()) === undefined) {
    checkPoisoned(cx, e.getText());
    throw errorAt(e, `\`.${callee.getName()}\` is called on \`${e.getText()}\`, which is not a parameter or local variable of \`${cx.frame.fn.getName()}\``);
  }
  const r = expr(cx, e);
  if (r.type !== "array") throw errorAt(e, `\`.${callee.getName()}\` is a method of arrays here, and \`${e.getText()}\` is a ${r.type}: ${LOOP_INSTEAD}`);
  return r;
}

/** The one arrow function a method takes, with `fewest` to `most` plain parameters. */
function callback(node: CallExpression, fewest: number, most: number, shape: string, extra = 0): ArrowFunction {
  const args = node.getArguments();
  const fn = args[0];
  const method = (node.getExpression() as PropertyAccessExpression).getName();
  if (!fn || !Node.isArrowFunction(fn)) {
    throw errorAt(fn ?? node, `\`.${method}\` takes an arrow function here, \`${shape}\`${fn && (Node.isIdentifier(fn) || Node.isPropertyAccessExpression(fn)) ? `: write \`(v) => ${fn.getText()}(v)\`` : ""}`);
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
 * What a method runs over: an array value, or a place in a nested array or constant data
 * that is an array (`W`, whose elements are rows; a row `W[i]`, whose elements are numbers).
 */
type Source = Typed | DataArray;
const isPlace = (s: Source): s is DataArray => "k" in s && s.k === "data";

/** The element `i` of `source` bound to `element`: a number, or a row (a place in the nested array). */
function bindAt(cx: Lowerer, source: Source, current: () => Typed, element: string, i: Typed, node: Node): void {
  if (isPlace(source)) return bindElement(cx, source, node, element, i);
  const v = cx.op("index", [current(), i], node, cx.target(element));
  cx.env.set(element, { atom: v.atom, type: "number", mutable: true });
}

/** `source.length`, once (a temporary's) or where each use reads it (a named array's, a place's). */
function boundOf(cx: Lowerer, source: Source, at: Node): () => Typed {
  return isPlace(source) ? () => lengthOfData(cx, source, at) : lengthBound(cx, source, at);
}

/**
 * A loop over the elements of `source` from `from` (0, or 1 for `.reduce` without a
 * start): binds the callback's element and index (the index is the loop's), then `body`.
 */
function overElements(
  cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Source,
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
  const current = () => (Node.isIdentifier(recv) && cx.env.has(recv.getText()) ? cx.env.get(recv.getText())! : source as Typed);
  countedLoop(cx, node, header, index ?? indexName(cx), from, boundOf(cx, source, callee), writes, (i) => {
    bindAt(cx, source, current, element, i, elementNode);
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

function map(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Source, target?: Target): Typed {
  const fn = callback(node, 1, 2, "(v, i) => ...");
  // rows mapped to numbers (`W.map((row) => ...)`), or a row's numbers, make a `number[]`
  const kind = isPlace(source) ? "number[]" : madeKind(cx, callee, source);
  const [element, index] = fn.getParameters().map(paramName);
  noOuterWrites(cx, fn, "map", new Set());
  const name = accumulatorName(cx, target, "mapped");
  const n = isPlace(source) ? lengthOfData(cx, source, callee) : cx.op("length", [source], callee);
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

function reduce(cx: Lowerer, node: CallExpression, callee: PropertyAccessExpression, source: Source, target?: Target): Typed {
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
    if (isPlace(source) && source.shape.k === "list") throw errorAt(node, `\`.reduce\` over the rows of \`${callee.getExpression().getText()}\` starts from a number here: give it one, \`.reduce((s, row) => ..., 0)\``);
    const first = target?.name === name ? target : cx.target(name);
    start = isPlace(source) ? valueOf(cx, { ...source, shape: { k: "leaf", type: "number", text: "number" }, path: `${source.path}[#]`, indices: [...source.indices, zero()] }, callee, first)
      : cx.op("index", [source, zero()], callee, first);
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
    join: (_stmt, cond, then, otherwise, loc, before) => merge(cx, before, cond, then, otherwise, loc),
    afterReturningLoop: (_s, _e, _r, walkRest) => walkRest(),
  };
  return level;
}
