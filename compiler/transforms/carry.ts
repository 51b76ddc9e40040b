/**
 * Carrying a neighbour's gradient to the next iteration: a loop over neighbours (`x[i]` and
 * `x[i + 1]`, as in Rosenbrock, a finite difference, a smoothing stencil) adds to two
 * elements of the gradient every iteration, and the element one iteration adds to second
 * is the one the next iteration adds to first. Each `+=` on an element is a load and a
 * store; the second is kept in a variable instead, and added where the next iteration adds
 * to that element anyway, as a person writes it by hand:
 *
 *                                                   let dxNext = 0;
 *   for (let i = 0; i < x.length - 1; i++) {        for (let i = 0; i < x.length - 1; i++) {
 *     ...                                             ...
 *     dx[i] += 2 * x[i] * dpow - ddiff_1;    ==>      dx[i] += 2 * x[i] * dpow - ddiff_1 + dxNext;
 *     dx[i + 1] += ddiff;                             dxNext = ddiff;
 *   }                                               }
 *                                                   dx[x.length - 1] += dxNext;
 *
 * After the loop the variable holds what the last iteration added to the element after
 * it, added where the loop ends (`i < n`: at n + offset). When the loop does not run the
 * variable is 0, and that element may be past the end: gradients are Float64Arrays, for
 * which a write past the end does nothing. So only gradients are carried (backward-pass
 * sums into an adjoint), of a counted loop whose end is a bound that its body does not
 * change, when the loop's body touches the gradient nowhere else and the first sum into
 * the earlier element comes before the sums into the later one. The value can change only
 * in the last bits, from the order of the additions.
 */
import { add, forEachSym, neg, num, ref, sub, type Ex, type Sym } from "../ir/expr.ts";
import { mapBlocks, type CodeStmt } from "../ir/code.ts";
import { mutates, usesOf } from "../analyses/uses.ts";
import { nextName } from "../emit/names.ts";

type Assign = Extract<CodeStmt, { k: "assign" }> & { index: Ex };
type Loop = Extract<CodeStmt, { k: "loop" }>;

/** Carries neighbour sums in every loop of `stmts`; `fresh` makes the carrying variables. */
export function carrySums(stmts: readonly CodeStmt[], fresh: (hint: string) => Sym): CodeStmt[] {
  const out: CodeStmt[] = [];
  for (const s of mapBlocks(stmts, (b) => carrySums(b, fresh))) {
    if (s.k === "loop") out.push(...carryLoop(s, fresh, (x) => zeroUntilHere(out, x)));
    else out.push(s);
  }
  return out;
}

/**
 * Whether the gradient `x` holds only zeros where the statements `before` end: it is
 * declared among them as a new Float64Array (or a given buffer filled with 0) and nothing
 * after its declaration mentions it.
 */
function zeroUntilHere(before: readonly CodeStmt[], x: Sym): boolean {
  const at = before.findIndex((s) => s.k === "decl" && s.sym === x);
  if (at < 0) return false;
  const decl = before[at] as Extract<CodeStmt, { k: "decl" }>;
  if (decl.init === null || !isZeros(decl.init)) return false;
  const u = usesOf(before.slice(at + 1));
  return ![u.reads, u.writes, u.sums, u.decls].some((set) => set.has(x));
}

/** `new Float64Array(x.length)` (or of a number), or `into?.x?.fill(0) ?? new Float64Array(x.length)`. */
function isZeros(e: Ex): boolean {
  if (e.k === "new") return e.ctor === "Float64Array" && e.args.length === 1 && (e.args[0]!.k === "num" || (e.args[0]!.k === "prop" && e.args[0]!.name === "length"));
  if (e.k === "bin" && e.op === "??") return e.a.k === "method" && e.a.name === "fill" && e.a.args.length === 1 && e.a.args[0]!.k === "num" && e.a.args[0]!.value === 0 && isZeros(e.b);
  return false;
}

/** `i + c` as c, `i` as 0, `i - c` as -c; null for any other index. */
function offsetOf(e: Ex, i: Sym): number | null {
  if (e.k === "ref") return e.sym === i ? 0 : null;
  if (e.k === "bin" && (e.op === "+" || e.op === "-") && e.a.k === "ref" && e.a.sym === i && e.b.k === "num" && Number.isInteger(e.b.value)) {
    return e.op === "+" ? e.b.value : -e.b.value;
  }
  return null;
}

