/**
 * The second half of reverse mode's `adjoints` stage: the raw contributions of ./adjoints.ts
 * become statements. Contributions to one variable are summed in one place (the first
 * `const dx = ...` or `let`, later ones `dx += ...`); what a branch or loop adds to is
 * declared before it; a loop's carried adjoints are reassigned at the end of its body.
 * Then two clean-ups on the result: carries folded into their last computation
 * (`dh = w * dpre`), and an element's `da[i] = 0` merged with the `+=` after it.
 */
import { bool, call, cmp, forEachSym, index, num, printEx, prop, ref, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";
import type { SourceLoc } from "../ir/ir.ts";
import type { TransformContext } from "./context.ts";
import type { Branch, Loop, Raw, Reverser } from "./adjoints.ts";
import { partName } from "../emit/names.ts";

/**
 * Turns contributions into declarations and `+=`. What a branch adds to is declared
 * before it: `let dx: number;` when both arms start by assigning it, else `let dx = 0;`.
 */
export function resolveAdjoints(rev: Reverser, raws: readonly Raw[], declared: Set<number>, unassigned = new Set<number>()): CodeStmt[] {
  const out: CodeStmt[] = [];
  const base = (target: number) => rev.startPhi.get(target) ?? target;
  const declare = (target: number) => {
    declared.add(target);
    out.push({ k: "decl", mutable: !rev.cx.isArray(base(target)), sym: rev.adjointSym(target), init: rev.cx.zeroFor(base(target)), role: "backward" });
  };
  for (const r of raws) {
    if (r.k === "contrib" && r.reads !== undefined && !declared.has(r.reads)) declare(r.reads);
    if (r.k === "contrib" && r.at) {
      if (r.dropped) continue;
      if (!declared.has(r.target)) declare(r.target);
      out.push({ k: "assign", op: r.set ? "=" : "+=", sym: rev.adjointSym(r.target), index: r.at, expr: r.expr, role: "backward", origin: r.loc });
      continue;
    }
    if (r.k === "shared") {
      out.push({ k: "decl", mutable: false, sym: r.sym, init: r.expr, role: "backward", origin: r.loc });
      continue;
    }
    if (r.k === "contrib" && rev.cx.isArray(base(r.target))) {
      // a whole array's gradient (from a custom backward): the only one is taken as it is,
      // more are added element by element into an array of zeros
      if (r.dropped) continue;
      const sym = rev.adjointSym(r.target);
      const count = rev.byTarget.get(r.target)!.filter((c) => !c.dropped).length;
      // (an array result's gradient starts as a copy of dout, which later writes may change)
      const fresh = r.expr.k === "new" && r.expr.ctor === "Float64Array";
      // (under `@into`, a parameter's gradient goes into the caller's array: added, not taken)
      if (!declared.has(r.target) && (count === 1 || fresh) && rev.cx.intoParam(base(r.target)) === null) {
        declared.add(r.target);
        // another array's gradient is a Float64Array already; a custom backward's array (a
        // `number[]`, say) is copied into one, the type every array's gradient has
        const taken = fresh || (r.expr.k === "ref" && rev.arrayAdjoints.has(r.expr.sym)) ? r.expr : call("Float64Array.from", r.expr);
        out.push({ k: "decl", mutable: false, sym, init: taken, role: "backward", origin: r.loc });
        continue;
      }
      if (!declared.has(r.target)) declare(r.target);
      out.push(...addArray(rev.cx, sym, r.expr, r.loc));
      continue;
    }
    if (r.k === "contrib") {
      if (r.dropped) continue;
      const sym = rev.adjointSym(r.target);
      if (unassigned.delete(r.target)) {
        out.push({ k: "assign", op: "=", sym, expr: r.expr, role: "backward", origin: r.loc });
      } else if (declared.has(r.target)) {
        out.push(rev.cx.isTensor(base(r.target))
          ? { k: "assign", op: "=", sym, expr: rev.cx.sum(base(r.target), ref(sym), r.expr), role: "backward", origin: r.loc }
          : { k: "assign", op: "+=", sym, expr: r.expr, role: "backward", origin: r.loc });
      } else {
        declared.add(r.target);
        const count = rev.byTarget.get(r.target)!.filter((c) => !c.dropped).length;
        out.push({ k: "decl", mutable: !rev.cx.isArray(r.target) && (count > 1 || rev.carriedPhis.has(r.target)), sym, init: r.expr, role: "backward", origin: r.loc });
      }
      continue;
    }
    if (r.k === "loop") {
      for (const c of r.carried) if (!declared.has(c.phi)) declare(c.phi);
      // what the body adds to from outside is declared before it, an enclosing loop's
      // iteration-start adjoints too (only this loop's own live inside its body)
      const own = new Set(r.carried.map((c) => c.start));
      for (const target of targetsOf(r)) if (!r.inner.has(target) && !own.has(target) && !declared.has(target)) declare(target);
      const body = resolveAdjoints(rev, r.body, new Set([...declared, ...r.nexts]));
      for (const c of r.carried) {
        const expr = rev.contributed.has(c.start) ? rev.adjointEx(c.start) : rev.cx.zeroFor(c.phi);
        body.push({ k: "assign", op: "=", sym: rev.adjointSym(c.phi), expr, role: "backward", origin: r.loc });
      }
      const folded = foldCarries(body, r.carried.length);
      // a loop whose reversal does nothing (it only adds constants to an array) is left out
      if (folded.length > 0) out.push({ k: "loop", cond: bool(true), body: folded, role: "backward", origin: r.loc, source: r.loop });
      continue;
    }
    const split = new Set<number>();
    const startThen = assignedFirst(r.then);
    const startElse = assignedFirst(r.else);
    for (const target of targetsOf(r)) {
      if (r.inner.has(target) || declared.has(target)) continue;
      if (rev.cx.isArray(base(target))) {
        declare(target);
        continue;
      }
      declared.add(target);
      const sym = rev.adjointSym(target);
      if (startThen.has(target) && startElse.has(target)) {
        split.add(target);
        out.push({ k: "decl", mutable: true, sym, init: null, type: rev.cx.typeText(base(target)), role: "backward" });
      } else {
        out.push({ k: "decl", mutable: true, sym, init: rev.cx.zeroFor(base(target)), role: "backward" });
      }
    }
    out.push({
      k: "if", cond: r.cond, role: "backward", origin: r.loc,
      then: resolveAdjoints(rev, r.then, new Set(declared), new Set(split)),
      else: resolveAdjoints(rev, r.else, new Set(declared), new Set(split)),
    });
  }
  return mergeClears(out);
}

/** `for (let i = 0; i < dx.length; i++) dx[i] += g[i];`, with `g` stored first unless it is a variable. */
function addArray(cx: TransformContext, sym: Sym, expr: Ex, loc: SourceLoc): CodeStmt[] {
  const out: CodeStmt[] = [];
  let from = expr;
  if (!(expr.k === "ref" || (expr.k === "index" && expr.a.k === "ref"))) {
    const part = cx.fresh(partName(sym.hint));
    out.push({ k: "decl", mutable: false, sym: part, init: expr, role: "backward", origin: loc });
    from = ref(part);
  }
  const i = cx.fresh("i");
  out.push({
    k: "loop", index: { sym: i, init: num(0), step: 1 }, cond: cmp("<", ref(i), prop(ref(sym), "length")),
    body: [{ k: "assign", op: "+=", sym, index: ref(i), expr: index(from, ref(i)), role: "backward", origin: loc }],
    role: "backward", origin: loc,
  });
  return out;
}

/** Adjoints whose first contribution in an arm is a plain statement (not inside a nested branch). */
function assignedFirst(raws: readonly Raw[]): Set<number> {
  const seen = new Set<number>();
  const first = new Set<number>();
  for (const r of raws) {
    if (r.k === "shared") continue;
    if (r.k === "contrib") {
      if (r.dropped) continue;
      if (!seen.has(r.target) && !r.at) first.add(r.target);
      seen.add(r.target);
    } else {
      for (const t of targetsOf(r)) seen.add(t);
      if (r.k === "loop") for (const c of r.carried) seen.add(c.phi);
    }
  }
  return first;
}

/** The adjoints a branch or loop adds to, in order of first contribution. */
function targetsOf(r: Branch | Loop): number[] {
  const seen: number[] = [];
  const visit = (raws: readonly Raw[]) => {
    for (const x of raws) {
      if (x.k === "shared") continue;
      if (x.k === "if") visit([...x.then, ...x.else]);
      else if (x.k === "loop") {
        for (const c of x.carried) if (!seen.includes(c.phi)) seen.push(c.phi);
        // a loop's iteration-start adjoints live inside its body
        const starts = new Set(x.carried.map((c) => c.start));
        const before = seen.length;
        visit(x.body);
        for (let k = seen.length - 1; k >= before; k--) if (starts.has(seen[k]!)) seen.splice(k, 1);
      } else {
        if (x.reads !== undefined && !seen.includes(x.reads)) seen.push(x.reads);
        if (!x.dropped && !seen.includes(x.target)) seen.push(x.target);
      }
    }
  };
  visit(r.k === "if" ? [...r.then, ...r.else] : r.body);
  return seen;
}

/**
 * `const dh_1 = w * dpre; ...; dh = dh_1` at the end of a reversed loop body becomes
 * `dh = w * dpre` when nothing in between reads `dh` or `dh_1`.
 */
function foldCarries(body: CodeStmt[], carries: number): CodeStmt[] {
  const out = [...body];
  for (let i = out.length - 1; i >= out.length - carries && i >= 0; i--) {
    const carry = out[i]!;
    if (carry.k !== "assign" || carry.op !== "=" || carry.index || carry.expr.k !== "ref") continue;
    const from = carry.expr.sym;
    const j = out.findIndex((s) => s.k === "decl" && s.sym === from && !s.mutable && s.init);
    if (j < 0 || j >= i) continue;
    const others = out.filter((_, k) => k !== j && k !== i);
    if (others.some((s) => reads(s, from))) continue;
    const between = out.slice(j + 1);
    if (between.some((s, k) => k + j + 1 !== i && (reads(s, carry.sym) || (s.k === "assign" && s.sym === carry.sym)))) continue;
    const decl = out[j] as Extract<CodeStmt, { k: "decl" }>;
    out[j] = { k: "assign", op: "=", sym: carry.sym, expr: decl.init!, role: "backward", origin: decl.origin };
    out.splice(i, 1);
  }
  return out.filter((s) => !(s.k === "assign" && s.op === "=" && !s.index && s.expr.k === "ref" && s.expr.sym === s.sym));
}

/**
 * `da[i] = 0; ...; da[i] += e` — an element write undone, then the element read before it
 * (`a[i] = a[i] / total`) — becomes `da[i] = e` where the read was, when nothing in between
 * touches `da`.
 */
function mergeClears(stmts: readonly CodeStmt[]): CodeStmt[] {
  const out = [...stmts];
  const key = (e: Ex) => printEx(e, (x) => `#${x.id}`);
  for (let i = 0; i < out.length; i++) {
    const clear = out[i]!;
    if (clear.k !== "assign" || clear.op !== "=" || !clear.index || clear.expr.k !== "num" || clear.expr.value !== 0) continue;
    for (let j = i + 1; j < out.length; j++) {
      const s = out[j]!;
      if (s.k === "assign" && s.op === "+=" && s.sym === clear.sym && s.index && key(s.index) === key(clear.index)) {
        out[j] = { ...s, op: "=" };
        out.splice(i, 1);
        i--;
        break;
      }
      const moved: Sym[] = [];
      forEachSym(clear.index, (x) => moved.push(x));
      if (reads(s, clear.sym) || writes(s, clear.sym) || moved.some((x) => writes(s, x))) break;
    }
  }
  return out;
}

/** Whether a statement assigns `sym` (or an element of it), at any depth. */
function writes(s: CodeStmt, sym: Sym): boolean {
  switch (s.k) {
    case "decl": case "assign": return s.sym === sym;
    case "if": return [...s.then, ...s.else].some((t) => writes(t, sym));
    case "loop": return s.body.some((t) => writes(t, sym));
    default: return false;
  }
}

function reads(s: CodeStmt, sym: Sym): boolean {
  let found = false;
  const check = (e: Ex) => forEachSym(e, (x) => { if (x === sym) found = true; });
  switch (s.k) {
    case "decl": if (s.init) check(s.init); break;
    case "assign": check(s.expr); if (s.index) check(s.index); if (s.op === "+=" && s.sym === sym) found = true; break;
    case "if": check(s.cond); found ||= [...s.then, ...s.else].some((t) => reads(t, sym)); break;
    case "loop": check(s.cond); found ||= s.body.some((t) => reads(t, sym)); break;
    case "expr": check(s.expr); break;
    default: break;
  }
  return found;
}
