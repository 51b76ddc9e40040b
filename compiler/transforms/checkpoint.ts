/**
 * Checkpointed loops (`@checkpoint`, `@checkpoint k`). A counted loop at the top level of
 * the function that keeps a tape (./tape.ts) keeps instead only its loop-carried state at
 * the start of every segment of k steps; the backward pass runs the segments last to first,
 * and for each one recomputes its k steps from the segment's checkpoint, saving that
 * segment's tape as the plain forward loop would, then runs them backward:
 *
 *   // forward                                  // backward
 *   for (segment = 0 .. segments - 1)            for (segment = segments - 1 .. 0)
 *     hCheckpoints[segment] = h                    let h = hCheckpoints[segment]
 *     for (t = start .. end - 1) h = f(h)          for (t = start .. end - 1) { hs[t - start] = h; h = f(h) }
 *                                                  for (t = end - 1 .. start) (the backward body)
 *
 * Policy: every k steps, with k = ⌈√T⌉ for T steps computed when the loop starts (the tag's
 * number fixes k instead). The loop then keeps ⌈T/k⌉ checkpoints and one segment's tape of
 * k + 1 entries, about 2√T values instead of T, and computes each step twice (once forward,
 * once in its segment's recomputation). The recomputation runs the same expressions on the
 * same inputs, so the gradient is bitwise the plain one's.
 *
 * A loop that saves nothing per step (an accumulation), or whose backward pass fusion moves
 * into its forward loop (./fuse.ts: the tape goes), is left as it is. A loop that keeps
 * a tape and cannot be checkpointed is an error at the loop: one not counted (a `while`, a
 * `break` or `return` inside), one inside a branch, one that writes an array, or one whose
 * arrays are written after it (the recomputation would read the new elements).
 */
import { add, call, cmp, div, forEachSym, index, mul, newOf, num, ref, sub, type Ex, type Sym } from "../ir/expr.ts";
import { forEachExpr, mapBlocks, type CodeStmt } from "../ir/code.ts";
import type { LoopStmt, SourceLoc, Stmt } from "../ir/ir.ts";
import { CompileError } from "../diagnostics.ts";
import { ruleOf } from "../rules/rules.ts";
import type { TransformContext } from "./context.ts";
import type { LoopPlan } from "./tape.ts";
import { fuseLoops } from "./fuse.ts";

export interface Checkpoint {
  /** The tag's segment length, or null for ⌈√T⌉. */
  readonly every: number | null;
  /** The number of steps the loop makes (T). */
  readonly total: Ex;
  /** The first index past the last step (`x.length` in `for (let t = 0; t < x.length; t++)`). */
  readonly past: Ex;
  readonly steps: Sym;
  readonly segmentLength: Sym;
  readonly segments: Sym;
  readonly segment: Sym;
  readonly start: Sym;
  readonly end: Sym;
  /** Each state variable (by its phi) and the array of its values at the segments' starts, set as primal writes the loop. */
  readonly state: Map<number, Sym>;
  /** One segment's recomputation from its checkpoint, saving its tape: written by primal, run by the backward pass. */
  recompute: CodeStmt[];
}

/**
 * The loops whose backward pass fusion (./fuse.ts) moves into the forward loop, in a
 * function's plain gradient: their tape goes, so there is nothing to checkpoint.
 */
export function fusedLoops(body: readonly CodeStmt[]): Set<LoopStmt> {
  const backward = (stmts: readonly CodeStmt[]) => new Set(stmts.flatMap((s) => (s.k === "loop" && s.role === "backward" && s.source ? [s.source] : [])));
  const after = backward(fuseLoops(body));
  return new Set([...backward(body)].filter((loop) => !after.has(loop)));
}

/**
 * Gives each loop of a `@checkpoint` function that keeps a tape a checkpointed plan: its
 * tapes hold one segment (indexed by `t - start`, `segmentLength + 1` long), or throws a
 * located error for a loop that cannot be checkpointed.
 */
