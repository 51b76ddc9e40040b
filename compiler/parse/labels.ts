/**
 * `break outer` and `continue outer` from a loop inside `outer` (loops.ts lowers the loops):
 * as `return` inside a loop, a flag — `outer`'s own `done` (or its `do` test `again`,
 * false), or a `skip` for `continue` — that each loop in between tests in its condition,
 * and after which the rest of their iterations is skipped.
 */
import { Node, SyntaxKind, type BreakStatement, type ContinueStatement } from "ts-morph";
import { constAtom, type Atom } from "../ir/ir.ts";
import { headerLoc } from "./locate.ts";
import { merge } from "./branches.ts";
import type { Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { containsReturn, isLoopNode, jumpTarget, loopHeader, type LoopNode } from "./syntax.ts";

/**
 * What a `break L` or `continue L` from a loop inside `L` sets: `L`'s own `done` (or its
 * `again`, false), or its `skip`; `set` is the value that means "jumped".
 */
export interface Flag {
  readonly name: string;
  readonly set: boolean;
}

/** Per loop being lowered: the flags its inner loops' labelled jumps set. */
export const targets = new WeakMap<Node, { readonly broken: Flag | null; readonly skip: string | null }>();

/** The flag a labelled `break` or `continue` sets, if it names a loop around it that is being lowered. */
export function flagOf(jump: BreakStatement | ContinueStatement): Flag | null {
  const target = jumpTarget(jump);
  const t = target ? targets.get(target) : undefined;
  if (!t) return null;
  if (Node.isBreakStatement(jump)) return t.broken;
  return t.skip === null ? null : { name: t.skip, set: true };
}

/** The labelled jumps inside a loop (in loops inside it) to loops around it. */
function escapingJumps(loop: LoopNode): (BreakStatement | ContinueStatement)[] {
  return loop.getDescendants().filter((n): n is BreakStatement | ContinueStatement => {
    if (!(Node.isBreakStatement(n) || Node.isContinueStatement(n)) || !n.getLabel()) return false;
    const target = jumpTarget(n);
    return target !== null && isLoopNode(target) && loop.getAncestors().includes(target);
  });
}

/** The flags of the jumps out of a loop (`escapingJumps`), once each. */
export function escapeFlags(loop: LoopNode): Flag[] {
  const flags = new Map<string, Flag>();
  for (const j of escapingJumps(loop)) {
    const f = flagOf(j);
    if (f) flags.set(f.name, f);
  }
  return [...flags.values()];
}

/** Whether a loop inside `loop` has a `continue` of it. */
export function continuedFromInside(loop: LoopNode): boolean {
  return loop.getDescendantsOfKind(SyntaxKind.ContinueStatement).some((c) =>
    c.getLabel() !== undefined && jumpTarget(c) === loop && c.getAncestors().find(isLoopNode) !== loop);
}

/**
 * After a loop inside `node` that may jump out of itself (`break outer`, `continue outer`,
 * `return`): the rest of this iteration runs only when it did not. A `break` of `node` or
 * a jump further out skips it and ends the iteration as `break` does; a `continue` of
 * `node` skips it, clears its flag, and goes on as `continue` does.
 */
export function afterEscapingLoop(cx: Lowerer, node: LoopNode, inner: LoopNode, tail: (() => void) | null, walkRest: () => void, close: () => void): void {
  const loc = headerLoc(inner, loopHeader(inner));
  const own = targets.get(node)!;
  const isSet = (f: Flag) => (f.set ? cx.env.get(f.name)! : cx.op("!", [cx.env.get(f.name)!], inner));
  const stops: Typed[] = [];
  if (containsReturn(inner)) stops.push(cx.env.get(cx.frame.returnVars!.returned)!);
  let skips = false;
  for (const f of escapeFlags(inner)) {
    if (f.name === own.skip) skips = true;
    else stops.push(isSet(f));
  }
  const split = (cond: Atom, then: () => void, otherwise: () => void) => {
    const before = cx.env;
    const arms = cx.arms(then, otherwise);
    cx.env = new Map(before);
    close();
    merge(cx, new Map(cx.env), cond, arms.then, arms.otherwise, loc);
  };
  const go = !skips ? walkRest : () => split(cx.env.get(own.skip!)!.atom, () => {
    cx.env.set(own.skip!, { atom: constAtom(false), type: "boolean", mutable: true });
    close();
    tail?.();
  }, walkRest);
  if (stops.length === 0) return go();
  split(stops.reduce((a, b) => cx.op("||", [a, b], inner)).atom, close, go);
}
