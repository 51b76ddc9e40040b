/**
 * Reverse mode: walks the graph IR from the last operation to the first and, for each
 * active one, asks the rule table for its inputs' gradient contributions ("local gradient
 * × upstream gradient"). Contributions to one variable are summed in one place: the first
 * becomes `const dx = ...` (or `let` when more follow), later ones `dx += ...`. A branch is
 * reversed as a branch. The forward half comes from ./primal.ts.
 */
import { bool, call, cmp, forEachSym, index, newOf, num, printEx, prop, ref, rt, sameEx, twice, type Ex, type Sym } from "../ir/expr.ts";
import { forEachExpr, type CodeFunction, type CodeStmt } from "../ir/code.ts";
import { reservedNames, type FunctionIR, type LoopStmt, type OpStmt, type SourceLoc, type Stmt, type ValueType } from "../ir/ir.ts";
import { ruleOf, type ElementGrad } from "../rules/rules.ts";
import type { Activity } from "../analyses/activity.ts";
import { TransformContext } from "./context.ts";
import { mutates } from "../analyses/uses.ts";
import { primal } from "./primal.ts";
import { boundary } from "./boundary.ts";
import { backwardLoop, planLoops, runsCounted } from "./tape.ts";
import { fusedLoops, planCheckpoints } from "./checkpoint.ts";

interface Contribution {
  readonly k: "contrib";
  readonly target: number;
  readonly expr: Ex;
  /** For an array: the element the gradient goes to (`dx[at] += expr`). */
  readonly at?: Ex;
  /** `dx[at] = expr` rather than `+=`: an element write leaves no gradient behind. */
  readonly set?: boolean;
  /** An array gradient the expression reads (`dv = da[i]`): declared first, and the read stays where it is. */
  readonly reads?: number;
  readonly loc: SourceLoc;
  readonly block: number;
  /** Passed through an `if`'s merge: a copy, not a computation of the user's. */
  readonly merge: boolean;
  dropped: boolean;
}
interface Branch {
  readonly k: "if";
  readonly cond: Ex;
  readonly then: Raw[];
  readonly else: Raw[];
  readonly inner: ReadonlySet<number>;
  readonly loc: SourceLoc;
}
interface Loop {
  readonly k: "loop";
  readonly loop: LoopStmt;
  readonly body: Raw[];
  /** The carried variables' adjoints: the phi they belong to, and the value at the start of an iteration. */
  readonly carried: readonly { readonly phi: number; readonly start: number }[];
  /** Values whose adjoint is their phi's (the `next` values written into the loop variable). */
  readonly nexts: ReadonlySet<number>;
  readonly inner: ReadonlySet<number>;
  readonly loc: SourceLoc;
}
/** A value the contributions after it read: a rule's `shared` computation, stored once. */
interface Shared {
  readonly k: "shared";
  readonly sym: Sym;
  readonly expr: Ex;
  readonly loc: SourceLoc;
}
type Raw = Contribution | Branch | Loop | Shared;

export function reverseMode(fn: FunctionIR, activity: Activity): CodeFunction {
  // under @checkpoint, a loop that fusion runs in one sweep keeps no tape: it stays as it is
  return reverseWith(fn, activity, fn.checkpoint ? fusedLoops(reverseWith(fn, activity, null).body) : null);
}

