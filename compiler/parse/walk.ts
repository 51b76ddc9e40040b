/**
 * The one statement-list walker. Every list of statements — a function body, an inlined
 * call's body, a loop body, an `if` arm — is lowered by `walk`, told by a `Level` what
 * `return`, `break` and `continue` mean there and what falling off the end means.
 *
 * A path through a list ends one way. An `if` through which a path can leave the level
 * early (the level's `splits`) takes the statements after it into the arm that goes on,
 * so `if (x < 0) return 0; ...; return y` is one branch whose arms each end the level's
 * way; the level then joins the two arms (a branch giving the result, or a merge of the
 * variables). A loop with a `return` inside splits the rest the same way, on the flag the
 * `return` sets.
 *
 * The levels: `functionLevel` (here; a function body and an inlined call's body: `return`
 * gives the result), `plainLevel` (here; an `if` arm no path leaves early), and the loop
 * body's (loops.ts: `break` leaves, `continue` runs the update). A `switch` is one more
 * level: its `break` leaves the switch, its `continue` and `return` are its loop's.
 */
import { Node, type IfStatement, type LabeledStatement, type Statement } from "ts-morph";
import { CompileError } from "../diagnostics.ts";
import { constAtom, valueAtom, type Atom, type SourceLoc, type Stmt, type ValueType } from "../ir/ir.ts";
import { errorAt, headerLoc, locOf } from "./locate.ts";
import { branch } from "./branches.ts";
import { expr } from "./expressions.ts";
import type { Binding, Env, Typed } from "./frame.ts";
import { loop } from "./loops.ts";
import { builtOf, isBuilt, recordLiteralOf } from "./built.ts";
import { memberOf } from "./records.ts";
import type { Member } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { armItems, closeScope, closeScopes, isScopeEnd, isSwitchEnd, openScope, statementsIn, type Item } from "./scopes.ts";
import { statement } from "./statements.ts";
import { switchInPlace, switchSplit } from "./switch.ts";
import { breaksTo, containsReturn, isJump, jumpTarget, leavesNode, isLoopNode, jumpWord, loopHeader, type JumpNode, type LoopNode } from "./syntax.ts";
import { describeUnsupported } from "./unsupported.ts";
import { Abandoned, attempt, lowerStatement } from "./recover.ts";

/** One arm of a split: what its path ended with, its block, and the variables at its end. */
export interface Arm<T> {
  readonly result: T;
  readonly block: Stmt[];
  readonly env: ReadonlyMap<string, Binding>;
}

export interface Level<T> {
  /** Whether a path through this `if` can leave the level early, so the rest of the list goes into its arms. */
  splits(stmt: IfStatement): boolean;
  /** `return`, `break` or `continue` here; `rest` is what follows it in its list (unreachable). */
  jump(stmt: JumpNode, rest: readonly Statement[]): T;
  /** The end of the list, reached by falling off it. */
  end(): T;
  /** Checks what one arm of a split `if` ended with (`node` is the arm, undefined for a missing `else`). */
  arm(result: T, node: Node | undefined, stmt: Node): T;
  /** The two arms of a split `if` (or of the split after a returning loop), as one. */
  join(stmt: Node, cond: Atom, then: Arm<T>, otherwise: Arm<T>, loc: SourceLoc, before: Env): T;
  /**
   * After a loop with a `return` inside: the rest of the list, which runs only when the loop
   * has not returned; `close` ends the blocks the rest ends, for the path that skips it.
   */
  afterReturningLoop(stmt: LoopNode, exits: boolean, rest: readonly Statement[], walkRest: () => T, close: () => void): T;
}

export function walk<T>(cx: Lowerer, statements: readonly Item[], level: Level<T>): T {
  const items = [...statements];
  for (let i = 0; i < items.length; i++) {
    const stmt = items[i]!;
    if (isScopeEnd(stmt)) {
      closeScope(cx, stmt);
      continue;
    }
    if (isSwitchEnd(stmt)) continue;
    if (Node.isBlock(stmt)) {
      items.splice(i, 1, ...openScope(cx, stmt));
      i--;
      continue;
    }
    if (Node.isLabeledStatement(stmt)) {
      const inner = attempt(cx, () => labelled(stmt), () => null);
      if (inner) items[i--] = inner;
      continue;
    }
    const rest = items.slice(i + 1);
    // a `break` of a `switch` split into this list goes on after the `switch`
    const target = Node.isBreakStatement(stmt) ? jumpTarget(stmt) : null;
    const end = target ? rest.findIndex((r) => isSwitchEnd(r) && r.switchEnd === target) : -1;
    if (end >= 0) {
      closeScopes(cx, rest.slice(0, end));
      i += end + 1;
      continue;
    }
    if (!endsList(stmt, rest, level)) {
      // one statement: should it fail, its error is recorded and the next one is lowered (recover.ts)
      lowerStatement(cx, stmt, () => (Node.isSwitchStatement(stmt) ? switchInPlace(cx, stmt) : statement(cx, stmt)));
      continue;
    }
    // a statement that takes the rest of the list: should it fail, the rest is still
    // lowered for its errors (unless an arm of it was), and the list is abandoned
    let restLowered = false;
    return attempt(cx, () => endList(cx, stmt, rest, level, () => (restLowered = true)), () => {
      if (!restLowered && !isJump(stmt)) forErrors(cx, () => walk(cx, rest, level));
      throw new Abandoned();
    });
  }
  return level.end();
}