export function planCheckpoints(cx: TransformContext, plans: Map<LoopStmt, LoopPlan>, fused: ReadonlySet<LoopStmt>): void {
  const tag = cx.fn.checkpoint;
  if (!tag) return;
  for (const loop of cx.loops) {
    if (cx.parentLoop.get(loop) !== null) continue;
    const plan = plans.get(loop)!;
    if (plan.tapes.length === 0 || fused.has(loop)) continue;
    checkLoop(cx, loop, plan);
    const { hi, inclusive } = loop.counted!;
    const hiEx = cx.atomEx(hi);
    const start = cx.fresh("start");
    const checkpoint: Checkpoint = {
      every: tag.every,
      total: plan.count!,
      past: !inclusive ? hiEx : hiEx.k === "bin" && hiEx.op === "-" && hiEx.b.k === "num" ? sub(hiEx.a, num(hiEx.b.value - 1)) : add(hiEx, num(1)),
      steps: cx.fresh("steps"),
      segmentLength: cx.fresh("segmentLength"),
      segments: cx.fresh("segments"),
      segment: cx.fresh("segment"),
      start,
      end: cx.fresh("end"),
      state: new Map(),
      recompute: [],
    };
    const i = ref(cx.valueSym(cx.countedIndex(loop)!));
    plans.set(loop, { ...plan, slot: sub(i, ref(start)), count: ref(checkpoint.segmentLength), checkpoint });
  }
}

function checkLoop(cx: TransformContext, loop: LoopStmt, plan: LoopPlan): void {
  const fail = (why: string, what: string) => {
    throw new CompileError({ line: loop.loc.line, col: loop.loc.col, length: loop.loc.text.split(" ")[0]!.length, message: `@checkpoint: this loop ${why}; ${what}` });
  };
  const counted = "`for (let i = lo; i < hi; i++)` whose index nothing else assigns and whose bound the loop does not change";
  if (!plan.counted) {
    // (`break` and `return` become flags the condition reads: parse/loops.ts)
    const leaves = loop.carried.some((c) => cx.fn.values[c.phi]!.type === "boolean" && /^(done|returned)(_\d+)?$/.test(cx.fn.values[c.phi]!.name ?? ""));
    if (leaves) fail("leaves early (`break` or `return`), so its number of steps is not known when it starts", `only a counted loop, ${counted}, can be checkpointed: compute the step count first and loop to it, or remove @checkpoint`);
    fail("is not a counted loop, so its number of steps is not known when it starts", `only a counted loop, ${counted}, can be checkpointed: write it as one, or remove @checkpoint`);
  }
  if (!plan.indexed) fail("is inside a branch", "a checkpointed loop stands at the top level of the function: move it out of the `if`, or remove @checkpoint");
  const inner = cx.innerOf.get(loop)!;
  const arrays = new Set<number>();
  let written: string | null = null;
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "op") {
        if (ruleOf(s).write) written ??= nameOf(cx, s.out);
        for (const a of s.args) if (a.kind === "value" && cx.isArray(a.id)) arrays.add(cx.root(a.id));
      } else if (s.kind === "if") {
        visit(s.then);
        visit(s.else);
      } else {
        visit(s.test);
        visit(s.body);
      }
    }
  };
  visit(loop.test);
  visit(loop.body);
  if (written !== null) fail(`writes the array \`${written}\`, which recomputing a segment would write again`, "keep the loop's state in variables (an array it only reads is fine), or remove @checkpoint");
  const after = cx.fn.body.slice(cx.fn.body.indexOf(loop) + 1);
  for (const root of arrays) {
    const later = (cx.writesOf.get(root) ?? []).find((w) => !inner.has(w.out) && contains(after, w));
    if (later) fail(`reads the array \`${nameOf(cx, root)}\`, which line ${later.loc.line} writes after the loop: recomputing a segment in the backward pass would read the new elements`, "write into a copy after the loop, or remove @checkpoint");
  }
}