/** `fused`: under @checkpoint, the loops left as they are; null, checkpoint nothing. */
function reverseWith(fn: FunctionIR, activity: Activity, fused: ReadonlySet<LoopStmt> | null): CodeFunction {
  const cx = new TransformContext(fn, activity);
  const dout = cx.fresh("dout");
  const { backward, adjointEx, contributed } = new Reverser(cx, dout).run();

  // The forward pass keeps exactly the values the backward pass reads.
  const needed = new Set<number>();
  const symToValue = new Map<Sym, number>(fn.values.map((v) => [cx.valueSym(v.id), cx.root(v.id)]));
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
  cx.emittingPrimal = true;
  const forward = primal(cx, needed, plans);
  cx.emittingPrimal = false;
  const finish = (stmts: readonly CodeStmt[]): CodeStmt[] => stmts.flatMap((s) => {
    if (s.k === "if") return [{ ...s, then: finish(s.then), else: finish(s.else) }];
    if (s.k === "loop" && s.source) return backwardLoop(cx, plans.get(s.source)!, finish(s.body), s.origin!);
    return [s];
  });

  const edge = boundary(cx, fn);
  const grad = fn.params
    .filter((p) => p.wrt)
    .map((p) => [edge.key(p).name, contributed.has(p.value) ? adjointEx(p.value) : cx.zeroFor(p.value), edge.key(p).path] as const);
  const code: CodeStmt[] = [
    ...forward,
    ...(backward.length > 0 ? [{ k: "blank" } as const, ...finish(backward)] : []),
    { k: "return", value: cx.atomEx(fn.result), grad },
  ];
  const body = [...edge.prologue(code), ...code];
  return {
    name: `${fn.name}_grad`,
    source: fn.name,
    params: edge.params,
    dout: fn.resultType === "tensor" || fn.resultType === "array"
      ? { sym: dout, init: null, type: fn.resultText ?? (fn.resultType === "array" ? "ArrayLike<number>" : fn.result.kind === "value" ? cx.typeText(fn.result.id) : "number") }
      : { sym: dout, init: num(1) },
    into: cx.into === null ? null : {
      sym: cx.into,
      arrays: fn.params.filter((p) => cx.intoParam(p.value) !== null).map((p) => ({ name: p.name, type: "Float64Array" })),
    },
    runtimeModule: fn.runtimeModule,
    body,
    imports: fn.imports,
    reserved: reservedNames(fn),
  };
}

class Reverser {
  /** Adjoints that are another expression under a new name (the result's is `dout`). */
  private readonly alias = new Map<number, Ex>();
  private readonly byTarget = new Map<number, Contribution[]>();
  readonly contributed = new Set<number>();

  /** Active loop phis: their adjoints are loop variables, declared with `let` and never aliased away. */
  private readonly carriedPhis = new Set<number>();
  /** While a loop body is reversed: contributions to its phis go to the adjoint of the iteration's start value. */
  private readonly redirect = new Map<number, number>();
  /** Adjoint variables of values that are not IR values: the start of a loop iteration, and loop `next`s (their phi's). */
  private readonly syms = new Map<number, Sym>();
  private nextSynthetic: number;
  /** The phi each iteration-start adjoint belongs to. */
  private readonly startPhi = new Map<number, number>();
  /** The gradient buffer of each active array, and the array (its first value). */
  private readonly arrayAdjoints: ReadonlyMap<Sym, number>;

  constructor(private readonly cx: TransformContext, private readonly dout: Sym) {
    const { result } = cx.fn;
    this.nextSynthetic = cx.fn.values.length;
    // an array's gradient is one buffer, not carried round a loop
    for (const loop of cx.loops) for (const c of loop.carried) if (cx.activity.isActive(c.phi) && !cx.isArray(c.phi)) this.carriedPhis.add(c.phi);
    this.arrayAdjoints = new Map([...cx.activeArrays].map((id) => [cx.adjointSym(id), id]));
    if (result.kind === "value" && cx.activity.isActive(result.id) && !this.carriedPhis.has(result.id) && !cx.isArray(result.id)) {
      this.alias.set(result.id, ref(dout));
      this.contributed.add(result.id);
    }
  }

  run() {
    const { result } = this.cx.fn;
    const raw: Raw[] = [];
    if (result.kind === "value" && this.carriedPhis.has(result.id)) {
      this.contribute(raw, result.id, ref(this.dout), this.cx.fn.returnLoc, 0);
    }
    // an array result's gradient starts as a copy of dout, a Float64Array like every array's
    // gradient: the backward pass writes into it
    if (result.kind === "value" && this.cx.isArray(result.id) && this.cx.isActive(result.id)) {
      this.contribute(raw, result.id, newOf("Float64Array", ref(this.dout)), this.cx.fn.returnLoc, 0);
    }
    raw.push(...this.block(this.cx.fn.body, 0));
    return { backward: this.resolve(raw, new Set()), adjointEx: (id: number) => this.adjointEx(id), contributed: this.contributed };
  }

