/**
 * Naming: the user's names are kept exactly; every other variable gets its hint (`dout`,
 * `value`, `d` + the name it is the adjoint of, a temporary's hint), with a counter suffix
 * (`dx_1`) only when that name is already taken, except that a user's variable `out` has
 * the gradient `d_out`, beside the upstream `dout`. Deterministic: names are handed out in
 * the order the symbols first appear in the emitted code.
 */
import { forEachSym, type Sym } from "../ir/expr.ts";
import type { CodeFunction, CodeStmt } from "../ir/code.ts";

const KEYWORDS = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if import in instanceof new null return super switch this throw true try " +
    "typeof var void while with as implements interface let package private protected public static " +
    "yield await async of undefined NaN Infinity arguments eval").split(" "),
);

export function assignNames(fn: CodeFunction, moduleNames: Iterable<string>): (s: Sym) => string {
  const taken = new Set<string>([...KEYWORDS, ...fn.reserved, ...moduleNames]);
  const names = new Map<Sym, string>();
  // where the search for `hint_k` resumes: every `hint_j` below it is taken (and `taken` only
  // grows), so a function with thousands of `sin`s is not a search from `sin_1` for each
  const nextSuffix = new Map<string, number>();
  const pick = (hint: string) => {
    let name = hint;
    if (taken.has(name)) {
      let k = nextSuffix.get(hint) ?? 1;
      while (taken.has(`${hint}_${k}`)) k++;
      name = `${hint}_${k}`;
      nextSuffix.set(hint, k + 1);
    }
    taken.add(name);
    return name;
  };
  /** `dx`, else `dx_1`, ...; but a user's variable `out` has the gradient `d_out`, as `dout` is the upstream gradient. */
  const pickAdjoint = (of: string) => {
    const name = adjointName(of);
    if (name === names.get(fn.dout.sym) && !taken.has(`d_${of}`)) {
      taken.add(`d_${of}`);
      return `d_${of}`;
    }
    return pick(name);
  };
  const nameOf = (s: Sym): string => {
    let name = names.get(s);
    if (name === undefined) {
      name = s.user ? s.hint : s.adjointOf ? pickAdjoint(nameOf(s.adjointOf)) : s.tangentOf ? pick(`${nameOf(s.tangentOf)}_dot`) : pick(s.hint);
      names.set(s, name);
    }
    return name;
  };
  for (const p of fn.params) nameOf(p.sym);
  nameOf(fn.dout.sym);
  if (fn.into) nameOf(fn.into.sym);
  const visit = (stmts: readonly CodeStmt[]) => {
    for (const s of stmts) {
      switch (s.k) {
        case "decl": nameOf(s.sym); if (s.init) forEachSym(s.init, nameOf); break;
        case "assign": nameOf(s.sym); if (s.index) forEachSym(s.index, nameOf); forEachSym(s.expr, nameOf); break;
        case "expr": forEachSym(s.expr, nameOf); break;
        case "loop": if (s.index) { nameOf(s.index.sym); forEachSym(s.index.init, nameOf); } forEachSym(s.cond, nameOf); visit(s.body); break;
        case "if": forEachSym(s.cond, nameOf); visit(s.then); visit(s.else); break;
        case "comment": s.text.forEach((t) => typeof t !== "string" && nameOf(t)); break;
        case "return": forEachSym(s.value, nameOf); s.grad.forEach(([, g]) => forEachSym(g, nameOf)); if (s.tangent) forEachSym(s.tangent, nameOf); s.hvp?.forEach(([, h]) => forEachSym(h, nameOf)); break;
        default: break;
      }
    }
  };
  visit(fn.body);
  return nameOf;
}

/** `d` + the name, or `d_` + the name where that would be a keyword (`o` → `d_o`, not `do`). */
function adjointName(of: string): string {
  return KEYWORDS.has(`d${of}`) ? `d_${of}` : `d${of}`;
}
