/**
 * Loops: `for`, `for...of`, `while`, `do`, as one loop region each. The variables the loop
 * assigns become loop-carried values (a phi at the top of each iteration); variables
 * declared inside the loop are local to it. The loop body is walked (walk.ts) at the loop
 * level defined here: `break`, `continue` and `return` become variables the condition reads.
 */
import { Node, SyntaxKind, type Expression, type ForOfStatement, type PropertyAccessExpression, type ReturnStatement, type Statement } from "ts-morph";
import { constAtom, valueAtom, type Atom, type Stmt, type ValueType } from "../ir/ir.ts";
import { countedBounds } from "../analyses/counted.ts";
import { errorAt, headerLoc } from "./locate.ts";
import { merge } from "./branches.ts";
import { assign, condition, expr } from "./expressions.ts";
import type { Binding, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { dataArray, elementOfData, lengthOfData } from "./records.ts";
import { declare, expressionStatement } from "./statements.ts";
import {
  ASSIGNMENT_OPS, asserted, breaksOut, containsReturn, declaredInside, isArrayWrite, jumpTarget, jumpWord, jumpsInside, loopHeader, pushesOnto, writesAny, type LoopNode,
} from "./syntax.ts";
import { armItems } from "./scopes.ts";
import { cursorOf, isPop, openCursors } from "./tapes.ts";
import { ARRAY_METHODS } from "./methods.ts";
import { afterEscapingLoop, continuedFromInside, escapeFlags, flagOf, targets } from "./labels.ts";
import { unreachable, walk, type Level } from "./walk.ts";
import { writtenArguments } from "./writes.ts";

/**
 * Lowers a loop. Leaving an iteration early becomes variables the condition reads (see
 * `loopLevel`): `break` sets a flag `done` and the condition becomes `!done && test`; a
 * `do` loop computes its test at the end of the body into `again`, which is the condition
 * (and which `break` sets to false); `return` sets `returned` and `result`, which enclosing
 * loops carry out to where the function level continues. Gives whether the loop can end
 * without returning.
 */
export function loop(cx: Lowerer, stmt: LoopNode): boolean {
  const kind = Node.isForStatement(stmt) || Node.isForOfStatement(stmt) ? "for" : Node.isWhileStatement(stmt) ? "while" : "do";
  const returns = containsReturn(stmt);
  if (returns) enterReturningLoop(cx, stmt);
  const outerNames = new Set(cx.env.keys());
  // the loop's own variables (`for (let i ...)`, `for (const v of xs)`) may shadow outer ones, which come back after it
  const shadowed = new Map<string, Binding>();
  for (const name of ownVariables(stmt)) {
    const outer = cx.env.get(name);
    if (outer) shadowed.set(name, outer);
    cx.env.delete(name);
  }
  // `for (const v of xs)` runs as `for (let i = 0; i < xs.length; i++) { const v = xs[i]; ... }`
  const over = Node.isForOfStatement(stmt) ? forOfParts(cx, stmt) : null;
  if (over) cx.env.set(over.index, { atom: constAtom(0), type: "number", mutable: true });
  if (Node.isForStatement(stmt)) {
    const init = stmt.getInitializer();
    if (init && Node.isVariableDeclarationList(init)) {
      if (init.getDeclarationKind() !== "let") throw errorAt(init, "declare a `for` loop's variable with `let`");
      for (const decl of init.getDeclarations()) declare(cx, decl, true);
    } else if (init) {
      expressionStatement(cx, init as Expression);
    }
  }
  const test = Node.isForStatement(stmt) ? stmt.getCondition() : Node.isForOfStatement(stmt) ? undefined : stmt.getExpression();
  /** No condition (`for (;;)`) or `while (true)`: only a `break` or `return` ends it. */
  const endless = !over && (!test || Node.isTrueLiteral(test));
  const update = Node.isForStatement(stmt) ? stmt.getIncrementor() : undefined;
  const body = stmt.getStatement();
  // a test that assigns (`while (i--)`, `for (; (n -= 1) > 0; )`) runs as the body's first
  // statement, `if (!test) break;`, so what it assigns is the body's to carry; so does one
  // that computes with a loop of its own (`s < Math.max(...xs)`), which a condition cannot hold
  const effects = test !== undefined && kind !== "do" && !endless && (writesAny(test, new Set(cx.env.keys())) || loopsIn(test));
  const breaks = breaksOut(stmt) || effects;
  if (endless && !breaks && !returns) {
    throw errorAt(stmt, "this loop has no condition and no `break` or `return` inside: it would never end");
  }

  // what the loop assigns, among the variables that exist before it (a tape it pops: its cursor)
  openCursors(cx, stmt);
  const assigned = assignedIn(cx, stmt);
  const frame = cx.frame;
  if (returns) {
    assigned.add(frame.returnVars!.result);
    assigned.add(frame.returnVars!.returned);
  }
  if (over) assigned.add(over.index);
  const again = kind === "do" && !endless ? flag(cx, "again", true) : null;
  const done = breaks && again === null ? flag(cx, "done", false) : null;
  // `continue` of this loop from a loop inside it: a flag the loops in between stop on
  const skip = continuedFromInside(stmt) ? flag(cx, "skip", false) : null;
  for (const name of [again, done, skip]) if (name !== null) assigned.add(name);
  targets.set(stmt, { broken: again !== null ? { name: again, set: false } : done !== null ? { name: done, set: true } : null, skip });
  // `break outer` / `continue outer` from here to a loop around this one: its flag ends this loop too
  const escapes = escapeFlags(stmt);
  for (const f of escapes) assigned.add(f.name);
  const steps = cx.newValue(null, 1, "steps", "number");
  const carried: { name: string | null; phi: number; init: Atom }[] = [{ name: null, phi: steps, init: constAtom(0) }];
  for (const name of assigned) {
    const binding = cx.env.get(name)!;
    if (!binding.mutable && binding.type !== "array") continue; // the assignment reports the error
    // `let x: number;` assigned in the body: each iteration assigns it before reading it,
    // and after the loop (which may not run) it is still unassigned
    if (binding.unset) continue;
    const phi = cx.newValue(name, cx.nextVersion(name), name, binding.type);
    carried.push({ name, phi, init: binding.atom });
    cx.env.set(name, { ...binding, atom: valueAtom(phi) });
  }
  const before = new Map(cx.env);
  const outer = cx.block;
  frame.loopDepth++;

  const testBlock: Stmt[] = [];
  cx.block = testBlock;
  const where = test ?? stmt;
  const parts: { atom: Atom; type: ValueType }[] = [];
  let overLength: Atom | null = null;
  if (returns) parts.push(cx.op("!", [cx.env.get(frame.returnVars!.returned)!], where));
  if (done !== null) parts.push(cx.op("!", [cx.env.get(done)!], where));
  for (const f of escapes) parts.push(f.set ? cx.op("!", [cx.env.get(f.name)!], where) : cx.env.get(f.name)!);
  if (again !== null) {
    parts.push(cx.env.get(again)!);
  } else if (over) {
    // a row of a nested array (`for (const w of row)`): its length is read from the data
    const place = dataArray(cx, over.array);
    const length = place ? lengthOfData(cx, place, where) : cx.op("length", [expr(cx, over.array)], where);
    overLength = length.atom;
    parts.push(cx.op("<", [cx.env.get(over.index)!, length], where));
  } else if (kind !== "do" && !endless && !effects) {
    parts.push(condition(cx, test!));
    if (holdsLoop(testBlock)) {
      throw errorAt(test!, "this loop condition calls a function with a loop inside, which a condition cannot hold yet: compute it into a variable before the loop and again at the end of the body (`let m = h(x); while (s < m) { ...; m = h(x); }`)");
    }
  }
  const cond = parts.reduce((a, b) => cx.op("&&", [a, b], where));

  const bodyBlock: Stmt[] = [];
  cx.block = bodyBlock;
  /** The end of an iteration, which `continue` goes to: a `for` update, a `do` test. It sees only the variables the loop sees. */
  const tail = () => cx.inScope(before, () => {
    if (update) expressionStatement(cx, update);
    if (over) {
      const next = cx.op("+", [cx.env.get(over.index)!, { atom: constAtom(1), type: "number" }], stmt, cx.target(over.index));
      cx.env.set(over.index, { atom: next.atom, type: "number", mutable: true });
    }
    if (again !== null) {
      let r = assign(cx, cx.target(again), test!, test!);
      // `do ... while (n)`: a number is true unless 0
      if (r.type === "number") r = cx.op("!==", [r, { atom: constAtom(0), type: "number" }], test!, cx.target(again));
      if (r.type !== "boolean") throw errorAt(test!, "a loop condition must be a comparison, a boolean or a number");
      cx.env.set(again, { atom: r.atom, type: "boolean", mutable: true });
    }
  });
  // after a `break` the tail must not run when it would change what the loop leaves
  // behind (an outer variable's update, the `do` test that `break` set to false); else
  // it follows the whole body once
  const tailInPaths = (breaks || escapes.length > 0) && (again !== null || (update !== undefined && (effects || writesAny(update, outerNames))));
  const leave = () => {
    if (again !== null) cx.env.set(again, { atom: constAtom(false), type: "boolean", mutable: true });
    else cx.env.set(done!, { atom: constAtom(true), type: "boolean", mutable: true });
  };
  if (over) {
    // the element, read at the top of each iteration
    // over constant data (`for (const p of pts)`): the element is a place in it (records.ts)
    if (!elementOfData(cx, over.array, over.element, cx.env.get(over.index)!)) {
      const element = cx.op("index", [expr(cx, over.array), cx.env.get(over.index)!], over.decl, cx.target(over.element));
      cx.env.set(over.element, { atom: element.atom, type: "number", mutable: over.mutable });
    }
  }
  const level = loopLevel(cx, stmt, tailInPaths ? tail : null, leave);
  if (effects) {
    const c = condition(cx, test!);
    const start = cx.env;
    const { then, otherwise } = cx.arms(() => walk(cx, armItems(body), level), leave);
    merge(cx, start, c.atom, then, otherwise, headerLoc(test!, loopHeader(stmt)));
  } else {
    walk(cx, armItems(body), level);
  }
  if (!tailInPaths) tail();
  const counterNext = cx.op("+", [{ atom: valueAtom(steps), type: "number" }, { atom: constAtom(1), type: "number" }], stmt, { name: null, version: 1, hint: "steps" });

  frame.loopDepth--;
  cx.block = outer;
  const bodyEnv = cx.env;
  cx.env = new Map([...before].filter(([name]) => outerNames.has(name)));
  for (const [name, binding] of shadowed) cx.env.set(name, binding);
  const loopCarried = carried.map((c) => ({
    phi: c.phi,
    init: c.init,
    next: c.name === null ? counterNext.atom : bodyEnv.get(c.name)!.atom,
  }));
  cx.block.push({
    kind: "loop" as const,
    test: testBlock,
    cond: cond.atom,
    body: bodyBlock,
    carried: loopCarried,
    counter: steps,
    counted: Node.isForStatement(stmt) ? countedBounds(stmt, cx.values, testBlock, bodyBlock, cond.atom, carried, loopCarried)
      : over && overLength && !breaks && !returns && !pushesOnto(stmt, over.array.getText()) ? { lo: constAtom(0), hi: overLength, inclusive: false } : null,
    loc: headerLoc(stmt, loopHeader(stmt)),
  });
  return !endless || breaks;
}

/** Whether a loop's test computes with a loop of its own: a spread, an array method, a new array. */
function loopsIn(test: Node): boolean {
  return [test, ...test.getDescendants()].some((n) => Node.isSpreadElement(n) || Node.isArrayLiteralExpression(n) || Node.isNewExpression(n) ||
    (Node.isCallExpression(n) && Node.isPropertyAccessExpression(n.getExpression()) && ARRAY_METHODS.has((n.getExpression() as PropertyAccessExpression).getName())));
}

/** Whether lowered statements hold a loop (in a branch too). */
const holdsLoop = (stmts: readonly Stmt[]): boolean => stmts.some((s) => s.kind === "loop" || (s.kind === "if" && (holdsLoop(s.then) || holdsLoop(s.else))));

/**
 * The variables in scope that `node` assigns: by `=`, `+=`, `++`, or by writing an array's
 * elements (`a[i] = v`, `a.push(v)`, `a.fill(c)`), at any depth (in callbacks too).
 */
export function assignedIn(cx: Lowerer, node: Node): Set<string> {
  const assigned = new Set<string>();
  const noteTarget = (n: Node) => {
    n = asserted(n);
    // an element write or a push changes the array: it is carried round the loop too
    if (Node.isElementAccessExpression(n) || Node.isPropertyAccessExpression(n)) n = n.getExpression();
    if (Node.isIdentifier(n) && cx.env.has(n.getText()) && !declaredInside(n, node)) assigned.add(n.getText());
  };
  node.forEachDescendant((n) => {
    if (Node.isBinaryExpression(n) && n.getOperatorToken().getText() in ASSIGNMENT_OPS) noteTarget(n.getLeft());
    if ((Node.isPrefixUnaryExpression(n) || Node.isPostfixUnaryExpression(n)) && Node.isIdentifier(n.getOperand())) noteTarget(n.getOperand());
    if (isArrayWrite(n)) noteTarget(n.getExpression());
    // a helper or a closure called here may write into an array it is given, or a variable it closes over (writes.ts)
    if (Node.isCallExpression(n)) for (const name of writtenArguments(cx, n)) if (cx.env.has(name) && !declaredInside(n, node, name)) assigned.add(name);
    const cursor = isPop(n) ? cursorOf(cx, (n.getExpression() as PropertyAccessExpression).getExpression().getText()) : undefined;
    if (cursor && cx.env.has(cursor)) assigned.add(cursor);
  });
  return assigned;
}

/**
 * A counted loop tsgrad writes for a construct that iterates (an array method, a spread):
 * `for (let index = lo; index < bound(); index++) body(index)`, the bound computed in the
 * loop's test. `writes` are the variables in scope the body assigns (`assignedIn`), carried
 * round the loop; variables the body declares are local to it. It is reversed as any
 * counted `for`.
 */
export function countedLoop(
  cx: Lowerer, node: Node, header: string, index: string, lo: Typed, bound: () => Typed, writes: Iterable<string>, body: (i: Typed) => void,
): void {
  const outerNames = new Set(cx.env.keys());
  const one = { atom: constAtom(1), type: "number" as ValueType };
  // the index starts as a value of its own, as `let i = 0` makes one: the loop's header declares it
  const start = cx.op("id", [lo], node, cx.target(index));
  cx.env.set(index, { atom: start.atom, type: "number", mutable: false });
  const steps = cx.newValue(null, 1, "steps", "number");
  const carried: { name: string | null; phi: number; init: Atom }[] = [{ name: null, phi: steps, init: constAtom(0) }];
  for (const name of new Set([index, ...writes])) {
    const binding = cx.env.get(name)!;
    // an array's phi knows what kind of array it is (a `.map` gives it as its result)
    const kind = binding.type === "array" && binding.root !== undefined ? cx.values[binding.root]!.typeText : undefined;
    const phi = cx.newValue(name, cx.nextVersion(name), name, binding.type, false, kind);
    carried.push({ name, phi, init: binding.atom });
    cx.env.set(name, { ...binding, atom: valueAtom(phi) });
  }
  const before = new Map(cx.env);
  const outer = cx.block;
  const frame = cx.frame;
  frame.loopDepth++;
  const testBlock: Stmt[] = [];
  cx.block = testBlock;
  const hi = bound();
  const cond = cx.op("<", [cx.env.get(index)!, hi], node);
  const bodyBlock: Stmt[] = [];
  cx.block = bodyBlock;
  body({ atom: cx.env.get(index)!.atom, type: "number" });
  const next = cx.op("+", [cx.env.get(index)!, one], node, cx.target(index));
  cx.env.set(index, { atom: next.atom, type: "number", mutable: false });
  const counterNext = cx.op("+", [{ atom: valueAtom(steps), type: "number" }, one], node, { name: null, version: 1, hint: "steps" });
  frame.loopDepth--;
  cx.block = outer;
  const bodyEnv = cx.env;
  cx.env = new Map([...before].filter(([name]) => outerNames.has(name)));
  cx.block.push({
    kind: "loop",
    test: testBlock,
    cond: cond.atom,
    body: bodyBlock,
    carried: carried.map((c) => ({ phi: c.phi, init: c.init, next: c.name === null ? counterNext.atom : bodyEnv.get(c.name)!.atom })),
    counter: steps,
    counted: { lo: start.atom, hi: hi.atom, inclusive: false },
    loc: headerLoc(node, header),
  });
}

/** The variables a loop's header declares: `for (let i = 0, j = 1; ...)`, `for (const v of xs)`. */
function ownVariables(stmt: LoopNode): string[] {
  if (!Node.isForStatement(stmt) && !Node.isForOfStatement(stmt)) return [];
  const init = stmt.getInitializer();
  return init && Node.isVariableDeclarationList(init) ? init.getDeclarations().map((d) => d.getNameNode().getText()) : [];
}

/** `for (const v of xs)`: the element's name, the array (a variable, read afresh where the loop reads it), and a fresh index. */
function forOfParts(cx: Lowerer, stmt: ForOfStatement) {
  if (stmt.isAwaited()) throw errorAt(stmt, "`for await` is not supported here");
  const init = stmt.getInitializer();
  if (!Node.isVariableDeclarationList(init) || init.getDeclarations().length !== 1) {
    throw errorAt(init, "write `for (const v of xs)`: one new variable for the element");
  }
  const decl = init.getDeclarations()[0]!;
  const nameNode = decl.getNameNode();
  if (!Node.isIdentifier(nameNode)) throw errorAt(nameNode, "destructuring is not supported yet");
  const element = nameNode.getText();
  const array = stmt.getExpression();
  const binding = Node.isIdentifier(array) ? cx.env.get(array.getText()) : undefined;
  if (binding?.type !== "array" && !dataArray(cx, array)) {
    throw errorAt(array, `\`for...of\` runs over an array variable here (\`for (const v of xs)\`), and \`${array.getText()}\` is ${binding ? `a ${binding.type}` : "not one"}`);
  }
  return { array, element, index: cx.freshName("i"), decl, mutable: init.getDeclarationKind() === "let" };
}

/**
 * A loop body, where an iteration may end early. Each path ends one way: falling off the
 * end or `continue` (both run `tail` when it is given: a `for` update or a `do` test that
 * a `break` must skip), `break` (`leave`), or `return` (`returned` and `result` set).
 */
function loopLevel(cx: Lowerer, node: LoopNode, tail: (() => void) | null, leave: () => void): Level<void> {
  return {
    splits: jumpsInside,
    jump(stmt, rest) {
      unreachable(stmt, rest);
      if (!Node.isReturnStatement(stmt) && stmt.getLabel() && jumpTarget(stmt) !== node) {
        // to a loop around this one: its flag is set, which ends each loop in between
        const f = flagOf(stmt);
        if (!f) throw errorAt(stmt, `\`${jumpWord(stmt)} ${stmt.getLabel()!.getText()}\` names no loop around it`);
        cx.env.set(f.name, { atom: constAtom(f.set), type: "boolean", mutable: true });
        return;
      }
      if (Node.isBreakStatement(stmt)) leave();
      else if (Node.isContinueStatement(stmt)) tail?.();
      else returnFromLoop(cx, stmt);
    },
    end: () => tail?.(),
    arm: () => {},
    join: (_stmt, cond, then, otherwise, loc, before) => merge(cx, before, cond, then, otherwise, loc),
    afterReturningLoop(stmt, _exits, rest: readonly Statement[], walkRest, close) {
      if (escapeFlags(stmt).length > 0) return afterEscapingLoop(cx, node, stmt, tail, walkRest, close);
      if (rest.length === 0) {
        close();
        return tail?.();
      }
      // once the inner loop has returned, the rest of this iteration is skipped
      const inner = cx.env;
      const returned = cx.env.get(cx.frame.returnVars!.returned)!.atom;
      const { then, otherwise } = cx.arms(close, walkRest);
      cx.env = new Map(inner);
      close();
      merge(cx, new Map(cx.env), returned, then, otherwise, headerLoc(stmt, loopHeader(stmt)));
    },
  };
}

/** `return e` inside a loop: `result = e; returned = true`, and the loop ends. */
function returnFromLoop(cx: Lowerer, stmt: ReturnStatement): void {
  const e = stmt.getExpression();
  if (!e) throw errorAt(stmt, "`return` needs a value: a differentiable function returns a `number`");
  const { returned, result } = cx.frame.returnVars!;
  const r = assign(cx, cx.target(result), e, e);
  if (r.type !== "number") {
    throw errorAt(e, r.type === "tensor"
      ? "returning a Tensor from inside a loop is not supported yet: assign it to a variable and return that after the loop"
      : `the result must be a number or a Tensor, not a ${r.type}`);
  }
  cx.env.set(result, { atom: r.atom, type: "number", mutable: true });
  cx.env.set(returned, { atom: constAtom(true), type: "boolean", mutable: true });
}

/**
 * Before a loop with a `return` inside: the variables the `return` sets. They start
 * `false` and `0` wherever a loop starts outside another (the function has not returned
 * there); a loop inside another carries on the outer loop's.
 */
function enterReturningLoop(cx: Lowerer, stmt: LoopNode): void {
  const frame = cx.frame;
  if (frame.declaredResult === "tensor") {
    const first = stmt.getDescendantsOfKind(SyntaxKind.ReturnStatement)[0] ?? stmt;
    throw errorAt(first, "`return` inside a loop is not supported yet in a function that returns a Tensor: assign the result to a variable and return it after the loop");
  }
  frame.returnVars ??= { returned: cx.freshName("returned"), result: cx.freshName("result") };
  const { returned, result } = frame.returnVars;
  if (frame.loopDepth > 0 && cx.env.has(returned)) return;
  cx.env.set(result, { atom: constAtom(0), type: "number", mutable: true });
  cx.env.set(returned, { atom: constAtom(false), type: "boolean", mutable: true });
}

/** A boolean variable tsgrad adds for a loop (`done`, `again`), starting at `init`. */
function flag(cx: Lowerer, base: string, init: boolean): string {
  const name = cx.freshName(base);
  cx.env.set(name, { atom: constAtom(init), type: "boolean", mutable: true });
  return name;
}