  private adjointSym(id: number): Sym {
    return this.syms.get(id) ?? this.cx.adjointSym(id);
  }

  private adjointEx(id: number): Ex {
    return this.alias.get(id) ?? ref(this.adjointSym(id));
  }

  private contribute(out: Raw[], target: number, expr: Ex, loc: SourceLoc, block: number, merge = false, at?: Ex, set?: boolean): void {
    target = this.cx.root(this.redirect.get(target) ?? target);
    let reads: number | undefined;
    forEachSym(expr, (sym) => {
      reads ??= this.arrayAdjoints.get(sym);
    });
    const c: Contribution = { k: "contrib", target, expr, at, set, reads, loc, block, merge, dropped: false };
    out.push(c);
    this.contributed.add(target);
    const list = this.byTarget.get(target) ?? [];
    list.push(c);
    this.byTarget.set(target, list);
  }

  /**
   * Called when the backward pass is about to read an adjoint: if its only contribution
   * just renames another adjoint — a temporary's (`dsum = dout`) or through an `if`'s
   * merge (`ds_2 = ds_3`) — read that one instead. A user's own `dsigx = dden` stays.
   */
  private settle(id: number): void {
    if (this.carriedPhis.has(id) || this.syms.has(id) || this.cx.isArray(id)) return;
    const list = this.byTarget.get(id);
    if (!list || list.length !== 1) return;
    const only = list[0]!;
    if (only.reads !== undefined) return;
    if (this.cx.isUser(id) && !only.merge) return;
    if (only.expr.k !== "ref" || only.block !== this.cx.blockOf.get(id)) return;
    only.dropped = true;
    this.alias.set(id, only.expr);
  }

  /** An element read's gradient goes straight into the array: `dx[i] += w[i] * ds`, not through a temporary. */
  private inlineOnce(id: number, block: number): void {
    const list = this.byTarget.get(id);
    if (this.cx.isUser(id) || this.cx.isArray(id) || !list || list.length !== 1 || list[0]!.dropped || list[0]!.merge || list[0]!.block !== block || list[0]!.reads !== undefined) return;
    list[0]!.dropped = true;
    this.alias.set(id, list[0]!.expr);
  }

  private block(stmts: readonly Stmt[], block: number): Raw[] {
    const { cx } = this;
    const out: Raw[] = [];
    for (const s of [...stmts].reverse()) {
      if (s.kind === "op") {
        // an array's writes are undone whenever the array is active: in a loop, what reads it
        // may come earlier in the body and be reversed after them
        if (!cx.activity.isActive(s.out) || !(cx.isArray(s.out) || this.contributed.has(s.out))) continue;
        const rule = ruleOf(s);
        if (!rule.vjp) continue; // a new array of zeros
        this.settle(s.out);
        // an element read's gradient goes straight into the array
        if (s.op === "index") this.inlineOnce(s.out, block);
        const p = {
          args: s.args.map((a) => cx.atomEx(a)),
          out: cx.atomEx({ kind: "value", id: s.out }),
          dout: this.adjointEx(s.out),
          types: cx.argTypes(s),
        };
        let shared: Ex | undefined;
        if (rule.shared) {
          const sym = cx.fresh(`${s.callee ?? rule.hint}Grads`);
          out.push({ k: "shared", sym, expr: rule.shared(p), loc: s.loc });
          shared = ref(sym);
        }
        const parts = twiceOnce(s, rule.vjp!({ ...p, shared }), p.types);
        // a rule with optional inputs answers for all of them
        if (parts.length !== (rule.arity === "variadic" ? s.args.length : rule.arity) || parts.length < s.args.length) {
          throw new Error(`rule '${s.op}' returned ${parts.length} gradients for ${s.args.length} inputs`);
        }
        // an element write's own `da[i] = 0` comes after what reads `da[i]`
        const order = s.args.map((_, i) => i).sort((i, j) => Number(isSet(parts[i])) - Number(isSet(parts[j])));
        for (const i of order) {
          const a = s.args[i]!;
          const part = parts[i];
          if (a.kind !== "value" || !part || !cx.isActive(a.id)) continue;
          if (isElement(part)) this.contribute(out, a.id, part.grad, s.loc, block, false, part.at, part.set);
          else this.contribute(out, a.id, part, s.loc, block);
        }
      } else if (s.kind === "loop") {
        out.push(...this.loop(s));
      } else {
        const live = s.outs.filter((o) => cx.activity.isActive(o.out) && this.contributed.has(o.out) && !cx.isArray(o.out));
        // an arm that writes an active array is reversed even before anything has read the
        // array (in a loop, the read may come earlier in the body and be reversed later)
        const writesArray = [...cx.innerOf.get(s)!].some((id) => cx.isArray(id) && cx.activity.isActive(id));
        if (live.length === 0 && !writesArray) continue;
        const arm = (which: "then" | "else") => {
          const id = cx.branchIds.get(s[which])!;
          const arm: Raw[] = [];
          for (const o of live) {
            this.settle(o.out);
            const a = o[which];
            if (a.kind === "value" && cx.activity.isActive(a.id)) this.contribute(arm, a.id, this.adjointEx(o.out), s.loc, id, true);
          }
          return [...arm, ...this.block(s[which], id)];
        };
        const then = arm("then");
        const otherwise = arm("else");
        if (then.length + otherwise.length > 0) {
          out.push({ k: "if", cond: cx.atomEx(s.cond), then, else: otherwise, inner: cx.innerOf.get(s)!, loc: s.loc });
        }
      }
    }
    return out;
  }

