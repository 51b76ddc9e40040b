/**
 * Loop fusion: a counted loop whose backward pass only accumulates runs its backward body
 * inside the forward loop, one iteration at a time, the way a person writes it by hand:
 *
 *   for (let i = 0; i < n - 1; i++) {            for (let i = 0; i < n - 1; i++) {
 *     s += f(x[i]);                                 s += f(x[i]);
 *   }                                      ==>
 *   let ds = dout;                                  dx[i] += f'(x[i]) * ds;
 *   for (let i = n - 2; i >= 0; i--) {           }
 *     dx[i] += f'(x[i]) * ds;
 *   }
 *
 * It works on the code IR after reverse mode, and only where the result cannot change
 * (beyond the order in which floating-point contributions are summed):
 * - both loops sit in one block and come from one IR loop, counted: at the top level of the
 *   function, or, once an outer loop has fused, a nested loop's pair inside its body;
 * - the backward body writes nothing but sums (`dx[i] += e`, `dw += e`) it never reads,
 *   and reads nothing the forward loop writes (a carried variable, an array written in the
 *   loop) except values saved per iteration, which it then takes straight from the
 *   forward body (their tape goes);
 * - what the backward body reads from the code between the loops (`ds = dout`, a zeroed
 *   gradient buffer) can be computed before the forward loop: it does not depend on
 *   anything the loop computes. A reduction returned through `Math.log(s)` does, and stays
 *   two loops; a number gradient whose first value does (`dw = s * dout` for `w * s`)
 *   starts at zero above the loop and has that value added after it.
 */
import { forEachNode, num, ref, replaceEx, type Ex, type Sym } from "../ir/expr.ts";
import { forEachExpr, mapBlocks, type CodeStmt } from "../ir/code.ts";
import { mutates, someAssign, usesOf, type Uses } from "../analyses/uses.ts";

type Loop = Extract<CodeStmt, { k: "loop" }>;
type Decl = Extract<CodeStmt, { k: "decl" }>;

/**
 * Fuses every pair it can, first pair first, until none is left; then, inside each loop and
 * branch, the pairs there (a nested loop's forward and backward loops, once the outer loop
 * has fused, sit in the same body).
 */
export function fuseLoops(body: readonly CodeStmt[]): CodeStmt[] {
  return mapBlocks(fuseBlock(body), fuseLoops);
}

/** Fuses the pairs of one block. */
function fuseBlock(body: readonly CodeStmt[]): CodeStmt[] {
  let current = [...body];
  for (;;) {
    let next: CodeStmt[] | null = null;
    for (let b = 0; b < current.length && next === null; b++) {
      const B = current[b]!;
      if (B.k !== "loop" || B.role !== "backward" || !B.source || B.index?.step !== -1) continue;
      const f = current.findIndex((s, k) => k < b && s.k === "loop" && s.role === "forward" && s.source === B.source);
      if (f >= 0 && (current[f] as Loop).index?.step === 1 && (current[f] as Loop).index!.sym === B.index.sym) next = fusePair(current, f, b);
    }
    if (next === null) return current;
    current = next;
  }
}

/**
 * Stacks a nested loop saves into (`const tanhs: number[] = []`, declared before the loop):
 * the forward body only pushes onto them and the backward body only pops, so each fused
 * iteration pops what it pushed, and they never hold more than one iteration's values.
 */
function stacksOf(before: readonly CodeStmt[], forward: readonly CodeStmt[], backward: readonly CodeStmt[], rest: readonly CodeStmt[]): Set<Sym> {
  const stacks = new Set<Sym>();
  for (const s of before) if (s.k === "decl" && s.init?.k === "list" && s.init.items.length === 0) stacks.add(s.sym);
  const only = (stmts: readonly CodeStmt[], op: string | null) => forEachExpr(stmts, (e) => {
    const allowed = new Set<Ex>();
    forEachNode(e, (x) => { if (x.k === "method" && x.a.k === "ref" && x.name === op) allowed.add(x.a); });
    forEachNode(e, (x) => { if (x.k === "ref" && stacks.has(x.sym) && !allowed.has(x)) stacks.delete(x.sym); });
  });
  only(forward, "push");
  only(backward, "pop");
  only(rest, null);
  // a declaration or assignment of the stack itself is more than a push or a pop
  for (const stmts of [forward, backward, rest]) {
    const u = usesOf(stmts);
    for (const t of [...stacks]) if (u.decls.has(t) || someAssign(stmts, (a) => a.sym === t)) stacks.delete(t);
  }
  return stacks;
}


const free = (u: Uses, s: Sym) => !u.decls.has(s);

