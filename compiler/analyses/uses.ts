/**
 * How code-IR statements use symbols: which they read, assign, sum into and declare. The
 * transforms that rearrange emitted code (fuse, combine) move a statement past another
 * only when these sets say the move cannot change a value.
 */
import { forEachNode, forEachSym, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";

/** Read, assigned (`=`, a mutating call), summed into (`+=`, `-=`), declared. */
export interface Uses {
  readonly reads: Set<Sym>;
  readonly writes: Set<Sym>;
  readonly sums: Set<Sym>;
  readonly decls: Set<Sym>;
}

export function usesOf(stmts: readonly CodeStmt[], u: Uses = { reads: new Set(), writes: new Set(), sums: new Set(), decls: new Set() }): Uses {
  const read = (e: Ex) => {
    forEachSym(e, (s) => u.reads.add(s));
    mutated(e, (s) => u.writes.add(s));
  };
  for (const s of stmts) {
    switch (s.k) {
      case "decl": u.decls.add(s.sym); if (s.init) read(s.init); break;
      case "assign":
        (s.op === "=" ? u.writes : u.sums).add(s.sym);
        read(s.expr);
        if (s.index) read(s.index);
        break;
      case "expr": read(s.expr); break;
      case "if": read(s.cond); usesOf(s.then, u); usesOf(s.else, u); break;
      case "loop":
        if (s.index) { u.decls.add(s.index.sym); read(s.index.init); }
        read(s.cond);
        usesOf(s.body, u);
        break;
      case "return": read(s.value); s.grad.forEach(([, g]) => read(g)); break;
      default: break;
    }
  }
  return u;
}

/** The arrays a method call changes (`tape.push(v)`, `tape.pop()`); `slice` changes nothing. */
export function mutated(e: Ex, f: (s: Sym) => void): void {
  forEachNode(e, (x) => { if (x.k === "method" && x.a.k === "ref" && x.name !== "slice") f(x.a.sym); });
}

/** Whether evaluating `e` changes an array (`stack.pop()`), so that it must run as often as written. */
export function mutates(e: Ex): boolean {
  let found = false;
  mutated(e, () => { found = true; });
  return found;
}

type Assign = Extract<CodeStmt, { k: "assign" }>;

/** Calls `f` on every assignment in `stmts`, nested blocks included. */
export function forEachAssign(stmts: readonly CodeStmt[], f: (a: Assign) => void): void {
  for (const s of stmts) {
    if (s.k === "assign") f(s);
    else if (s.k === "loop") forEachAssign(s.body, f);
    else if (s.k === "if") { forEachAssign(s.then, f); forEachAssign(s.else, f); }
  }
}

/** Whether some assignment in `stmts` (nested blocks included) satisfies `test`. */
export function someAssign(stmts: readonly CodeStmt[], test: (a: Assign) => boolean): boolean {
  let found = false;
  forEachAssign(stmts, (a) => { if (test(a)) found = true; });
  return found;
}