/** Whether a statement takes the rest of its list: a jump, an `if` or `switch` a path leaves early by, a loop with a `return` or `break outer` inside. */
function endsList<T>(stmt: Statement, rest: readonly Item[], level: Level<T>): boolean {
  if (isJump(stmt)) return true;
  if (Node.isIfStatement(stmt)) return level.splits(stmt) || breaksToSplitSwitch(stmt, rest);
  if (Node.isSwitchStatement(stmt)) return leavesNode(stmt);
  return isLoopNode(stmt) && leavesNode(stmt);
}

/** Lowers what `walk` would, only for the errors it reports (its IR is thrown away). */
function forErrors(cx: Lowerer, lower: () => unknown): void {
  try {
    attempt(cx, lower, () => undefined);
  } catch {
    // the list is abandoned already: a problem lowering the rest on the state a failure left is not the user's
  }
}

/**
 * A statement that takes the rest of its list (`endsList`): its result is the list's.
 * `lowering` is told when the rest is lowered (into an arm), so a failure need not lower it again.
 */
function endList<T>(cx: Lowerer, stmt: Statement, rest: Item[], level: Level<T>, lowering: () => void): T {
  if (isJump(stmt)) {
    // `break` and `continue` go on outside the blocks they leave; `return` computes its value inside them
    const isReturn = Node.isReturnStatement(stmt);
    if (!isReturn) closeScopes(cx, rest);
    // inside a `switch`, what follows may be the next clause (reached from its own case)
    const r = level.jump(stmt, rest.some(isSwitchEnd) ? [] : statementsIn(rest));
    if (isReturn) closeScopes(cx, rest);
    return r;
  }
  if (Node.isIfStatement(stmt)) {
    const ends = rest.filter(isScopeEnd);
    // each arm is lowered even when the other fails, for its errors; the branch is then abandoned
    let failed = false;
    const { cond, then, otherwise, loc, before: inner } = branch(cx, stmt, (own, node) => {
      lowering();
      return attempt(cx, () => level.arm(walk(cx, [...armItems(node), ...(endsWithJump(own) ? ends : rest)], level), node, stmt), () => {
        failed = true;
        return undefined as T;
      });
    });
    if (failed) throw new Abandoned();
    return join(cx, level, stmt, cond, then, otherwise, loc, inner, ends);
  }
  if (Node.isSwitchStatement(stmt)) return switchSplit(cx, stmt, rest, level);
  const exits = loop(cx, stmt as LoopNode);
  return level.afterReturningLoop(stmt as LoopNode, exits, statementsIn(rest), () => {
    lowering();
    return walk(cx, rest, level);
  }, () => closeScopes(cx, rest));
}

/**
 * Joins two arms that each went on to the end of the list: from outside the blocks that
 * hold the split (`inner` is the variables inside them, `ends` the blocks' ends).
 */
export function join<T>(cx: Lowerer, level: Level<T>, stmt: Node, cond: Atom, then: Arm<T>, otherwise: Arm<T>, loc: SourceLoc, inner: ReadonlyMap<string, Binding>, ends: readonly Item[]): T {
  cx.env = new Map(inner);
  closeScopes(cx, ends);
  return level.join(stmt, cond, then, otherwise, loc, new Map(cx.env));
}

/** `outer: for (...)`: the loop, whose `break outer` and `continue outer` are its own. */
function labelled(stmt: LabeledStatement): Statement {
  const inner = stmt.getStatement();
  if (!isLoopNode(inner)) throw errorAt(stmt.getLabel(), "a label is supported on a loop only (for `break label` and `continue label`)");
  return inner;
}

/** Whether an `if` holds a `break` of a `switch` whose cases took the rest of the list (so the `if` must split too). */
function breaksToSplitSwitch(stmt: IfStatement, rest: readonly Item[]): boolean {
  return rest.some((r) => isSwitchEnd(r) && breaksTo(stmt, r.switchEnd));
}

/** Whether a path through these statements ends with a jump out of its list (in a nested block too; not a `switch`'s `break`). */
function endsWithJump(statements: readonly Statement[]): boolean {
  const last = statements[statements.length - 1];
  if (last === undefined) return false;
  if (Node.isBlock(last)) return endsWithJump(last.getStatements());
  return isJump(last) && !(Node.isBreakStatement(last) && Node.isSwitchStatement(jumpTarget(last) ?? last));
}

/** A jump after which statements follow is an error at the first of them. */
export function unreachable(stmt: JumpNode, rest: readonly Statement[]): void {
  if (rest.length > 0) throw errorAt(rest[0]!, `unreachable code after \`${jumpWord(stmt)}\``);
}

