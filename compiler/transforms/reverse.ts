/**
 * Reverse mode: walks the graph IR from the last operation to the first and, for each
 * active one, asks the rule table for its inputs' gradient contributions ("local gradient
 * × upstream gradient"). Contributions to one variable are summed in one place: the first
 * becomes `const dx = ...` (or `let` when more follow), later ones `dx += ...`. A branch is
 * reversed as a branch. The forward half comes from ./primal.ts.
 */
import { forEachSym, num, ref, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeFunction, CodeStmt } from "../ir/code.ts";
import type { FunctionIR, SourceLoc, Stmt } from "../ir/ir.ts";
import { RULES } from "../rules/rules.ts";
import type { Activity } from "../analyses/activity.ts";
import { TransformContext } from "./context.ts";
import { primal } from "./primal.ts";

interface Contribution {
  readonly k: "contrib";
  readonly target: number;
  readonly expr: Ex;
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
type Raw = Contribution | Branch;

export function reverseMode(fn: FunctionIR, activity: Activity): CodeFunction {
  const cx = new TransformContext(fn, activity);
  const dout = cx.fresh("dout");
  const { backward, adjointEx, contributed } = new Reverser(cx, dout).run();

  // The forward pass keeps exactly the values the backward pass reads.
  const needed = new Set<number>();
  const symToValue = new Map<Sym, number>(fn.values.map((v) => [cx.valueSym(v.id), v.id]));
  const collect = (stmts: readonly CodeStmt[]) => {
    for (const s of stmts) {
      if (s.k === "decl" && s.init) forEachSym(s.init, (x) => noteRead(x));
      else if (s.k === "assign") forEachSym(s.expr, (x) => noteRead(x));
      else if (s.k === "if") {
        forEachSym(s.cond, (x) => noteRead(x));
        collect(s.then);
        collect(s.else);
      }
    }
  };
  const noteRead = (sym: Sym) => {
    const id = symToValue.get(sym);
    if (id !== undefined) needed.add(id);
  };
  collect(backward);
  const forward = primal(cx, needed);

  const grad = fn.params
    .filter((p) => p.wrt)
    .map((p) => [p.name, contributed.has(p.value) ? adjointEx(p.value) : cx.zeroFor(p.value)] as const);
  const body: CodeStmt[] = [
    ...forward,
    ...(backward.length > 0 ? [{ k: "blank" } as const, ...backward] : []),
    { k: "return", value: cx.atomEx(fn.result), grad },
  ];
  const reserved = new Set<string>([
    fn.name, "Math",
    ...fn.params.map((p) => p.name),
    ...fn.values.flatMap((v) => (v.name ? [v.name] : [])),
    ...fn.imports.map((i) => i.local),
  ]);
  return {
    name: `${fn.name}_grad`,
    source: fn.name,
    params: fn.params.map((p) => ({ sym: cx.valueSym(p.value), type: p.typeText })),
    dout: fn.resultType === "tensor" ? { sym: dout, init: null, type: cx.typeText(fn.result.kind === "value" ? fn.result.id : -1) } : { sym: dout, init: num(1) },
    runtimeModule: fn.runtimeModule,
    body,
    imports: fn.imports,
    reserved: [...reserved].sort(),
  };
}

class Reverser {
  /** Adjoints that are another expression under a new name (the result's is `dout`). */
  private readonly alias = new Map<number, Ex>();
  private readonly byTarget = new Map<number, Contribution[]>();
  readonly contributed = new Set<number>();

  constructor(private readonly cx: TransformContext, dout: Sym) {
    const { result } = cx.fn;
    if (result.kind === "value" && cx.activity.isActive(result.id)) {
      this.alias.set(result.id, ref(dout));
      this.contributed.add(result.id);
    }
  }

  run() {
    const raw = this.block(this.cx.fn.body, 0);
    return { backward: this.resolve(raw, new Set()), adjointEx: (id: number) => this.adjointEx(id), contributed: this.contributed };
  }

  private adjointEx(id: number): Ex {
    return this.alias.get(id) ?? ref(this.cx.adjointSym(id));
  }

  private contribute(out: Raw[], target: number, expr: Ex, loc: SourceLoc, block: number, merge = false): void {
    const c: Contribution = { k: "contrib", target, expr, loc, block, merge, dropped: false };
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
    const list = this.byTarget.get(id);
    if (!list || list.length !== 1) return;
    const only = list[0]!;
    if (this.cx.isUser(id) && !only.merge) return;
    if (only.expr.k !== "ref" || only.block !== this.cx.blockOf.get(id)) return;
    only.dropped = true;
    this.alias.set(id, only.expr);
  }

