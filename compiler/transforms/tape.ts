/**
 * What a loop keeps for its backward pass. The backward body reads some values the forward
 * body computed; for each one:
 * - a value recomputed anywhere (`x[i]`, `i + 1`, a comparison) needs nothing;
 * - a cheap value whose inputs are still at hand (arithmetic on values from outside the
 *   loop and on the loop index) is recomputed at the top of the backward body;
 * - anything else is saved during the forward sweep and restored during the backward one.
 * A counted `for` at the top level of the function saves into preallocated arrays indexed
 * by its index (a value and its next iteration's value share one array of length n + 1);
 * other loops push onto stacks and pop in reverse.
 */
import { add, call, cmp, forEachSym, index, list, method, newOf, nonnull, num, ref, sub, type Ex, type Sym } from "../ir/expr.ts";
import { forEachExpr, type CodeStmt } from "../ir/code.ts";
import type { Atom, LoopStmt, OpStmt, SourceLoc } from "../ir/ir.ts";
import { atMost, costOf, ruleOf } from "../rules/rules.ts";
import type { TransformContext } from "./context.ts";
import { backwardSegments, planCheckpoints, type Checkpoint } from "./checkpoint.ts";
import { nextName, tapeName } from "../emit/names.ts";

export interface Tape {
  readonly sym: Sym;
  /** The element type as written: `number`, `boolean`, `Tensor`. */
  readonly type: string;
  /** Saved at the start of each iteration (a phi), or at its end. */
  readonly phi: number | null;
  readonly end: number | null;
}

export interface LoopPlan {
  readonly loop: LoopStmt;
  /** Runs as `for (let i = lo; i < hi; i++)` forward and `for (let i = hi - 1; i >= lo; i--)` backward. */
  readonly counted: boolean;
  /** Saves into arrays indexed by `i - lo` (else stacks). */
  readonly indexed: boolean;
  readonly tapes: Tape[];
  /** Values recomputed at the top of the backward body, in forward order. */
  readonly recompute: number[];
  /** The index expression of iteration `i` into an indexed tape. */
  readonly slot?: Ex;
  /** The number of iterations of an indexed loop (its tapes' length): one segment's under `@checkpoint`. */
  readonly count?: Ex;
  /** Under `@checkpoint`: the loop keeps its state per segment and recomputes each one (./checkpoint.ts). */
  readonly checkpoint?: Checkpoint;
}

/** What the primal code keeps for the backward pass: the values it reads, and how each loop keeps them. */
export interface TapePlan {
  /** The values the primal code must leave in variables (or save, inside a loop). */
  readonly needed: Set<number>;
  readonly plans: Map<LoopStmt, LoopPlan>;
}

/**
 * Reverse mode's `tape` stage: from the backward statements (before their loops' headers
 * are written), what the forward half keeps — exactly the values the backward half reads —
 * and each loop's plan; under `@checkpoint`, the checkpointed loops' (`fused`: the loops
 * left as they are, ./checkpoint.ts).
 */
export function planTapes(cx: TransformContext, backward: readonly CodeStmt[], fused: ReadonlySet<LoopStmt> | null): TapePlan {
  const needed = new Set<number>();
  const symToValue = new Map<Sym, number>(cx.fn.values.map((v) => [cx.valueSym(v.id), cx.root(v.id)]));
  // what the backward pass reads: all of it (the forward pass keeps it), and per loop what
  // its own backward body reads (planLoops adds what inner loops read and do not restore)
  const readsIn = new Map<LoopStmt, Set<Sym>>();
  const readIn = (loop: LoopStmt | null | undefined, sym: Sym) => {
    if (!loop) return;
    const reads = readsIn.get(loop) ?? new Set<Sym>();
    reads.add(sym);
    readsIn.set(loop, reads);
  };
  forEachExpr(backward, (e, loops) => forEachSym(e, (sym) => {
    const id = symToValue.get(sym);
    if (id !== undefined) needed.add(id);
    readIn(loops[loops.length - 1], sym);
  }));
  // an array is one object: what reads any of its values reads the array
  for (const id of [...needed]) {
    if (cx.isArray(id) && cx.root(id) !== id) {
      needed.delete(id);
      needed.add(cx.root(id));
    }
  }
  // the header of a backward loop (written after planning) reads the count of iterations
  // to undo, or a counted loop's bounds: in the backward body of the loop around it
  for (const loop of cx.loops) {
    if (!hasLoop(backward, loop)) continue;
    const header = runsCounted(cx, loop) ? [cx.loEx(loop), cx.atomEx(loop.counted!.hi)] : [ref(cx.valueSym(loop.counter))];
    for (const e of header) forEachSym(e, (sym) => {
      const id = symToValue.get(sym);
      if (id !== undefined) needed.add(id);
      readIn(cx.parentLoop.get(loop), sym);
    });
  }
  const plans = planLoops(cx, needed, readsIn);
  if (fused) planCheckpoints(cx, plans, fused);
  return { needed, plans };
}