/** A jump where it means nothing (not in a loop). */
function misplaced(stmt: JumpNode): CompileError {
  return errorAt(stmt, Node.isReturnStatement(stmt) ? "`return` is not supported here" : describeUnsupported(stmt));
}

/** An `if` arm that no path leaves early: its statements one after another. */
export const plainLevel: Level<void> = {
  splits: () => false,
  jump: (stmt) => {
    throw misplaced(stmt);
  },
  end: () => {},
  arm: () => {},
  join: () => {},
  afterReturningLoop: (_stmt, _exits, _rest, walkRest) => walkRest(),
};

export type Result = Typed & { readonly loc: SourceLoc };

/**
 * A function body, the compiled function's or an inlined call's: its paths end with
 * `return <expression>`, whose value is the result. `declared` is the declared result
 * type; `hint` names the result (`value`, or an inlined function's name).
 */
export function functionLevel(cx: Lowerer, declared: ValueType | null, hint: string): Level<Result | null> {
  const level: Level<Result | null> = {
    splits: containsReturn,
    jump(stmt, rest) {
      if (!Node.isReturnStatement(stmt)) throw misplaced(stmt);
      unreachable(stmt, rest);
      const e = stmt.getExpression();
      if (!e) throw errorAt(stmt, "`return` needs a value: a differentiable function returns a `number`");
      // a record: built here (`{ y, z }`, `new Point(x, y)`, a helper's), or named (`p`)
      if (recordLiteralOf(e)) return returnRecord(cx, stmt, () => builtOf(cx, e)!);
      const record = Node.isNewExpression(e) || Node.isCallExpression(e) ? builtOf(cx, e) : memberOf(cx, e);
      if (isBuilt(record)) return returnRecord(cx, stmt, () => record);
      const r = expr(cx, e, { name: null, version: 1, hint });
      // a helper that is inlined may return anything its caller can use (a boolean)
      if (cx.frame.scope === 0 && (r.type === "boolean" || r.type === "string")) throw errorAt(e, `the result must be a number, an array of numbers or a Tensor, not a ${r.type}`);
      if (declared && r.type !== declared) throw errorAt(e, `\`${cx.frame.fn.getName()}\` is declared to return a ${declared} but returns a ${r.type}`);
      return { atom: r.atom, type: r.type, loc: locOf(e) };
    },
    end: () => null,
    arm(result, node, stmt) {
      if (!result) throw errorAt(node ?? stmt, "this path through the function does not end with `return <expression>`");
      return result;
    },
    join: (stmt, cond, then, otherwise, loc) => returnBranch(cx, stmt, cond, then as Arm<Result>, otherwise as Arm<Result>, loc, hint),
    afterReturningLoop(stmt, exits, _rest, walkRest) {
      const { returned, result } = cx.frame.returnVars!;
      const loc = headerLoc(stmt, loopHeader(stmt));
      const value: Result = { atom: cx.env.get(result)!.atom, type: "number", loc };
      // `for (;;)` or `while (true)` without `break` only ends by returning (what follows
      // it on this path cannot run)
      if (!exits) return value;
      const { then, otherwise } = cx.arms(() => value, () => {
        const r = walkRest();
        if (!r) throw errorAt(stmt, "the function can leave this loop without returning, and no `return <expression>` follows it");
        return r;
      });
      return returnBranch(cx, stmt, cx.env.get(returned)!.atom, then, otherwise, loc, hint);
    },
  };
  return level;
}

/**
 * `return { value, grad: { x: dx } }`, `return p` (a record built here or passed in): in an
 * inlined helper whose caller names the record (`const r = f(...)`), the record its caller
 * reads by field; in the compiled function, its result (built.ts `resultLeaves`).
 */
function returnRecord(cx: Lowerer, stmt: Node, member: () => Member): Result {
  const name = cx.frame.fn.getName();
  if (!cx.frame.returned) throw errorAt(stmt, `\`${name}\` returns a record: name its result (\`const r = ${name}(...)\`) and read its fields (\`r.value\`)`);
  cx.frame.returned.member = member();
  return { atom: constAtom(0), type: "data", loc: locOf(stmt) };
}

/** The branch two paths that each return make: its output is the function's result. */
function returnBranch(cx: Lowerer, stmt: Node, cond: Atom, then: Arm<Typed>, otherwise: Arm<Typed>, loc: SourceLoc, hint: string): Result {
  if (then.result.type === "data" || otherwise.result.type === "data") {
    throw errorAt(stmt, `\`${cx.frame.fn.getName()}\` returns a record from inside an \`if\` or a loop: set variables there and return the record once, at the end of the function`);
  }
  if (then.result.type !== otherwise.result.type) {
    throw errorAt(stmt, `the two paths return different types (${then.result.type} and ${otherwise.result.type})`);
  }
  const out = cx.newValue(null, 1, hint, then.result.type);
  cx.block.push({ kind: "if", cond, then: then.block, else: otherwise.block, outs: [{ out, then: then.result.atom, else: otherwise.result.atom }], loc });
  return { atom: valueAtom(out), type: then.result.type, loc };
}