  private block(stmts: readonly Stmt[], block: number): Raw[] {
    const { cx } = this;
    const out: Raw[] = [];
    for (const s of [...stmts].reverse()) {
      if (s.kind === "op") {
        if (!cx.activity.isActive(s.out) || !this.contributed.has(s.out)) continue;
        this.settle(s.out);
        const rule = RULES[s.op]!;
        const parts = rule.vjp!({
          args: s.args.map((a) => cx.atomEx(a)),
          out: cx.atomEx({ kind: "value", id: s.out }),
          dout: this.adjointEx(s.out),
          types: cx.argTypes(s),
        });
        // a rule with optional inputs answers for all of them
        if (parts.length !== (rule.arity === "variadic" ? s.args.length : rule.arity) || parts.length < s.args.length) {
          throw new Error(`rule '${s.op}' returned ${parts.length} gradients for ${s.args.length} inputs`);
        }
        s.args.forEach((a, i) => {
          const part = parts[i];
          if (a.kind === "value" && part && cx.activity.isActive(a.id)) this.contribute(out, a.id, part, s.loc, block);
        });
      } else {
        const live = s.outs.filter((o) => cx.activity.isActive(o.out) && this.contributed.has(o.out));
        if (live.length === 0) continue;
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
   * Turns contributions into declarations and `+=`. What a branch adds to is declared
   * before it: `let dx: number;` when both arms start by assigning it, else `let dx = 0;`.
   */
  private resolve(raws: readonly Raw[], declared: Set<number>, unassigned = new Set<number>()): CodeStmt[] {
    const out: CodeStmt[] = [];
    for (const r of raws) {
      if (r.k === "contrib") {
        if (r.dropped) continue;
        const sym = this.cx.adjointSym(r.target);
        if (unassigned.delete(r.target)) {
          out.push({ k: "assign", op: "=", sym, expr: r.expr, role: "backward", origin: r.loc });
        } else if (declared.has(r.target)) {
          out.push(this.cx.isTensor(r.target)
            ? { k: "assign", op: "=", sym, expr: this.cx.sum(r.target, ref(sym), r.expr), role: "backward", origin: r.loc }
            : { k: "assign", op: "+=", sym, expr: r.expr, role: "backward", origin: r.loc });
        } else {
          declared.add(r.target);
          const count = this.byTarget.get(r.target)!.filter((c) => !c.dropped).length;
          out.push({ k: "decl", mutable: count > 1, sym, init: r.expr, role: "backward", origin: r.loc });
        }
        continue;
      }
      const split = new Set<number>();
      const startThen = assignedFirst(r.then);
      const startElse = assignedFirst(r.else);
      for (const target of targetsOf(r)) {
        if (r.inner.has(target) || declared.has(target)) continue;
        declared.add(target);
        const sym = this.cx.adjointSym(target);
        if (startThen.has(target) && startElse.has(target)) {
          split.add(target);
          out.push({ k: "decl", mutable: true, sym, init: null, type: this.cx.typeText(target), role: "backward" });
        } else {
          out.push({ k: "decl", mutable: true, sym, init: this.cx.zeroFor(target), role: "backward" });
        }
      }
      out.push({
        k: "if", cond: r.cond, role: "backward", origin: r.loc,
        then: this.resolve(r.then, new Set(declared), new Set(split)),
        else: this.resolve(r.else, new Set(declared), new Set(split)),
      });
    }
    return out;
  }
}

/** Adjoints whose first contribution in an arm is a plain statement (not inside a nested branch). */
function assignedFirst(raws: readonly Raw[]): Set<number> {
  const seen = new Set<number>();
  const first = new Set<number>();
  for (const r of raws) {
    if (r.k === "contrib") {
      if (r.dropped) continue;
      if (!seen.has(r.target)) first.add(r.target);
      seen.add(r.target);
    } else {
      for (const t of targetsOf(r)) seen.add(t);
    }
  }
  return first;
}

/** The adjoints a branch adds to, in order of first contribution. */
function targetsOf(r: Branch): number[] {
  const seen: number[] = [];
  const visit = (raws: readonly Raw[]) => {
    for (const x of raws) {
      if (x.k === "if") visit([...x.then, ...x.else]);
      else if (!x.dropped && !seen.includes(x.target)) seen.push(x.target);
    }
  };
  visit([...r.then, ...r.else]);
  return seen;
}