function hasLoop(stmts: readonly CodeStmt[], loop: LoopStmt): boolean {
  return stmts.some((s) => (s.k === "loop" && (s.source === loop || hasLoop(s.body, loop))) || (s.k === "if" && (hasLoop(s.then, loop) || hasLoop(s.else, loop))));
}

/** The plans as `--dump-ir` shows them: per loop, how it runs, what it saves and what it recomputes. */
export function describePlans(cx: TransformContext, plan: TapePlan): string {
  const name = (id: number) => cx.valueSym(id).hint;
  const lines = [`kept: ${[...plan.needed].sort((a, b) => a - b).map(name).join(", ") || "nothing"}`];
  for (const p of plan.plans.values()) {
    const how = [p.counted ? "counted" : "uncounted", p.indexed ? "indexed tapes" : "stacks", ...(p.checkpoint ? ["checkpointed"] : [])].join(", ");
    lines.push(`loop at line ${p.loop.loc.line} (${how})`);
    for (const t of p.tapes) lines.push(`  saves ${t.sym.hint}: ${t.type}${t.phi !== null ? ` (${name(t.phi)} at the start of each iteration)` : ""}${t.end !== null ? ` (${name(t.end)} at its end)` : ""}`);
    if (p.recompute.length > 0) lines.push(`  recomputes ${p.recompute.map(name).join(", ")}`);
  }
  return lines.join("\n");
}

/**
 * Plans every loop from what its backward body reads (`readsIn`: its own statements), and
 * adds to `needed` what recomputation reads. A loop's value read only after the loop (its
 * exit value) needs no saving.
 */
export function planLoops(cx: TransformContext, needed: Set<number>, readsIn: Map<LoopStmt, Set<Sym>>): Map<LoopStmt, LoopPlan> {
  const plans = new Map<LoopStmt, LoopPlan>();
  // innermost loops first: what an inner backward loop reads and does not restore or
  // recompute itself (an outer iteration's values), the outer backward body must have
  for (const loop of [...cx.loops].reverse()) {
    const reads = readsIn.get(loop) ?? new Set<Sym>();
    const plan = planLoop(cx, loop, needed, reads);
    plans.set(loop, plan);
    const parent = cx.parentLoop.get(loop) ?? null;
    if (parent === null) continue;
    const own = new Set<Sym>(plan.recompute.map((id) => cx.valueSym(id)));
    for (const t of plan.tapes) for (const id of [t.phi, t.end]) if (id !== null) own.add(cx.valueSym(id));
    if (plan.counted) own.add(cx.valueSym(cx.countedIndex(loop)!));
    const up = new Set(reads);
    for (const id of plan.recompute) forEachSym(cx.opEx(cx.defs.get(id) as OpStmt, (a) => cx.atomEx(a)), (sym) => up.add(sym));
    const outer = readsIn.get(parent) ?? new Set<Sym>();
    for (const sym of up) if (!own.has(sym)) outer.add(sym);
    readsIn.set(parent, outer);
  }
  return plans;
}