function nameOf(cx: TransformContext, id: number): string {
  const v = cx.fn.values[cx.root(id)]!;
  return v.name ?? v.hint;
}

function contains(stmts: readonly Stmt[], target: Stmt): boolean {
  return stmts.some((s) => s === target || (s.kind === "if" && (contains(s.then, target) || contains(s.else, target))) || (s.kind === "loop" && (contains(s.test, target) || contains(s.body, target))));
}

/** The zero-filled array of one value per segment (or per tape entry) of a variable of type `type`. */
function arrayOf(type: string, length: Ex): Ex {
  return type === "number" ? newOf("Float64Array", length) : newOf(`Array<${type}>`, length);
}

/**
 * Before the loop: its step count, the segment length, the number of segments, and an
 * array of checkpoints per state variable.
 */
export function checkpointDecls(cx: TransformContext, ck: Checkpoint, origin: SourceLoc): CodeStmt[] {
  const decl = (sym: Sym, init: Ex): CodeStmt => ({ k: "decl", mutable: false, sym, init, role: "forward", origin });
  const stateNames = [...ck.state.keys()].flatMap((phi, k) => [k === 0 ? "" : ", ", cx.valueSym(phi)]);
  const length = ck.every === null ? call("Math.max", num(1), call("Math.ceil", call("Math.sqrt", ref(ck.steps)))) : num(ck.every);
  return [
    ...(ck.state.size === 0
      ? [
        { k: "comment", text: ["@checkpoint: no step reads what the step before computed: the backward pass recomputes"] },
        { k: "comment", text: ["each segment of ", ck.segmentLength, ck.every === null ? " (⌈√steps⌉)" : "", " steps from nothing"] },
      ] as const
      : [
        { k: "comment", text: ["@checkpoint: ", ...stateNames, ck.state.size === 1 ? " is" : " are", " kept at the start of each segment of ", ck.segmentLength, ck.every === null ? " steps" : " steps,"] },
        { k: "comment", text: [ck.every === null ? "(⌈√steps⌉), " : "", "not at every step; the backward pass recomputes each segment from there"] },
      ] as const),
    decl(ck.steps, ck.total),
    decl(ck.segmentLength, length),
    decl(ck.segments, call("Math.ceil", div(ref(ck.steps), ref(ck.segmentLength)))),
    ...[...ck.state].map(([phi, sym]) => decl(sym, arrayOf(cx.typeText(phi), ref(ck.segments)))),
  ];
}

/** `const start = lo + segment * segmentLength; const end = Math.min(start + segmentLength, hi);` */
function bounds(cx: TransformContext, loop: LoopStmt, ck: Checkpoint): CodeStmt[] {
  return [
    { k: "decl", mutable: false, sym: ck.start, init: add(cx.loEx(loop), mul(ref(ck.segment), ref(ck.segmentLength))), role: "forward" },
    { k: "decl", mutable: false, sym: ck.end, init: call("Math.min", add(ref(ck.start), ref(ck.segmentLength)), ck.past), role: "forward" },
  ];
}

/** The loop's steps from `start` to `end`: the forward loop's body, with its index counting from `start`. */
function steps(cx: TransformContext, loop: LoopStmt, ck: Checkpoint, body: CodeStmt[]): CodeStmt {
  const i = cx.valueSym(cx.countedIndex(loop)!);
  return { k: "loop", index: { sym: i, init: ref(ck.start), step: 1 }, cond: cmp("<", ref(i), ref(ck.end)), body, role: "forward", origin: loop.loc };
}

/** The forward sweep: segment by segment, the state at its start saved, then its steps (which save nothing). */
export function forwardSegments(cx: TransformContext, loop: LoopStmt, ck: Checkpoint, body: CodeStmt[]): CodeStmt {
  const saves: CodeStmt[] = [...ck.state].map(([phi, sym]) => ({ k: "assign", op: "=", sym, index: ref(ck.segment), expr: ref(cx.valueSym(phi)), role: "forward" }));
  return {
    k: "loop", index: { sym: ck.segment, init: num(0), step: 1 }, cond: cmp("<", ref(ck.segment), ref(ck.segments)),
    body: [...bounds(cx, loop, ck), ...saves, steps(cx, loop, ck, body)], role: "forward",
  };
}