function fusePair(body: readonly CodeStmt[], f: number, b: number): CodeStmt[] | null {
  const F = body[f] as Loop;
  const B = body[b] as Loop;
  const between = body.slice(f + 1, b);
  const fTop = new Map<Sym, Decl>();
  for (const s of F.body) if (s.k === "decl") fTop.set(s.sym, s);
  const fUses = usesOf(F.body);
  const fChanges = new Set([...fUses.writes, ...fUses.sums].filter((s) => free(fUses, s)));

  // the backward body's own copies of forward values (restored from a tape, or recomputed)
  // are the forward body's values themselves once both run in one iteration
  const bBody: CodeStmt[] = [];
  for (const s of B.body) {
    if (s.k === "decl" && fTop.has(s.sym)) {
      if (fTop.get(s.sym)!.mutable && !restoresLastValue(F.body, s)) return null;
      continue;
    }
    if (s.k === "decl" && (fUses.reads.has(s.sym) || fUses.decls.has(s.sym) || fChanges.has(s.sym))) return null;
    bBody.push(s);
  }
  const bUses = usesOf(bBody);
  const stacks = stacksOf(body.slice(0, f), F.body, bBody, [...between, ...body.slice(b + 1)]);
  for (const t of stacks) fChanges.delete(t);
  const bFree = (s: Sym) => free(bUses, s) && s !== F.index!.sym && !fTop.has(s) && !stacks.has(s);
  // only sums leave the backward body, and nothing in it reads them
  if ([...bUses.writes].some(bFree)) return null;
  const sums = [...bUses.sums].filter(bFree);
  if (sums.some((s) => bUses.reads.has(s) || fUses.reads.has(s) || fChanges.has(s))) return null;
  const reads = [...bUses.reads].filter(bFree);
  if (reads.some((s) => fChanges.has(s) || (fUses.decls.has(s) && !fTop.has(s)))) return null;

  // what the backward body needs from between the loops moves above the forward loop
  const mUses = usesOf(between);
  const mChanges = new Set([...mUses.writes, ...mUses.sums]);
  const declaredBetween = new Map<Sym, number>();
  between.forEach((s, k) => { if (s.k === "decl") declaredBetween.set(s.sym, k); });
  const hoist = new Set<number>();
  const need = (s: Sym): boolean => {
    const k = declaredBetween.get(s);
    if (k === undefined) return true; // from before the forward loop, or a parameter
    if (hoist.has(k)) return true;
    const d = between[k] as Decl;
    hoist.add(k);
    if (!d.init) return true;
    const u = usesOf([d]);
    if (u.writes.size > 0) return false;
    return [...u.reads].every((r) => !fChanges.has(r) && !mChanges.has(r) && !fUses.decls.has(r) && need(r));
  };
  for (const s of reads) if (mChanges.has(s) || !need(s)) return null;
  // a scalar sum whose first value between the loops depends on the loop (`let dw = s * dout`)
  // starts at zero above the loop instead, and that value is added where it was
  const split = new Map<number, CodeStmt[]>();
  for (const s of sums) {
    const tried = new Set(hoist);
    if (need(s)) continue;
    hoist.clear();
    tried.forEach((k) => hoist.add(k));
    const k = declaredBetween.get(s);
    const d = k === undefined ? null : (between[k] as Decl);
    // (an array's gradient is summed by element: `dx[i] += ...`)
    const scalar = !someAssign(bBody, (a) => a.sym === s && a.index !== undefined);
    if (k === undefined || !d || !d.mutable || !d.init || !scalar) return null;
    split.set(k, [
      { k: "decl", mutable: true, sym: s, init: num(0), role: "backward" },
      { k: "assign", op: "+=", sym: s, expr: d.init, role: "backward", ...(d.origin ? { origin: d.origin } : {}) },
    ]);
    hoist.add(k);
  }
  for (const s of sums) {
    // between the loops a sum may only be added to (its order changes, not its value)
    const u = usesOf(between.filter((_, k) => !hoist.has(k)));
    if (u.reads.has(s) || u.writes.has(s)) return null;
  }
  const hoisted = between.flatMap((st, k) => (!hoist.has(k) ? [] : split.has(k) ? [split.get(k)![0]!] : [st]));
  if (hoisted.some((d) => d.k === "decl" && fUses.reads.has(d.sym))) return null;

  // a tape (an array declared before the loop, written once per iteration at the top level
  // of the forward body) that nothing reads any more is neither written nor declared
  const tapeWrite = (s: CodeStmt) => (s.k === "assign" && s.index !== undefined && s.op === "=" ? s.sym : null);
  const elsewhere = usesOf([...body.slice(0, f), ...between, ...bBody, ...body.slice(b + 1), ...F.body.filter((s) => tapeWrite(s) === null)]);
  const tapes = new Set(F.body.map(tapeWrite).filter((t): t is Sym => t !== null && !elsewhere.reads.has(t) && !elsewhere.writes.has(t) &&
    !elsewhere.sums.has(t) && body.slice(0, f).some((s) => s.k === "decl" && s.sym === t && s.init !== null && pure(s))));
  const isTapeWrite = (s: CodeStmt) => { const t = tapeWrite(s); return t !== null && tapes.has(t); };
  const isTapeDecl = (s: CodeStmt) => s.k === "decl" && tapes.has(s.sym);

  const fused: Loop = { ...F, body: dropUnread(share(F.body.filter((s) => !isTapeWrite(s)), bBody)) };
  const out = [
    ...body.slice(0, f).filter((s) => !isTapeDecl(s)),
    ...hoisted,
    fused,
    ...between.flatMap((s, k) => (split.has(k) ? [split.get(k)![1]!] : hoist.has(k) || isTapeWrite(s) ? [] : [s])),
    ...body.slice(b + 1),
  ];
  return out;
}

