/**
 * The state of one function body being lowered: the function being compiled (the outermost
 * frame) or a function it calls, inlined. An inlined call opens a new frame and closes it
 * when the callee's `return` has given the call's value; nothing else is saved and restored.
 */
import type { FunctionDeclaration, SourceFile } from "ts-morph";
import type { Atom, ValueType } from "../ir/ir.ts";
import type { Shape } from "./shapes.ts";

/** What a name in scope stands for. */
export interface Binding {
  readonly atom: Atom;
  readonly type: ValueType;
  readonly mutable: boolean;
  /** For an array: the value that created it (a parameter, `new Array(n).fill(0)`, a literal). */
  readonly root?: number;
  /** `let x: number;` before its first assignment on this path: reading it is an error. */
  readonly unset?: true;
}

/** Where an expression's value goes: a user's variable (name and version) or a temporary (`name` null). */
export interface Target {
  readonly name: string | null;
  readonly version: number;
  readonly hint: string;
}

/** A lowered expression: what holds its value, and its type. */
export interface Typed {
  readonly atom: Atom;
  readonly type: ValueType;
}

export type Env = Map<string, Binding>;

/**
 * What a record, a tuple or constant data stands for at compile time (parse/records.ts):
 * a leaf is a value; a record or tuple its members; `data` a place in a constant array of
 * records or arrays (`pts[i]`), read as `base` followed by `path` with `#` for each index.
 */
export type Member =
  | { readonly k: "leaf"; readonly typed: Typed; readonly root?: number }
  | { readonly k: "record"; readonly shape: Shape; readonly fields: ReadonlyMap<string, Member> }
  | { readonly k: "tuple"; readonly shape: Shape; readonly items: readonly Member[] }
  | { readonly k: "data"; readonly shape: Shape; readonly base: Typed; readonly path: string; readonly indices: readonly Typed[] };

export interface Frame {
  readonly fn: FunctionDeclaration;
  readonly file: SourceFile;
  /** 0 for the function being compiled, then one per inlined call (see `Value.scope`). */
  readonly scope: number;
  /** The frame that called this one (null for the function being compiled): a call of any of them is recursion. */
  readonly caller: Frame | null;
  /** The declared result type, which a `return` inside a loop checks against. */
  declaredResult: ValueType | null;
  /** The variables in scope; a branch arm or a loop body lowers on a copy. */
  env: Env;
  /** Values each user name has had so far, across branches: `s`, then `s_2`, `s_3`, ... */
  readonly versions: Map<string, number>;
  /** How many loops the statement being lowered is inside. */
  loopDepth: number;
  /** The variables a `return` inside a loop sets, named on first use: the flag and the value. */
  returnVars: { readonly returned: string; readonly result: string } | null;
  /** Names bound to records, tuples and places in constant data (they are not IR values). */
  readonly aggregates: Map<string, Member>;
  /**
   * Set when the caller takes a record from this inlined call (`const r = f_grad(x)`): the
   * record its `return { ... }` gives (parse/records.ts). Unset, such a `return` is an error.
   */
  returned?: { member?: Member };
  /** The cursor variable of each array popped so far (parse/tapes.ts), by the array's name. */
  cursors?: Map<string, string>;
  /** Every identifier of the function, so the names tsgrad adds clash with none (read on first use). */
  identifiers?: Set<string>;
}

export function newFrame(fn: FunctionDeclaration, file: SourceFile, scope: number, caller: Frame | null, env: Env = new Map(), versions = new Map<string, number>()): Frame {
  return { fn, file, scope, caller, declaredResult: null, env, versions, loopDepth: 0, returnVars: null, aggregates: new Map() };
}