/**
 * One segment's recomputation: the state from its checkpoint (in variables of this block,
 * so the forward pass's final values stay as they are), then the steps saving the tape,
 * then what is saved after the last step (`after`). What the recomputation computes and
 * never reads goes (a state variable each step overwrites, what only it read): such a
 * state variable needs no checkpoint, and leaves the state.
 */
export function recomputeSegment(cx: TransformContext, loop: LoopStmt, ck: Checkpoint, body: CodeStmt[], after: CodeStmt[]): CodeStmt[] {
  body = withoutUnread(body, after);
  for (const phi of [...ck.state.keys()]) if (!readsSym([...body, ...after], cx.valueSym(phi))) ck.state.delete(phi);
  const restore: CodeStmt[] = [...ck.state].map(([phi, sym]) => ({ k: "decl", mutable: true, sym: cx.valueSym(phi), init: index(ref(sym), ref(ck.segment)), role: "forward" }));
  return [
    { k: "comment", text: ["recompute this segment's steps from its checkpoint, saving their tape"] },
    ...restore,
    steps(cx, loop, ck, body),
    ...after,
  ];
}

/**
 * `stmts` without the variables nothing in them or in `after` reads: their declarations and
 * assignments (forward code computes without side effects), until none is left.
 */
function withoutUnread(stmts: CodeStmt[], after: readonly CodeStmt[]): CodeStmt[] {
  for (;;) {
    const written = new Set<Sym>();
    const collect = (ss: readonly CodeStmt[]) => {
      for (const s of ss) {
        if ((s.k === "decl" || (s.k === "assign" && !s.index))) written.add(s.sym);
        if (s.k === "loop") collect(s.body);
        if (s.k === "if") { collect(s.then); collect(s.else); }
      }
    };
    collect(stmts);
    const unread = [...written].filter((sym) => !readsSym([...stmts, ...after], sym));
    if (unread.length === 0) return stmts;
    const drop = new Set(unread);
    const strip = (ss: readonly CodeStmt[]): CodeStmt[] =>
      mapBlocks(ss.filter((s) => !((s.k === "decl" || (s.k === "assign" && !s.index)) && drop.has(s.sym))), strip)
        .filter((s) => !(s.k === "if" && s.then.length === 0 && s.else.length === 0));
    stmts = strip(stmts);
  }
}

/** Whether any statement reads `sym` (an expression naming it, or `sym += ...`). */
function readsSym(stmts: readonly CodeStmt[], sym: Sym): boolean {
  let found = false;
  forEachExpr(stmts, (e) => forEachSym(e, (x) => { if (x === sym) found = true; }));
  const compound = (ss: readonly CodeStmt[]): boolean => ss.some((s) =>
    (s.k === "assign" && s.sym === sym && (s.op !== "=" || s.index !== undefined)) ||
    (s.k === "loop" && compound(s.body)) || (s.k === "if" && (compound(s.then) || compound(s.else))));
  return found || compound(stmts);
}

/** The backward pass of a checkpointed loop: segments last to first, each recomputed, then run backward (`backward`). */
export function backwardSegments(cx: TransformContext, loop: LoopStmt, ck: Checkpoint, backward: CodeStmt[]): CodeStmt[] {
  return [
    { k: "comment", text: ["the segments last to first: each one recomputed from its checkpoint, then run backward"] },
    {
      k: "loop", index: { sym: ck.segment, init: sub(ref(ck.segments), num(1)), step: -1 }, cond: cmp(">=", ref(ck.segment), num(0)),
      body: [...bounds(cx, loop, ck), ...ck.recompute, { k: "comment", text: ["then its steps backward"] }, ...backward], role: "backward",
    },
  ];
}
