/**
 * Names: the one place tsgrad makes them up, from the symbols the transforms create to the
 * text emit prints.
 *
 * - Symbols (`Symbols`): every variable tsgrad adds is a fresh symbol with a hint of what it
 *   holds; a function's transforms share one maker, and a later stage one that starts past
 *   every symbol the function uses (`symbolsAfter`).
 * - Hints: a value's adjoint is `d` + its name (`adjointName`), a tangent `name_dot`
 *   (`tangentName`), a later version of a user's variable `name_2` (`versionName`), and the
 *   variables the transforms add for a name: its tape `hs`, its next value `hNext` (a loop
 *   variable's, or a carried neighbour's gradient `dxNext`), its checkpoints `hCheckpoints`, ...
 * - Fresh names (`firstFree`): a name is the hint where it is free, else the hint with the
 *   first free counter suffix, `dx_1`, `dx_2` (`suffixed`). The parser's names for the
 *   variables it adds (`done`, `max`, `i`) and the generated module's imports are picked so too.
 * - Text (`assignNames`, `Namer`): the user's names are kept exactly; every other variable
 *   gets its hint, with a counter suffix (`dx_1`) only when that name is already taken, except
 *   that a user's variable `out` has the gradient `d_out`, beside the upstream `dout`.
 *   Deterministic: names are handed out in the order the symbols first appear in the emitted
 *   code. Module-level names (a runtime import renamed, the `@into` helper) are picked the same way.
 */
import { forEachSym, type Sym } from "../ir/expr.ts";
import type { CodeFunction, CodeStmt } from "../ir/code.ts";
import { usesOf } from "../analyses/uses.ts";

const KEYWORDS = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if import in instanceof new null return super switch this throw true try " +
    "typeof var void while with as implements interface let package private protected public static " +
    "yield await async of undefined NaN Infinity arguments eval").split(" "),
);

/** Makes fresh symbols, numbered from `next` on. */
export class Symbols {
  constructor(private next = 0) {}

  fresh(hint: string, user = false, adjointOf?: Sym): Sym {
    return { id: this.next++, hint, user, adjointOf };
  }
}

/** A maker of symbols that cannot be any the statements (or the given parameters) use. */
export function symbolsAfter(stmts: readonly CodeStmt[], params: readonly Sym[]): Symbols {
  let last = Math.max(0, ...params.map((p) => p.id));
  const see = (s: Sym) => { last = Math.max(last, s.id); };
  for (const s of stmts) {
    const u = usesOf([s]);
    for (const set of [u.reads, u.writes, u.sums, u.decls]) set.forEach(see);
  }
  return new Symbols(last + 1);
}

/** `d` + the name, or `d_` + the name where that would be a keyword (`o` → `d_o`, not `do`). */
export function adjointName(of: string): string {
  return KEYWORDS.has(`d${of}`) ? `d_${of}` : `d${of}`;
}

/** A tangent's name in forward mode: `x_dot`. */
export function tangentName(of: string): string {
  return `${of}_dot`;
}

/** The one suffix style of names tsgrad makes up: `dx_1`, a version `s_2`. */
export function suffixed(name: string, k: number): string {
  return `${name}_${k}`;
}

/**
 * `hint` where it is free, else `hint_k` for the first free k from `from` on; `k` is 0 for
 * the hint itself. The one notion of a fresh name: `Namer`, the parser's variables, imports.
 */
export function firstFree(hint: string, taken: (name: string) => boolean, from = 1): { name: string; k: number } {
  if (!taken(hint)) return { name: hint, k: 0 };
  let k = from;
  while (taken(suffixed(hint, k))) k++;
  return { name: suffixed(hint, k), k };
}

/** A later version of a user's variable, where it cannot share the variable: `s_2`. */
export function versionName(name: string, version: number): string {
  return suffixed(name, version);
}

/** What a loop saves of a variable, one value per iteration: `hs`. */
export function tapeName(of: string): string {
  return `${of}s`;
}

/**
 * A next value kept apart: a loop variable's, saved (`hNext`) or waiting while another
 * assignment reads the variable; a neighbour's gradient carried to the next iteration
 * (transforms/carry.ts: `dxNext`).
 */
export function nextName(of: string): string {
  return `${of}Next`;
}

/** A checkpointed loop variable's values at the segments' starts: `hCheckpoints`. */
export function checkpointsName(of: string): string {
  return `${of}Checkpoints`;
}

/** The gradients a custom backward returns together: `fGrads`. */
export function gradsName(of: string): string {
  return `${of}Grads`;
}

/** A whole array's gradient contribution, stored before it is added element by element: `dxPart`. */
export function partName(of: string): string {
  return `${of}Part`;
}

/** Hands out names among taken ones: `firstFree` (the hint itself, else `hint_1`, `hint_2`, ...). */
export class Namer {
  private readonly taken: Set<string>;
  // where the search for `hint_k` resumes: every `hint_j` below it is taken (and `taken` only
  // grows), so a function with thousands of `sin`s is not a search from `sin_1` for each
  private readonly nextSuffix = new Map<string, number>();

  constructor(taken: Iterable<string>) {
    this.taken = new Set(taken);
  }

  has(name: string): boolean {
    return this.taken.has(name);
  }

  take(name: string): string {
    this.taken.add(name);
    return name;
  }

  pick(hint: string): string {
    const { name, k } = firstFree(hint, (n) => this.taken.has(n), this.nextSuffix.get(hint) ?? 1);
    if (k > 0) this.nextSuffix.set(hint, k + 1);
    return this.take(name);
  }
}

export function assignNames(fn: CodeFunction, moduleNames: Iterable<string>): (s: Sym) => string {
  const namer = new Namer([...KEYWORDS, ...fn.reserved, ...moduleNames]);
  const names = new Map<Sym, string>();
  /** `dx`, else `dx_1`, ...; but a user's variable `out` has the gradient `d_out`, as `dout` is the upstream gradient. */
  const pickAdjoint = (of: string) => {
    const name = adjointName(of);
    if (name === names.get(fn.dout.sym) && !namer.has(`d_${of}`)) return namer.take(`d_${of}`);
    return namer.pick(name);
  };
  const nameOf = (s: Sym): string => {
    let name = names.get(s);
    if (name === undefined) {
      name = s.user ? s.hint : s.adjointOf ? pickAdjoint(nameOf(s.adjointOf)) : s.tangentOf ? namer.pick(tangentName(nameOf(s.tangentOf))) : namer.pick(s.hint);
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