/**
 * Whether `restore` (`const acc = accs[r]`) reads what the forward body saved of its
 * variable at the end of the iteration, after its last change: then, fused, the variable
 * itself holds that value.
 */
function restoresLastValue(forward: readonly CodeStmt[], restore: Decl): boolean {
  const from = restore.init;
  if (from?.k !== "index" || from.a.k !== "ref") return false;
  const tape = from.a.sym;
  let k = -1;
  forward.forEach((s, at) => { if (s.k === "assign" && s.index !== undefined && s.sym === tape && s.expr.k === "ref" && s.expr.sym === restore.sym) k = at; });
  if (k < 0) return false;
  const after = usesOf(forward.slice(k + 1));
  return !after.writes.has(restore.sym) && !after.sums.has(restore.sym);
}

/**
 * Joins the two bodies. A value the backward body recomputes (`const pow = x[i] ** 2`) and
 * the forward body computes inside a larger expression moves up, and the forward body
 * reads it: `s += 100 * diff ** 2 + diff_1 ** 2`, each computed once, in the same order.
 */
function share(forward: readonly CodeStmt[], backward: readonly CodeStmt[]): CodeStmt[] {
  let fwd = [...forward];
  const bwd: CodeStmt[] = [];
  const stayed = new Set<Sym>();
  /** Moved values keep their order. */
  let floor = 0;
  for (const s of backward) {
    if (s.k === "decl" && s.role === "forward" && !s.mutable && s.init && pure(s)) {
      const reads = usesOf([s]).reads;
      if (![...reads].some((r) => stayed.has(r))) {
        let at = floor;
        // after whatever declares or changes what it reads (`acc` after the loop summing it)
        fwd.forEach((t, k) => {
          const u = usesOf([t]);
          if ([...u.decls, ...u.writes, ...u.sums].some((d) => reads.has(d))) at = Math.max(at, k + 1);
        });
        const init = s.init;
        let used = false;
        const later = mapExprs(fwd.slice(at), (e) => {
          const r = replaceEx(e, init, ref(s.sym));
          if (r !== e) used = true;
          return r;
        });
        if (used) {
          fwd = [...fwd.slice(0, at), s, ...later];
          floor = at + 1;
          continue;
        }
      }
    }
    if (s.k === "decl") stayed.add(s.sym);
    bwd.push(s);
  }
  return [...fwd, { k: "blank" }, ...bwd];
}

function mapExprs(stmts: readonly CodeStmt[], f: (e: Ex) => Ex): CodeStmt[] {
  return stmts.map((s): CodeStmt => {
    switch (s.k) {
      case "decl": return s.init ? { ...s, init: f(s.init) } : s;
      case "assign": return { ...s, expr: f(s.expr), ...(s.index ? { index: f(s.index) } : {}) };
      case "expr": return { ...s, expr: f(s.expr) };
      case "if": return { ...s, cond: f(s.cond), then: mapExprs(s.then, f), else: mapExprs(s.else, f) };
      case "loop": return { ...s, cond: f(s.cond), body: mapExprs(s.body, f), ...(s.index ? { index: { ...s.index, init: f(s.index.init) } } : {}) };
      default: return s;
    }
  });
}

/** Drops declarations nothing reads (recomputed values whose forward twin is used instead). */
function dropUnread(stmts: readonly CodeStmt[]): CodeStmt[] {
  let out = [...stmts];
  for (;;) {
    const reads = usesOf(out).reads;
    const kept = out.filter((s) => !(s.k === "decl" && s.init && !reads.has(s.sym) && pure(s)));
    if (kept.length === out.length) return out;
    out = kept;
  }
}

function pure(d: Decl): boolean {
  return !d.init || !mutates(d.init);
}