/** The first index at which the loop's condition fails, if its bound is one the body cannot change. */
function endOf(loop: Loop, i: Sym): Ex | null {
  const c = loop.cond;
  if (c.k !== "bin" || c.a.k !== "ref" || c.a.sym !== i || mutates(c.b)) return null;
  const body = usesOf(loop.body);
  let stable = true;
  forEachSym(c.b, (s) => { if (s === i || body.writes.has(s) || body.sums.has(s) || body.decls.has(s)) stable = false; });
  if (!stable) return null;
  const up = loop.index!.step === 1;
  if (up && c.op === "<") return c.b;
  if (up && c.op === "<=") return add(c.b, num(1));
  if (!up && c.op === ">=") return sub(c.b, num(1));
  if (!up && c.op === ">") return c.b;
  return null;
}

function carryLoop(loop: Loop, fresh: (hint: string) => Sym, zeroHere: (x: Sym) => boolean): CodeStmt[] {
  if (!loop.index) return [loop];
  const i = loop.index.sym;
  const end = endOf(loop, i);
  if (end === null || usesOf(loop.body).writes.has(i) || usesOf(loop.body).sums.has(i)) return [loop];
  let body = loop.body;
  const before: CodeStmt[] = [];
  const after: CodeStmt[] = [];
  const arrays = new Set(body.filter(isGradientSum).map((s) => s.sym));
  for (const x of arrays) {
    const sums = body.map((s, k) => [s, k] as const).filter(([s]) => isGradientSum(s) && s.sym === x) as (readonly [Assign, number])[];
    // nothing else in the body may touch the gradient
    const rest = usesOf(body.filter((s) => !(isGradientSum(s) && s.sym === x)));
    if (rest.reads.has(x) || rest.writes.has(x) || rest.sums.has(x) || rest.decls.has(x)) continue;
    if (sums.some(([s]) => { let reads = false; forEachSym(s.expr, (t) => { reads ||= t === x; }); forEachSym(s.index, (t) => { reads ||= t === x; }); return reads; })) continue;
    const offsets = [...new Set(sums.map(([s]) => offsetOf(s.index, i)))];
    if (offsets.length !== 2 || offsets.includes(null)) continue;
    const step = loop.index.step;
    // the earlier element (this iteration's own) and the later one (the next iteration's)
    const first = step === 1 ? Math.min(...(offsets as number[])) : Math.max(...(offsets as number[]));
    const later = first + step;
    if (!offsets.includes(later)) continue;
    const own = sums.filter(([s]) => offsetOf(s.index, i) === first);
    const next = sums.filter(([s]) => offsetOf(s.index, i) === later);
    if (next.some(([, k]) => k < own[0]![1])) continue;
    const carried = fresh(nextName(x.hint));
    // (the loop's other sums into the earlier element still add to what the first stored)
    const zero = zeroHere(x);
    const signed = (s: Assign): Ex => (s.op === "-=" ? neg(s.expr) : s.expr);
    body = body.map((s, k): CodeStmt => {
      const a = s as Assign;
      // on a gradient of zeros each element is first reached here: a store, not a load and a store
      if (k === own[0]![1]) {
        const e = signed(a);
        return { ...a, op: zero ? "=" : "+=", expr: e.k === "neg" ? sub(ref(carried), e.a) : add(e, ref(carried)) };
      }
      const n = next.findIndex(([, j]) => j === k);
      if (n < 0) return s;
      // the first sum into the later element starts the variable, the others add to it
      return { k: "assign", op: n === 0 ? "=" : a.op, sym: carried, expr: n === 0 ? signed(a) : a.expr, role: a.role, origin: a.origin };
    });
    before.push({ k: "decl", mutable: true, sym: carried, init: num(0), role: "backward", origin: next[0]![0].origin });
    after.push({ k: "assign", op: "+=", sym: x, index: first < 0 ? sub(end, num(-first)) : add(end, num(first)), expr: ref(carried), role: "backward", origin: next[0]![0].origin });
  }
  if (before.length === 0) return [loop];
  return [...before, { ...loop, body }, ...after];
}

/** `dx[j] += e` or `dx[j] -= e` in the backward pass, into an adjoint (a Float64Array), where `e` changes nothing. */
function isGradientSum(s: CodeStmt): s is Assign {
  return s.k === "assign" && s.index !== undefined && s.role === "backward" && s.sym.adjointOf !== undefined &&
    (s.op === "+=" || s.op === "-=") && !mutates(s.expr) && !mutates(s.index);
}