  /**
   * A loop runs backward: each carried variable's adjoint (`dh`) holds the gradient of its
   * value at the end of the iteration being undone; the reversed body turns it into the
   * gradient at the iteration's start, which the previous iteration continues from. After
   * the loop it is the gradient of the value that entered the loop.
   */
  private loop(s: LoopStmt): Raw[] {
    const { cx } = this;
    const inner = cx.innerOf.get(s)!;
    if (![...inner].some((id) => cx.activity.isActive(id))) return [];
    const active = s.carried.filter((c) => cx.activity.isActive(c.phi) && !cx.isArray(c.phi));
    const bodyBlock = cx.branchIds.get(s.body)!;
    const body: Raw[] = [];
    const carried: { phi: number; start: number }[] = [];
    const nexts = new Set<number>();
    for (const c of active) {
      // the adjoint of a phi is the outer loop's when the phi is that loop's `next`
      // (`acc` last assigned by an inner loop): one variable carries it through both
      this.contributed.add(c.phi);
      const start = this.nextSynthetic++;
      const phiSym = this.adjointSym(c.phi);
      this.syms.set(start, cx.fresh(phiSym.hint, false, cx.valueSym(c.phi)));
      carried.push({ phi: c.phi, start });
      this.startPhi.set(start, c.phi);
      this.redirect.set(c.phi, start);
      if (c.next.kind === "value" && inner.has(c.next.id) && c.next.id !== c.phi) {
        nexts.add(c.next.id);
        this.syms.set(c.next.id, phiSym);
        this.contributed.add(c.next.id);
      }
    }
    for (const c of active) {
      // a value carried in from outside the body (`h = w`): the gradient flows straight to it
      if (c.next.kind === "value" && !nexts.has(c.next.id) && cx.activity.isActive(c.next.id)) {
        this.contribute(body, c.next.id, ref(this.adjointSym(c.phi)), s.loc, bodyBlock);
      }
    }
    body.push(...this.block(s.body, bodyBlock));
    for (const c of active) this.redirect.delete(c.phi);
    // an accumulator (`s += ...`) hands its gradient back unchanged: no statement at all
    for (const c of carried) {
      const list = this.byTarget.get(c.start);
      const only = list?.length === 1 ? list[0]! : null;
      if (only && only.block === bodyBlock && only.expr.k === "ref" && only.expr.sym === this.adjointSym(c.phi)) {
        only.dropped = true;
        this.alias.set(c.start, only.expr);
      }
    }
    const raws: Raw[] = [{ k: "loop", loop: s, body, carried, nexts, inner, loc: s.loc }];
    for (const c of active) {
      if (c.init.kind === "value" && cx.activity.isActive(c.init.id)) this.contribute(raws, c.init.id, ref(this.adjointSym(c.phi)), s.loc, cx.blockOf.get(c.phi)!, true);
    }
    return raws;
  }

