/**
 * Parallel assignments written one after another: the merges at the end of an `if`'s arm
 * and a loop's next values happen at once in the IR (./primal.ts writes them).
 */
import { forEachSym, ref, type Sym } from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";
import { nextName } from "../emit/names.ts";

export type Assign = Extract<CodeStmt, { k: "assign" }>;

/**
 * The merges at the end of an arm happen at once in the IR: each reads the variables as
 * they were before any of them. Written one after another, an assignment that reads a
 * variable goes before the one that overwrites it (`s = Math.sin(s) + xs[i]` before
 * `i += 1`, in a loop where both are loop variables); when they read each other's in a
 * cycle, one value waits in a temporary.
 */
export function inSequence(assigns: readonly Assign[], fresh: (hint: string) => Sym): CodeStmt[] {
  const out: CodeStmt[] = [];
  let pending = [...assigns];
  const readsSym = (a: Assign, sym: Sym) => {
    let found = false;
    forEachSym(a.expr, (x) => { if (x === sym) found = true; });
    return found;
  };
  while (pending.length > 0) {
    // the first assignment whose variable no other pending one still reads
    const ready = pending.find((a) => pending.every((b) => b === a || !readsSym(b, a.sym)));
    if (ready) {
      out.push(ready);
      pending = pending.filter((a) => a !== ready);
      continue;
    }
    const first = pending[0]!;
    const temp = fresh(nextName(first.sym.hint));
    out.push({ k: "decl", mutable: false, sym: temp, init: first.expr, role: "forward", origin: first.origin });
    pending[0] = { ...first, expr: ref(temp), origin: undefined };
  }
  return out;
}
