/**
 * What the statement-list walker (walk.ts) keeps in its list besides statements: where a
 * nested block ends (its names get back their outer bindings) and where a `switch` that
 * is split into the rest of the list ends (its `break` goes on from there).
 */
import type { Block, Statement, SwitchStatement } from "ts-morph";
import type { Binding } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { blockDeclarations } from "./syntax.ts";

/**
 * Where a nested block `{ ... }` ends: the names it declared get back the bindings they had
 * outside it (or go out of scope), so a `const` in an inner block may shadow an outer one.
 */
export interface ScopeEnd {
  readonly scopeEnd: ReadonlyMap<string, Binding | undefined>;
}

/** Where a `switch` whose cases were each given the rest of the list ends: its `break` goes on after it. */
export interface SwitchEnd {
  readonly switchEnd: SwitchStatement;
}

/** A statement to lower, or the end of a block or `switch` the walker opened. */
export type Item = Statement | ScopeEnd | SwitchEnd;

export const isScopeEnd = (item: Item): item is ScopeEnd => "scopeEnd" in item;
export const isSwitchEnd = (item: Item): item is SwitchEnd => "switchEnd" in item;
export const statementsIn = (items: readonly Item[]) => items.filter((i): i is Statement => !isScopeEnd(i) && !isSwitchEnd(i));

/** Opens a block: the names it declares are out of scope until their declarations (their outer bindings wait at its end). */
export function openScope(cx: Lowerer, block: Block): Item[] {
  const saved = new Map<string, Binding | undefined>();
  for (const name of blockDeclarations(block)) {
    saved.set(name, cx.env.get(name));
    cx.env.delete(name);
  }
  return [...block.getStatements(), { scopeEnd: saved }];
}

export function closeScope(cx: Lowerer, end: ScopeEnd): void {
  for (const [name, binding] of end.scopeEnd) {
    if (binding) cx.env.set(name, binding);
    else cx.env.delete(name);
  }
}

/** Closes every block `rest` ends (innermost first): a path that leaves by a jump leaves them too. */
export function closeScopes(cx: Lowerer, rest: readonly Item[]): void {
  for (const item of rest) if (isScopeEnd(item)) closeScope(cx, item);
}

/**
 * The statements of an `if` arm or a loop body, as the walker takes them: a block is
 * opened as a scope of its own.
 */
export const armItems = (node: Statement | undefined): Item[] => (node ? [node] : []);