  /**
   * Turns contributions into declarations and `+=`. What a branch adds to is declared
   * before it: `let dx: number;` when both arms start by assigning it, else `let dx = 0;`.
   */
  private resolve(raws: readonly Raw[], declared: Set<number>, unassigned = new Set<number>()): CodeStmt[] {
    const out: CodeStmt[] = [];
    const base = (target: number) => this.startPhi.get(target) ?? target;
    const declare = (target: number) => {
      declared.add(target);
      out.push({ k: "decl", mutable: !this.cx.isArray(base(target)), sym: this.adjointSym(target), init: this.cx.zeroFor(base(target)), role: "backward" });
    };
    for (const r of raws) {
      if (r.k === "contrib" && r.reads !== undefined && !declared.has(r.reads)) declare(r.reads);
      if (r.k === "contrib" && r.at) {
        if (r.dropped) continue;
        if (!declared.has(r.target)) declare(r.target);
        out.push({ k: "assign", op: r.set ? "=" : "+=", sym: this.adjointSym(r.target), index: r.at, expr: r.expr, role: "backward", origin: r.loc });
        continue;
      }
      if (r.k === "shared") {
        out.push({ k: "decl", mutable: false, sym: r.sym, init: r.expr, role: "backward", origin: r.loc });
        continue;
      }
      if (r.k === "contrib" && this.cx.isArray(base(r.target))) {
        // a whole array's gradient (from a custom backward): the only one is taken as it is,
        // more are added element by element into an array of zeros
        if (r.dropped) continue;
        const sym = this.adjointSym(r.target);
        const count = this.byTarget.get(r.target)!.filter((c) => !c.dropped).length;
        // (an array result's gradient starts as a copy of dout, which later writes may change)
        const fresh = r.expr.k === "new" && r.expr.ctor === "Float64Array";
        // (under `@into`, a parameter's gradient goes into the caller's array: added, not taken)
        if (!declared.has(r.target) && (count === 1 || fresh) && this.cx.intoParam(base(r.target)) === null) {
          declared.add(r.target);
          // another array's gradient is a Float64Array already; a custom backward's array (a
          // `number[]`, say) is copied into one, the type every array's gradient has
          const taken = fresh || (r.expr.k === "ref" && this.arrayAdjoints.has(r.expr.sym)) ? r.expr : call("Float64Array.from", r.expr);
          out.push({ k: "decl", mutable: false, sym, init: taken, role: "backward", origin: r.loc });
          continue;
        }
        if (!declared.has(r.target)) declare(r.target);
        out.push(...this.addArray(sym, r.expr, r.loc));
        continue;
      }
      if (r.k === "contrib") {
        if (r.dropped) continue;
        const sym = this.adjointSym(r.target);
        if (unassigned.delete(r.target)) {
          out.push({ k: "assign", op: "=", sym, expr: r.expr, role: "backward", origin: r.loc });
        } else if (declared.has(r.target)) {
          out.push(this.cx.isTensor(base(r.target))
            ? { k: "assign", op: "=", sym, expr: this.cx.sum(base(r.target), ref(sym), r.expr), role: "backward", origin: r.loc }
            : { k: "assign", op: "+=", sym, expr: r.expr, role: "backward", origin: r.loc });
        } else {
          declared.add(r.target);
          const count = this.byTarget.get(r.target)!.filter((c) => !c.dropped).length;
          out.push({ k: "decl", mutable: !this.cx.isArray(r.target) && (count > 1 || this.carriedPhis.has(r.target)), sym, init: r.expr, role: "backward", origin: r.loc });
        }
        continue;
      }
      if (r.k === "loop") {
        for (const c of r.carried) if (!declared.has(c.phi)) declare(c.phi);
        // what the body adds to from outside is declared before it, an enclosing loop's
        // iteration-start adjoints too (only this loop's own live inside its body)
        const own = new Set(r.carried.map((c) => c.start));
        for (const target of targetsOf(r)) if (!r.inner.has(target) && !own.has(target) && !declared.has(target)) declare(target);
        const body = this.resolve(r.body, new Set([...declared, ...r.nexts]));
        for (const c of r.carried) {
          const expr = this.contributed.has(c.start) ? this.adjointEx(c.start) : this.cx.zeroFor(c.phi);
          body.push({ k: "assign", op: "=", sym: this.adjointSym(c.phi), expr, role: "backward", origin: r.loc });
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
        if (this.cx.isArray(base(target))) {
          declare(target);
          continue;
        }
        declared.add(target);
        const sym = this.adjointSym(target);
        if (startThen.has(target) && startElse.has(target)) {
          split.add(target);
          out.push({ k: "decl", mutable: true, sym, init: null, type: this.cx.typeText(base(target)), role: "backward" });
        } else {
          out.push({ k: "decl", mutable: true, sym, init: this.cx.zeroFor(base(target)), role: "backward" });
        }
      }
      out.push({
        k: "if", cond: r.cond, role: "backward", origin: r.loc,
        then: this.resolve(r.then, new Set(declared), new Set(split)),
        else: this.resolve(r.else, new Set(declared), new Set(split)),
      });
    }
    return mergeClears(out);
  }

  /** `for (let i = 0; i < dx.length; i++) dx[i] += g[i];`, with `g` stored first unless it is a variable. */
  private addArray(sym: Sym, expr: Ex, loc: SourceLoc): CodeStmt[] {
    const out: CodeStmt[] = [];
    let from = expr;
    if (!(expr.k === "ref" || (expr.k === "index" && expr.a.k === "ref"))) {
      const part = this.cx.fresh(`${sym.hint}Part`);
      out.push({ k: "decl", mutable: false, sym: part, init: expr, role: "backward", origin: loc });
      from = ref(part);
    }
    const i = this.cx.fresh("i");
    out.push({
      k: "loop", index: { sym: i, init: num(0), step: 1 }, cond: cmp("<", ref(i), prop(ref(sym), "length")),
      body: [{ k: "assign", op: "+=", sym, index: ref(i), expr: index(from, ref(i)), role: "backward", origin: loc }],
      role: "backward", origin: loc,
    });
    return out;
  }
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

function hasLoop(stmts: readonly CodeStmt[], loop: LoopStmt): boolean {
  return stmts.some((s) => (s.k === "loop" && (s.source === loop || hasLoop(s.body, loop))) || (s.k === "if" && (hasLoop(s.then, loop) || hasLoop(s.else, loop))));
}

const isElement = (part: Ex | ElementGrad): part is ElementGrad => "at" in part;
const isSet = (part: Ex | ElementGrad | null | undefined): boolean => !!part && isElement(part) && !!part.set;

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

/**
 * An operation that reads one value twice (`x * x`, `mul(W, W)`) gets the same
 * contribution from both inputs: it is computed once and doubled (`2 * x * dprod`,
 * `scale(mul(dprod, W), 2)`), one tensor computation instead of two and an add.
 */
function twiceOnce(s: OpStmt, parts: readonly (Ex | ElementGrad | null)[], types: readonly ValueType[]): (Ex | ElementGrad | null)[] {
  const out = [...parts];
  for (let j = 1; j < s.args.length; j++) {
    for (let i = 0; i < j; i++) {
      const [a, b] = [s.args[i]!, s.args[j]!];
      const [p, q] = [out[i], out[j]];
      if (a.kind !== "value" || b.kind !== "value" || a.id !== b.id || !p || !q || isElement(p) || isElement(q) || !sameEx(p, q)) continue;
      if (mutates(p)) continue; // each `stack.pop()` must run
      out[i] = types[i] === "tensor" ? rt("scale", p, num(2)) : twice(p);
      out[j] = null;
    }
  }
  return out;
}
