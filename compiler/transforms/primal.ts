/**
 * The forward half of a gradient function: the user's statements, keeping every value the
 * backward pass reads. A temporary that is read once and not needed by the backward pass
 * is folded back into the expression that reads it, so the user's lines come out as the
 * user wrote them (./folding.ts); values nothing reads are dropped (./live.ts). Loops save
 * what their plan says (./tape.ts) as they run. Reverse mode's `primal` stage, and forward
 * mode's with the tangents beside (`Beside`).
 */
import { bool, cond, list, method, newOf, num, ref, sub, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";
import type { Atom, IfStmt, LoopStmt, OpStmt, Stmt } from "../ir/ir.ts";
import type { TransformContext } from "./context.ts";
import { tapeInit, type LoopPlan } from "./tape.ts";
import { checkpointDecls, forwardSegments, recomputeSegment } from "./checkpoint.ts";
import { ruleOf, type Rule } from "../rules/rules.ts";
import { liveness } from "./live.ts";
import { folding } from "./folding.ts";
import { inSequence, type Assign } from "./sequence.ts";
import { checkpointsName } from "../emit/names.ts";

/**
 * What a second mode writes beside the primal statements, inside the same blocks (forward
 * mode's tangents, ./forward.ts); reverse mode passes none.
 */
export interface Beside {
  /** Around the statement an operation became: its result's definition, or an element write. */
  op(s: OpStmt, stmt: CodeStmt): { readonly before: CodeStmt[]; readonly after: CodeStmt[] };
  /** After a copy of `from` into `to`'s variable: a merge at the end of an arm, a loop variable's first or next value (assignments only, for merges and next values). */
  copy(to: number, from: Atom, stmt: CodeStmt): CodeStmt[];
  /** Around a branch written as `c ? a : b`, defining `out`. */
  ternary(s: IfStmt, out: IfStmt["outs"][number], stmt: CodeStmt): { readonly before: CodeStmt[]; readonly after: CodeStmt[] };
  /** After the declaration of `id`'s variable before an `if`. */
  hoist(id: number, stmt: CodeStmt): CodeStmt[];
}

export function primal(cx: TransformContext, needed: ReadonlySet<number>, plans: ReadonlyMap<LoopStmt, LoopPlan>, beside?: Beside): CodeStmt[] {
  const { fn } = cx;
  const { live, liveLoops, uses } = liveness(cx, needed, plans);

  // a counted loop's `let i = lo` moves into its header
  const headerInit = new Map<number, LoopStmt>();
  for (const loop of liveLoops) {
    const index = cx.countedIndex(loop);
    if (!plans.get(loop)!.counted || index === null) continue;
    const init = loop.carried.find((c) => c.phi === index)!.init;
    if (init.kind === "value" && cx.valueSym(init.id) === cx.valueSym(index)) headerInit.set(init.id, loop);
  }

  const { folds, inline } = folding(cx, needed, { live, liveLoops, uses });

  const ex = (a: Atom): Ex => {
    if (a.kind === "value" && folds(a.id)) {
      const def = cx.defs.get(a.id)!;
      return def.kind === "op" ? cx.opEx(def, ex) : ternary(def as IfStmt);
    }
    return cx.atomEx(a);
  };
  const ternary = (s: IfStmt): Ex => cond(ex(s.cond), ex(s.outs[0]!.then), ex(s.outs[0]!.else));

  const typeOf = (id: number) => cx.typeText(id);
  /** Variables declared with `let` because a loop reassigns them. */
  const reassigned = new Set(cx.loops.flatMap((l) => l.carried.filter((c) => !cx.isArray(c.phi)).map((c) => cx.valueSym(c.phi))));
  /** The source line a folded value came from, so a merge assignment cites the user's line. */
  const originOf = (a: Atom) => (a.kind === "value" && folds(a.id) ? cx.defs.get(a.id)!.loc : undefined);
  /** Tapes are declared at the top level, before the statement holding their loop. */
  let tapeDecls: CodeStmt[] = [];
  /** Variables declared before an `if` because the backward pass reads them: inside, they are assigned. */
  const hoistedSyms = new Set<Sym>();
  const emit = (stmts: readonly Stmt[], assigned: ReadonlySet<number>): CodeStmt[] => {
    const out: CodeStmt[] = [];
    const define = (id: number, init: Ex, origin: IfStmt["loc"]) => {
      const sym = cx.forwardSym(id);
      out.push(assigned.has(id) || cx.carriedBy.has(id) || hoistedSyms.has(sym)
        ? { k: "assign", op: "=", sym, expr: init, role: "forward", origin }
        : { k: "decl", mutable: reassigned.has(sym), sym, init, role: "forward", origin });
    };
    for (const s of stmts) {
      if (s.kind === "op") {
        if (!live.has(s.out) || folds(s.out) || cx.isRematerialised(s.out) || headerInit.has(s.out)) continue;
        const write = ruleOf(s).write;
        if (write) out.push(elementWrite(s, write));
        else define(s.out, cx.opEx(s, ex), s.loc);
        // `const out: number[] = []`: an empty literal needs its type
        const last = out[out.length - 1]!;
        if (s.op === "array.of" && s.args.length === 0 && last.k === "decl") out[out.length - 1] = { ...last, type: "number[]", typed: true };
        if (beside) {
          const { before, after } = beside.op(s, out[out.length - 1]!);
          out.splice(out.length - 1, 0, ...before);
          out.push(...after);
        }
        continue;
      }
      if (s.kind === "loop") {
        if (liveLoops.has(s)) out.push(...loop(s));
        continue;
      }
      // an array written in an arm is the same object after the branch: nothing to merge
      const outs = s.outs.filter((o) => live.has(o.out) && !folds(o.out) && !cx.isArray(o.out));
      // what an arm must compute as a statement (a recomputed value is written where it is read)
      const innerLive = [...cx.innerOf.get(s)!].some((id) => live.has(id) && !folds(id) && !cx.isRematerialised(id));
      if (outs.length === 0 && !innerLive) continue;
      // one merged value is a ternary; several would repeat the condition in each
      if (outs.length === 1 && inline(s) && !innerLive) {
        for (const o of outs) {
          define(o.out, cond(ex(s.cond), ex(o.then), ex(o.else)), s.loc);
          if (beside) {
            const { before, after } = beside.ternary(s, o, out[out.length - 1]!);
            out.splice(out.length - 1, 0, ...before);
            out.push(...after);
          }
        }
        continue;
      }
      // An `if` statement: what its arms compute for later (the merged outputs and the
      // values the backward pass reads) is declared before it.
      const hoisted = new Set<number>(outs.map((o) => o.out));
      // variables declared before the `if` (a loop in an arm may share one, directly or
      // through an earlier loop's variable in the same arm)
      let before: Set<Sym> | undefined;
      const declaredBefore = (sym: Sym) => {
        before ??= new Set(fn.values.filter((v) => !cx.innerOf.get(s)!.has(v.id)).map((v) => cx.valueSym(v.id)));
        return before.has(sym);
      };
      for (const id of cx.innerOf.get(s)!) {
        // a loop's phis inside an arm are hoisted too, unless the loop variable is one from
        // before the `if`, which is visible already
        const def = cx.defs.get(id);
        const outer = def?.kind === "loop" && declaredBefore(cx.valueSym(id));
        // a counted loop's index is declared in its own header
        const header = def?.kind === "loop" && plans.get(def)!.counted && cx.countedIndex(def) === id;
        // only what the arm defines as a statement: a folded or recomputed value has no variable to declare
        const defined = live.has(id) && !folds(id) && !cx.isRematerialised(id);
        if (needed.has(id) && defined && !outer && !header) hoisted.add(id);
      }
      for (const id of hoisted) {
        if (assigned.has(id) || cx.carriedBy.has(id) || hoistedSyms.has(cx.valueSym(id))) continue;
        const inner = cx.innerOf.get(s)!.has(id);
        const type = typeOf(id);
        // an array made in an arm starts empty, so TypeScript sees it assigned where the
        // backward pass reads it (in the same arm of a second `if`, which it cannot tell)
        const zero = type === "boolean" ? bool(false) : type === "number" ? num(0)
          : !cx.isArray(id) ? null : /Float64Array/.test(type) ? newOf("Float64Array", num(0)) : list();
        hoistedSyms.add(cx.valueSym(id));
        out.push({ k: "decl", mutable: true, sym: cx.valueSym(id), init: inner ? zero : null, type, typed: cx.isArray(id), role: "forward" });
        if (beside) out.push(...beside.hoist(id, out[out.length - 1]!));
      }
      const arm = (which: "then" | "else") => {
        const merges = outs
          .map((o): [Assign, IfStmt["outs"][number]] => [{ k: "assign", op: "=", sym: cx.forwardSym(o.out), expr: ex(o[which]), role: "forward", origin: originOf(o[which]) ?? s.loc }, o])
          .filter(([t]) => !(t.expr.k === "ref" && t.expr.sym === t.sym));
        const besides = beside ? merges.flatMap(([t, o]) => beside.copy(o.out, o[which], t)) : [];
        return [
          ...emit(s[which], hoisted),
          // one sequence: a tangent's copy may read what a merge overwrites (`x_dot[i]`, then `i = ...`)
          ...inSequence([...merges.map(([t]) => t), ...besides.filter((t): t is Assign => t.k === "assign")], (hint) => cx.fresh(hint)),
        ];
      };
      out.push({ k: "if", cond: ex(s.cond), then: arm("then"), else: arm("else"), role: "forward", origin: s.loc });
    }
    return out;
  };

  /** `a[i] = v` (or `+=`, `-=`), `a.push(v)`: the array is written in place. */
  const elementWrite = (s: OpStmt, write: NonNullable<Rule["write"]>): CodeStmt => {
    const [array, at, value] = s.args as [Atom, Atom, Atom];
    const sym = cx.valueSym((array as Atom & { kind: "value" }).id);
    if (write === "push") return { k: "expr", expr: method(ref(sym), "push", ex(value)), role: "forward", origin: s.loc };
    return { k: "assign", op: write, sym, index: ex(at), expr: ex(value), role: "forward", origin: s.loc };
  };

  /**
   * Whether loops save their tapes: not in the forward sweep of a checkpointed loop, whose
   * segments save theirs when the backward pass recomputes them (./checkpoint.ts).
   */
  let saving = true;
  const loop = (s: LoopStmt): CodeStmt[] => {
    const plan = plans.get(s)!;
    const out: CodeStmt[] = [];
    const indexId = plan.counted ? cx.countedIndex(s)! : null;
    for (const c of s.carried) {
      if (!live.has(c.phi) || c.phi === indexId) continue;
      const sym = cx.valueSym(c.phi);
      const shared = c.init.kind === "value" && cx.valueSym(c.init.id) === sym;
      if (shared) continue;
      // a boolean from another variable is typed: TypeScript narrows `true | false` on
      // assignment, and inside a loop `let b_2 = b; ...; b = b_2` would infer itself
      const init = ex(c.init);
      const typed = typeOf(c.phi) === "boolean" && init.k !== "bool";
      out.push(hoistedSyms.has(sym)
        ? { k: "assign", op: "=", sym, expr: init, role: "forward", origin: s.loc }
        : { k: "decl", mutable: true, sym, init, type: typed ? "boolean" : undefined, typed, role: "forward", origin: s.loc });
      if (beside) out.push(...beside.copy(c.phi, c.init, out[out.length - 1]!));
    }
    const tapes = (): CodeStmt[] => plan.tapes.map((tape) => ({ k: "decl", mutable: false, sym: tape.sym, init: tapeInit(tape, plan), type: plan.indexed ? undefined : `${tape.type}[]`, typed: !plan.indexed, role: "forward", origin: s.loc }));
    const save = (id: number, slot: Ex | undefined): CodeStmt => {
      const tape = plan.tapes.find((t) => t.phi === id || t.end === id)!;
      const value = ref(cx.forwardSym(id));
      return plan.indexed
        ? { k: "assign", op: "=", sym: tape.sym, index: slot!, expr: value, role: "forward" }
        : { k: "expr", expr: method(ref(tape.sym), "push", value), role: "forward" };
    };
    /** One iteration: the values the backward pass reads saved (when saving), the body, the carried variables' next values. */
    const iteration = (): CodeStmt[] => {
      const body: CodeStmt[] = [];
      if (saving) for (const t of plan.tapes) if (t.phi !== null) body.push(save(t.phi, plan.slot));
      body.push(...emit(s.body.filter((b) => !(indexId !== null && b.kind === "op" && cx.carriedBy.get(b.out) === indexId)), new Set()));
      const carries: Assign[] = [];
      const besides: CodeStmt[] = [];
      for (const c of s.carried) {
        if (!live.has(c.phi) || c.phi === indexId) continue;
        if (c.next.kind === "value" && cx.carriedBy.get(c.next.id) === c.phi) continue;
        const sym = cx.valueSym(c.phi);
        const value = ex(c.next);
        if (value.k === "ref" && value.sym === sym) continue;
        carries.push({ k: "assign", op: "=", sym, expr: value, role: "forward", origin: s.loc });
        if (beside) besides.push(...beside.copy(c.phi, c.next, carries[carries.length - 1]!));
      }
      body.push(...inSequence([...carries, ...besides.filter((t): t is Assign => t.k === "assign")], (hint) => cx.fresh(hint)));
      for (const t of plan.tapes) {
        if (t.end === null || !saving) continue;
        if (t.phi !== null) continue; // shared with the phi's array: saved after the loop
        body.push(save(t.end, plan.slot));
      }
      return body;
    };
    /** A value and its next share one array: the last next goes in after the loop (at `last`). */
    const saveLast = (last: Ex): CodeStmt[] => plan.tapes
      .filter((t) => t.phi !== null && t.end !== null)
      .map((t) => ({ k: "assign", op: "=", sym: t.sym, index: last, expr: ref(cx.valueSym(t.phi!)), role: "forward" }));

    const ck = plan.checkpoint;
    if (ck && saving) {
      // the state: the carried variables (but the index), kept at each segment's start
      for (const c of s.carried) if (live.has(c.phi) && c.phi !== indexId) ck.state.set(c.phi, cx.fresh(checkpointsName(cx.valueSym(c.phi).hint)));
      // the forward sweep saves nothing per step; the recomputation of a segment saves its
      // tape (a second copy of the body, with the `if`s' hoisted variables declared again)
      const at = tapeDecls.length;
      const hoistedBefore = new Set(hoistedSyms);
      saving = false;
      const sweep = iteration();
      saving = true;
      hoistedSyms.clear();
      for (const sym of hoistedBefore) hoistedSyms.add(sym);
      ck.recompute = recomputeSegment(cx, s, ck, iteration(), saveLast(sub(ref(ck.end), ref(ck.start))));
      // (before an inner loop's stacks)
      tapeDecls.splice(at, 0, ...checkpointDecls(cx, ck, s.loc), ...tapes());
      return [...out, forwardSegments(cx, s, ck, sweep)];
    }
    if (saving) tapeDecls.push(...tapes());
    const body = iteration();
    const condEx = ex(s.cond);
    if (plan.counted) {
      const lo = s.counted!.lo;
      const init = lo.kind === "value" && headerInit.has(lo.id) ? cx.loEx(s) : ex(lo);
      out.push({ k: "loop", index: { sym: cx.valueSym(indexId!), init, step: 1 }, cond: condEx, body, role: "forward", origin: s.loc, source: s });
    } else {
      out.push({ k: "loop", cond: condEx, body, role: "forward", origin: s.loc, source: s });
    }
    if (saving) out.push(...saveLast(plan.count!));
    return out;
  };

  const body: CodeStmt[] = [];
  for (const s of fn.body) {
    tapeDecls = [];
    const code = emit([s], new Set());
    body.push(...tapeDecls, ...code);
  }
  return body;
}