function planLoop(cx: TransformContext, loop: LoopStmt, needed: Set<number>, reads: ReadonlySet<Sym>): LoopPlan {
  const inner = cx.innerOf.get(loop)!;
  const index = cx.countedIndex(loop);
  const counted = runsCounted(cx, loop);
  const indexed = counted && cx.parentLoop.get(loop) === null && cx.blockOf.get(loop.carried[0]!.phi) === 0;
  const phis = new Set(loop.carried.map((c) => c.phi));
  const available = (id: number) => !inner.has(id) || (counted && id === index) || cx.isRematerialised(id) || isCountedIndex(cx, id) ||
    (cx.isArray(id) && !inner.has(cx.root(id)));
  /** This loop's phis are restored first, so values computed from them can be recomputed. */
  const usable = (id: number) => available(id) || phis.has(id);
  const recompute: number[] = [];
  const recomputable = new Map<number, boolean>();
  /** A value the backward body can have: at hand, restored, recomputed, or an expression over those. */
  const ready = (id: number): boolean => {
    if (cx.isRematerialised(id)) return (cx.defs.get(id) as OpStmt).args.every((a) => a.kind === "const" || ready(a.id));
    return usable(id) || canRecompute(id);
  };
  const canRecompute = (id: number): boolean => {
    const known = recomputable.get(id);
    if (known !== undefined) return known;
    recomputable.set(id, false);
    const def = cx.defs.get(id);
    let ok = false;
    if (def?.kind === "op" && loop.body.includes(def) && cheap(cx, def)) {
      ok = def.args.every((a) => a.kind === "const" || ready(a.id));
    }
    recomputable.set(id, ok);
    return ok;
  };
  const saved = new Set<number>();
  /** Defined by this loop: in its body (not a nested loop's) or as its own phi or a nested loop's exit value. */
  const owned = (id: number) => {
    const home = cx.loopOf.get(id);
    if (home === loop) return true;
    const def = cx.defs.get(id);
    return def?.kind === "loop" && def !== loop && cx.parentLoop.get(def) === loop && def.carried.some((c) => c.phi === id);
  };
  const visited = new Set<number>();
  // recomputed values are not needed by the forward pass (it may fold them); what they read is
  const closure = (id: number) => {
    if (visited.has(id)) return;
    visited.add(id);
    if (canRecompute(id)) {
      needed.delete(id);
      const def = cx.defs.get(id) as OpStmt;
      def.args.forEach(depend);
      recompute.push(id);
    } else {
      needed.add(id);
      saved.add(id);
    }
  };
  /** What reading `a` in the backward body takes: nothing, keeping an outside value, or restoring an inside one. */
  function depend(a: Atom): void {
    if (a.kind !== "value") return;
    if (cx.isRematerialised(a.id)) (cx.defs.get(a.id) as OpStmt).args.forEach(depend);
    else if (available(a.id)) needed.add(cx.root(a.id));
    else closure(a.id);
  }
  // an array carried round the loop is one object: nothing to save
  [...needed].filter((id) => inner.has(id) && owned(id) && reads.has(cx.valueSym(id)) && !(cx.isArray(id) && cx.root(id) !== id)).forEach((id) => depend({ kind: "value", id }));
  // recomputed values in forward order
  const order = new Map<number, number>();
  let n = 0;
  const number = (stmts: LoopStmt["body"]) => {
    for (const s of stmts) {
      if (s.kind === "op") order.set(s.out, n++);
      else if (s.kind === "if") { number(s.then); number(s.else); s.outs.forEach((o) => order.set(o.out, n++)); }
      else s.carried.forEach((c) => order.set(c.phi, n++));
    }
  };
  number(loop.body);
  recompute.sort((a, b) => order.get(a)! - order.get(b)!);

  const tapes: Tape[] = [];
  const typeOf = (id: number) => cx.typeText(id);
  for (const c of loop.carried) {
    const next = c.next.kind === "value" ? c.next.id : null;
    const savePhi = saved.has(c.phi);
    const saveNext = next !== null && saved.has(next) && cx.carriedBy.get(next) === c.phi;
    if (!savePhi && !saveNext) continue;
    const name = cx.fn.values[c.phi]!.name ?? cx.fn.values[c.phi]!.hint;
    if (indexed && savePhi && saveNext) {
      tapes.push({ sym: cx.fresh(tapeName(name)), type: typeOf(c.phi), phi: c.phi, end: next });
    } else {
      if (savePhi) tapes.push({ sym: cx.fresh(tapeName(name)), type: typeOf(c.phi), phi: c.phi, end: null });
      if (saveNext) tapes.push({ sym: cx.fresh(nextName(name)), type: typeOf(next!), phi: null, end: next });
    }
    saved.delete(c.phi);
    if (saveNext) saved.delete(next!);
  }
  for (const id of [...saved].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))) {
    if (phis.has(id)) continue;
    const v = cx.fn.values[id]!;
    // a nested loop's iteration count (`steps`) is saved as `stepCounts`
    const def = cx.defs.get(id);
    const name = def?.kind === "loop" && def.counter === id ? "stepCounts" : tapeName(v.name ?? v.hint);
    tapes.push({ sym: cx.fresh(name), type: typeOf(id), phi: null, end: id });
  }
  let slot: Ex | undefined;
  let count: Ex | undefined;
  if (indexed) {
    const { hi, inclusive } = loop.counted!;
    const i = ref(cx.valueSym(index!));
    const loEx = cx.loEx(loop);
    const hiEx = cx.atomEx(hi);
    slot = sub(i, loEx);
    const span = add(sub(hiEx, loEx), num(inclusive ? 1 : 0));
    const fromZero = loEx.k === "num" && loEx.value === 0;
    count = fromZero && !inclusive && hi.kind === "value" && cx.defs.get(hi.id)?.kind === "op" && (cx.defs.get(hi.id) as OpStmt).op === "length"
      ? span
      : span.k === "num" ? num(Math.max(0, span.value)) : call("Math.max", num(0), span);
  }
  return { loop, counted, indexed, tapes, recompute, slot, count };
}

