/**
 * The code IR: the emitted function as statements over symbols, produced by the
 * transforms and printed by emit. It is deliberately close to the TypeScript it becomes.
 */
import type { Ex, Sym } from "./expr.ts";
import type { Import, SourceLoc } from "./ir.ts";

export type Role = "forward" | "backward";

export type CodeStmt =
  | {
      readonly k: "decl";
      readonly mutable: boolean;
      readonly sym: Sym;
      readonly init: Ex | null;
      readonly type?: string;
      /** Print the type even with an initial value (`const hs: number[] = []`). */
      readonly typed?: boolean;
      readonly role: Role;
      readonly origin?: SourceLoc;
    }
  | {
      readonly k: "assign";
      readonly op: "=" | "+=" | "-=";
      readonly sym: Sym;
      /** An element write: `sym[index] op expr`; a `list` index `[i, j]` writes `sym[i][j]` (a nested array's gradient). */
      readonly index?: Ex;
      readonly expr: Ex;
      readonly role: Role;
      readonly origin?: SourceLoc;
    }
  /** `for (let i = init; cond; i += step)`, or `while (cond)` without `index`. */
  | {
      readonly k: "loop";
      readonly index?: { readonly sym: Sym; readonly init: Ex; readonly step: 1 | -1 };
      readonly cond: Ex;
      readonly body: CodeStmt[];
      readonly role: Role;
      readonly origin?: SourceLoc;
      /** The IR loop this loop runs (forward) or undoes (backward). */
      readonly source?: import("./ir.ts").LoopStmt;
    }
  /** An expression evaluated for its effect (`tape.push(h)`). */
  | { readonly k: "expr"; readonly expr: Ex; readonly role: Role; readonly origin?: SourceLoc }
  | { readonly k: "if"; readonly cond: Ex; readonly then: CodeStmt[]; readonly else: CodeStmt[]; readonly role: Role; readonly origin?: SourceLoc }
  | { readonly k: "blank" }
  /** A line of explanation, `// ...`: text and the variables it names. */
  | { readonly k: "comment"; readonly text: readonly (string | Sym)[] }
  /**
   * `return { value, grad: { ... } }`, or in forward mode (`tangent` set) `return { value, tangent }`.
   * A gradient entry of a record or tuple parameter's leaf has the path to it: `grad: { params: { w: dw } }`.
   */
  | {
      readonly k: "return"; readonly value: Ex; readonly grad: readonly (readonly [string, Ex, (readonly (string | number)[])?])[]; readonly tangent?: Ex;
      /** Second order (`f_hvp`): `hvp: { x: dx_dot }` beside `grad`, one entry per gradient entry (with its path, as `grad`'s). */
      readonly hvp?: readonly (readonly [string, Ex, (readonly (string | number)[])?])[];
    };

export interface CodeFunction {
  /** The emitted function's name (`f_grad`). */
  readonly name: string;
  /** The differentiated function's name. */
  readonly source: string;
  /** The array parameters the function writes into: this one works on copies of them (ir.ts `FunctionIR.copied`). */
  readonly copied?: readonly string[];
  /** `init`: a parameter's default value as the user wrote it (a literal). */
  readonly params: readonly { readonly sym: Sym; readonly type: string; readonly init?: string }[];
  /** The upstream-gradient parameter and its default (none for a Tensor result: it is required). */
  readonly dout: { readonly sym: Sym; readonly init: Ex | null; readonly type?: string };
  /** `@into`: the last, optional parameter holding arrays for the array parameters' gradients (by name, with their types). */
  readonly into: { readonly sym: Sym; readonly arrays: readonly { readonly name: string; readonly type: string }[] } | null;
  /**
   * Forward mode (`f_jvp`): `dout` is then the `tangents` record, and the result `{ value, tangent }`;
   * second order (`f_hvp`, transforms/hvp.ts): `dout` is the direction `v`, and the result `{ value, grad, hvp }`.
   */
  readonly mode?: "jvp" | "hvp";
  /** The runtime module to import the backward pass's tensor helpers from. */
  readonly runtimeModule: string | null;
  readonly body: readonly CodeStmt[];
  readonly imports: readonly Import[];
  /** Every name the user's function uses, which generated names must avoid. */
  readonly reserved: readonly string[];
}

/**
 * Calls `f` on every expression in `stmts` (nested blocks included), with the backward
 * loops (by the IR loop they undo) that enclose it, outermost first.
 */
export function forEachExpr(
  stmts: readonly CodeStmt[],
  f: (e: Ex, loops: readonly import("./ir.ts").LoopStmt[]) => void,
  loops: readonly import("./ir.ts").LoopStmt[] = [],
): void {
  for (const s of stmts) {
    switch (s.k) {
      case "decl": if (s.init) f(s.init, loops); break;
      case "assign": f(s.expr, loops); if (s.index) f(s.index, loops); break;
      case "expr": f(s.expr, loops); break;
      case "if": f(s.cond, loops); forEachExpr(s.then, f, loops); forEachExpr(s.else, f, loops); break;
      case "loop":
        if (s.index) f(s.index.init, loops);
        f(s.cond, loops);
        forEachExpr(s.body, f, s.source && s.role === "backward" ? [...loops, s.source] : loops);
        break;
      case "return": f(s.value, loops); s.grad.forEach(([, g]) => f(g, loops)); if (s.tangent) f(s.tangent, loops); s.hvp?.forEach(([, h]) => f(h, loops)); break;
      default: break;
    }
  }
}

/** `stmts` with `f` applied to the body of each loop and each arm of each branch (one level; `f` recurses if it wants). */
export function mapBlocks(stmts: readonly CodeStmt[], f: (block: readonly CodeStmt[]) => CodeStmt[]): CodeStmt[] {
  return stmts.map((s): CodeStmt => {
    switch (s.k) {
      case "loop": return { ...s, body: f(s.body) };
      case "if": return { ...s, then: f(s.then), else: f(s.else) };
      default: return s;
    }
  });
}
