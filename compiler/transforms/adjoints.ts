/**
 * Reverse mode's walk (the `adjoints` stage): the graph IR from the last operation to the
 * first; for each active one, the rule table's contributions to its inputs' gradients
 * ("local gradient × upstream gradient"), kept as raw contributions per target, branches
 * and loops kept as such. ./resolve.ts then turns them into statements: the first
 * contribution to a variable becomes `const dx = ...` (or `let` when more follow), later
 * ones `dx += ...`. A branch is reversed as a branch, a loop as a loop running the other way.
 */
import { forEachSym, newOf, num, ref, rt, sameEx, twice, type Ex, type Sym } from "../ir/expr.ts";
import type { LoopStmt, OpStmt, SourceLoc, Stmt, ValueType } from "../ir/ir.ts";
import { ruleOf, type ElementGrad } from "../rules/rules.ts";
import type { TransformContext } from "./context.ts";
import { mutates } from "../analyses/uses.ts";
import { resolveAdjoints } from "./resolve.ts";
import { gradsName } from "../emit/names.ts";
import { pathEx } from "./boundary.ts";

export interface Contribution {
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
export interface Branch {
  readonly k: "if";
  readonly cond: Ex;
  readonly then: Raw[];
  readonly else: Raw[];
  readonly inner: ReadonlySet<number>;
  readonly loc: SourceLoc;
}
export interface Loop {
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
export interface Shared {
  readonly k: "shared";
  readonly sym: Sym;
  readonly expr: Ex;
  readonly loc: SourceLoc;
}
export type Raw = Contribution | Branch | Loop | Shared;

export class Reverser {
  /** Adjoints that are another expression under a new name (the result's is `dout`). */
  readonly alias = new Map<number, Ex>();
  readonly byTarget = new Map<number, Contribution[]>();
  readonly contributed = new Set<number>();

  /** Active loop phis: their adjoints are loop variables, declared with `let` and never aliased away. */
  readonly carriedPhis = new Set<number>();
  /** While a loop body is reversed: contributions to its phis go to the adjoint of the iteration's start value. */
  private readonly redirect = new Map<number, number>();
  /** Adjoint variables of values that are not IR values: the start of a loop iteration, and loop `next`s (their phi's). */
  readonly syms = new Map<number, Sym>();
  private nextSynthetic: number;
  /** The phi each iteration-start adjoint belongs to. */
  readonly startPhi = new Map<number, number>();
  /** The gradient buffer of each active array, and the array (its first value). */
  readonly arrayAdjoints: ReadonlyMap<Sym, number>;

  constructor(readonly cx: TransformContext, private readonly dout: Sym) {
    const { result } = cx.fn;
    this.nextSynthetic = cx.fn.values.length;
    // an array's gradient is one buffer, not carried round a loop
    for (const loop of cx.loops) for (const c of loop.carried) if (cx.activity.isActive(c.phi) && !cx.isArray(c.phi)) this.carriedPhis.add(c.phi);
    this.arrayAdjoints = new Map([...cx.activeArrays].map((id) => [cx.adjointSym(id), id]));
    if (!cx.fn.resultLeaves && result.kind === "value" && cx.activity.isActive(result.id) && !this.carriedPhis.has(result.id) && !cx.isArray(result.id)) {
      this.alias.set(result.id, ref(dout));
      this.contributed.add(result.id);
    }
  }

  run() {
    const { result, resultLeaves } = this.cx.fn;
    const raw: Raw[] = [];
    // a record result: each leaf's gradient starts from its field of dout (`dout.y`), an array's as a copy
    for (const leaf of resultLeaves ?? []) {
      if (leaf.atom.kind !== "value" || !this.cx.isActive(leaf.atom.id)) continue;
      const given = pathEx(ref(this.dout), leaf.path);
      this.contribute(raw, leaf.atom.id, this.cx.isArray(leaf.atom.id) ? newOf("Float64Array", given) : given, this.cx.fn.returnLoc, 0);
    }
    if (!resultLeaves && result.kind === "value" && this.carriedPhis.has(result.id)) {
      this.contribute(raw, result.id, ref(this.dout), this.cx.fn.returnLoc, 0);
    }
    // an array result's gradient starts as a copy of dout, a Float64Array like every array's
    // gradient: the backward pass writes into it
    if (!resultLeaves && result.kind === "value" && this.cx.isArray(result.id) && this.cx.isActive(result.id)) {
      this.contribute(raw, result.id, newOf("Float64Array", ref(this.dout)), this.cx.fn.returnLoc, 0);
    }
    raw.push(...this.block(this.cx.fn.body, 0));
    return { backward: resolveAdjoints(this, raw, new Set()), adjointEx: (id: number) => this.adjointEx(id), contributed: this.contributed };
  }

  adjointSym(id: number): Sym {
    return this.syms.get(id) ?? this.cx.adjointSym(id);
  }

  adjointEx(id: number): Ex {
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
          const sym = cx.fresh(gradsName(s.callee ?? rule.hint));
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
}

export const isElement = (part: Ex | ElementGrad): part is ElementGrad => "at" in part;
export const isSet = (part: Ex | ElementGrad | null | undefined): boolean => !!part && isElement(part) && !!part.set;

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