/** The index of a counted loop: its backward loop counts it down, nothing saves it. */
function isCountedIndex(cx: TransformContext, id: number): boolean {
  const def = cx.defs.get(id);
  return def?.kind === "loop" && runsCounted(cx, def) && cx.countedIndex(def) === id;
}

/** Whether a loop runs as a counted `for`, forward and backward. */
export function runsCounted(cx: TransformContext, loop: LoopStmt): boolean {
  return cx.isCounted(loop) && cx.countedIndex(loop) !== null && fixed(cx, loop, loop.counted!.hi);
}

/** Arithmetic cheap enough to redo in the backward pass rather than store (the rule table's `cost`). */
function cheap(cx: TransformContext, op: OpStmt): boolean {
  if (ruleOf(op).write || cx.readsChanging(op)) return false;
  return atMost(costOf(op), "cheap");
}

/** The bound of a counted loop can be read again after the loop: a constant, a value from outside, or recomputed. */
function fixed(cx: TransformContext, loop: LoopStmt, hi: LoopStmt["cond"]): boolean {
  if (hi.kind === "const") return true;
  return !cx.innerOf.get(loop)!.has(hi.id) || cx.isRematerialised(hi.id);
}

/** `new Float64Array(n)` or `new Array<T>(n)` for an indexed tape; `[]` (typed) for a stack. */
export function tapeInit(tape: Tape, plan: LoopPlan): Ex {
  if (!plan.indexed) return list();
  const length = tape.phi !== null && tape.end !== null ? add(plan.count!, num(1)) : plan.count!;
  return tape.type === "number" ? newOf("Float64Array", length) : newOf(`Array<${tape.type}>`, length);
}

/**
 * Fills in a backward loop: its header (`for (let i = hi - 1; i >= lo; i--)`, or counting
 * down the iterations the forward loop made) and, at the top of its body, the values it
 * restores from tapes and recomputes. A checkpointed loop's runs one segment, in a loop
 * over the segments that recomputes each one first.
 */
export function backwardLoop(cx: TransformContext, plan: LoopPlan, body: readonly CodeStmt[], origin: SourceLoc): CodeStmt[] {
  const { loop } = plan;
  const head: CodeStmt[] = [];
  const restore = (id: number, from: Ex) => head.push({ k: "decl", mutable: false, sym: cx.valueSym(id), init: from, role: "forward", origin: cx.defs.get(id)?.loc });
  if (plan.indexed) {
    for (const t of plan.tapes) {
      if (t.phi !== null) restore(t.phi, index(ref(t.sym), plan.slot!));
      if (t.end !== null) restore(t.end, index(ref(t.sym), t.phi !== null ? add(plan.slot!, num(1)) : plan.slot!));
    }
  } else {
    const pop = (t: Tape) => nonnull(method(ref(t.sym), "pop"));
    for (const t of [...plan.tapes].reverse()) if (t.end !== null && t.phi === null) restore(t.end, pop(t));
    for (const t of [...plan.tapes].reverse()) if (t.phi !== null) restore(t.phi, pop(t));
  }
  for (const id of plan.recompute) restore(id, cx.opEx(cx.defs.get(id) as OpStmt, (a) => cx.atomEx(a)));
  if (plan.checkpoint) {
    const ck = plan.checkpoint;
    const i = cx.valueSym(cx.countedIndex(loop)!);
    const segment: CodeStmt = { k: "loop", index: { sym: i, init: sub(ref(ck.end), num(1)), step: -1 }, cond: cmp(">=", ref(i), ref(ck.start)), body: [...head, ...body], role: "backward", origin, source: loop };
    return backwardSegments(cx, loop, ck, [segment]);
  }
  if (plan.counted) {
    const { hi, inclusive } = loop.counted!;
    const i = cx.valueSym(cx.countedIndex(loop)!);
    const init = inclusive ? cx.atomEx(hi) : sub(cx.atomEx(hi), num(1));
    return [{ k: "loop", index: { sym: i, init, step: -1 }, cond: cmp(">=", ref(i), cx.loEx(loop)), body: [...head, ...body], role: "backward", origin, source: loop }];
  }
  const step = cx.fresh("step");
  return [{ k: "loop", index: { sym: step, init: ref(cx.valueSym(loop.counter)), step: -1 }, cond: cmp(">", ref(step), num(0)), body: [...head, ...body], role: "backward", origin, source: loop }];
}
