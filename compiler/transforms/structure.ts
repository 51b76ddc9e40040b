/**
 * What the transforms know about one function's graph IR, before anything is named: where
 * each value is defined (its statement, block, loop), how often it is read, the loops and
 * their nesting, which arrays' values are one array, which element reads see a later write,
 * and the counted loops' indices. ./context.ts builds on it with the symbols and spelling.
 */
import { resultAtoms, type Atom, type FunctionIR, type IfStmt, type LoopStmt, type OpStmt, type Stmt, type ValueType } from "../ir/ir.ts";
import { ruleOf } from "../rules/rules.ts";
import type { Activity } from "../analyses/activity.ts";

export class ProgramIndex {
  /** The statement defining each value (params have none). */
  readonly defs = new Map<number, Stmt>();
  /** The block each value is defined in: 0 is the function body, then one per branch or loop block. */
  readonly blockOf = new Map<number, number>();
  /** Values defined inside each `if` or loop (at any depth). */
  readonly innerOf = new Map<IfStmt | LoopStmt, Set<number>>();
  /** Block ids of each branch. */
  readonly branchIds = new Map<Stmt[], number>();
  /** The innermost loop whose body or test defines each value (its phis belong to the loop too). */
  readonly loopOf = new Map<number, LoopStmt>();
  /** The loop enclosing each loop, or null at the top level. */
  readonly parentLoop = new Map<LoopStmt, LoopStmt | null>();
  /** How many times each value is read (by operations, branches, loops and the result). */
  readonly reads = new Map<number, number>();
  /** For each loop-carried value `next`, the phi whose variable holds it (it is assigned, not declared). */
  readonly carriedBy = new Map<number, number>();
  /** Every loop, outermost first. */
  readonly loops: LoopStmt[] = [];
  /** The element writes (`a[i] = v`, `a.push(v)`) of each array, by its first value. */
  readonly writesOf = new Map<number, OpStmt[]>();
  /** Each operation's place in program order. */
  private readonly order = new Map<OpStmt, number>();
  /** Arrays of which some value is active: their gradient buffer is shared by all their values. */
  readonly activeArrays = new Set<number>();
  private readonly roots = new Map<number, number>();

  constructor(readonly fn: FunctionIR, readonly activity: Activity) {
    let nextBlock = 0;
    const read = (a: Atom) => {
      if (a.kind === "value") this.reads.set(a.id, (this.reads.get(a.id) ?? 0) + 1);
    };
    const index = (stmts: Stmt[], block: number, loop: LoopStmt | null): number[] => {
      this.branchIds.set(stmts, block);
      const defined: number[] = [];
      for (const s of stmts) {
        if (s.kind === "op") {
          this.order.set(s, this.order.size);
          this.defs.set(s.out, s);
          this.blockOf.set(s.out, block);
          if (loop) this.loopOf.set(s.out, loop);
          s.args.forEach(read);
          defined.push(s.out);
        } else if (s.kind === "if") {
          read(s.cond);
          const inner = [...index(s.then, ++nextBlock, loop), ...index(s.else, ++nextBlock, loop)];
          this.innerOf.set(s, new Set(inner));
          for (const o of s.outs) {
            this.defs.set(o.out, s);
            this.blockOf.set(o.out, block);
            if (loop) this.loopOf.set(o.out, loop);
            read(o.then);
            read(o.else);
          }
          defined.push(...inner, ...s.outs.map((o) => o.out));
        } else {
          this.loops.push(s);
          this.parentLoop.set(s, loop);
          read(s.cond);
          for (const c of s.carried) {
            this.defs.set(c.phi, s);
            this.blockOf.set(c.phi, block);
            this.loopOf.set(c.phi, s);
            read(c.init);
            read(c.next);
          }
          const inner = [...index(s.test, ++nextBlock, s), ...index(s.body, ++nextBlock, s)];
          this.innerOf.set(s, new Set([...inner, ...s.carried.map((c) => c.phi)]));
          for (const c of s.carried) {
            if (c.next.kind === "value" && this.carriedBy.get(c.next.id) === undefined && this.retargets(s, c)) this.carriedBy.set(c.next.id, c.phi);
          }
          defined.push(...inner, ...s.carried.map((c) => c.phi));
        }
      }
      return defined;
    };
    index(fn.body, 0, null);
    for (const r of resultAtoms(fn)) read(r);
    for (const p of fn.params) this.blockOf.set(p.value, 0);
    for (const [id, def] of this.defs) {
      if (def.kind === "op" && ruleOf(def).write) {
        const list = this.writesOf.get(this.root(id)) ?? [];
        list.push(def);
        this.writesOf.set(this.root(id), list);
      }
      if (this.isArray(id) && activity.isActive(id)) this.activeArrays.add(this.root(id));
    }
    for (const p of fn.params) if (p.type === "array" && activity.isActive(p.value)) this.activeArrays.add(p.value);
  }

  /**
   * An array is one object however often it is written: its values (after each write, at
   * the top of a loop, after a branch) all lead back to the value that created it — a
   * parameter, `new Array(n).fill(0)` or a literal — which names the variable and its gradient.
   */
  root(id: number): number {
    if (!this.isArray(id)) return id;
    let r = this.roots.get(id);
    if (r === undefined) {
      this.roots.set(id, id); // a loop's phi reaches itself through its next value
      const def = this.defs.get(id);
      const from = def?.kind === "op" && ruleOf(def).write ? def.args[0]
        : def?.kind === "loop" ? def.carried.find((c) => c.phi === id)!.init
        : def?.kind === "if" ? def.outs.find((o) => o.out === id)!.then
        : undefined;
      r = from?.kind === "value" ? this.root(from.id) : id;
      this.roots.set(id, r);
    }
    return r;
  }

  /**
   * Whether an operation reads an array that may change after it (an element write, or for
   * `length` a push, later in the function or anywhere in a loop around both): its value
   * must be taken when it runs, not recomputed. The primal code evaluates a loop's
   * condition where it stands, so there it is recomputed all the same.
   */
  readsChanging(op: OpStmt): boolean {
    const a = op.args[0];
    if ((op.op !== "index" && op.op !== "length") || a?.kind !== "value" || !this.isArray(a.id)) return false;
    if (this.emittingPrimal && this.loops.some((l) => l.test.includes(op))) return false;
    const around = this.loopsAround(op.out);
    return (this.writesOf.get(this.root(a.id)) ?? []).some((w) =>
      (op.op === "index" || ruleOf(w).write === "push") &&
      (this.order.get(w)! > this.order.get(op)! || this.loopsAround(w.out).some((l) => around.includes(l))));
  }

  /** The loops around a value's definition, innermost first. */
  protected loopsAround(id: number): LoopStmt[] {
    const loops: LoopStmt[] = [];
    for (let l = this.loopOf.get(id) ?? null; l; l = this.parentLoop.get(l) ?? null) loops.push(l);
    return loops;
  }

  /** Whether a value is active; an array is when any of its values is. */
  isActive(id: number): boolean {
    return this.isArray(id) ? this.activeArrays.has(this.root(id)) : this.activity.isActive(id);
  }

  /**
   * Whether a loop's `next` value is written straight into the variable (`h = Math.tanh(...)`)
   * rather than declared and copied at the end of the body: it is a version of the same
   * variable (or tsgrad's counter), made at the top level of the body, and nothing reads
   * the old value after it (`readAfter`).
   */
  private retargets(loop: LoopStmt, c: LoopStmt["carried"][number]): boolean {
    if (c.next.kind !== "value") return false;
    const next = c.next.id;
    const at = loop.body.findIndex((s) => (s.kind === "op" ? s.out === next : s.kind === "if" && s.outs.some((o) => o.out === next)));
    const sameName = this.sameVariable(next, c.phi);
    return at >= 0 && (sameName || c.phi === loop.counter) && !this.readAfter(loop, at, c);
  }

  /**
   * Whether the iteration reads the value a carried variable started with after the body's
   * statement `at` defines its next value: then the step cannot overwrite the variable
   * (`a[k++] = v` is not `k += 1; a[k] = v`). A read counts directly or through a
   * temporary, which the emitted code may recompute or fold where it is read (`a[k] * w`
   * written after `k` is stepped); the copies of the other carried variables at the end
   * of the body read it too.
   */
  private readAfter(loop: LoopStmt, at: number, c: LoopStmt["carried"][number]): boolean {
    const seen = new Set<number>();
    const reads = (a: Atom): boolean => {
      if (a.kind !== "value") return false;
      if (a.id === c.phi) return true;
      const def = this.defs.get(a.id);
      if (seen.has(a.id) || this.isUser(a.id) || def === undefined || def.kind === "loop") return false;
      seen.add(a.id);
      return def.kind === "op" ? def.args.some(reads) : any([def]);
    };
    const any = (stmts: readonly Stmt[]): boolean => stmts.some((s) =>
      s.kind === "op" ? s.args.some(reads)
      : s.kind === "if" ? reads(s.cond) || s.outs.some((o) => reads(o.then) || reads(o.else)) || any(s.then) || any(s.else)
      : reads(s.cond) || s.carried.some((x) => reads(x.init) || reads(x.next)) || any(s.test) || any(s.body));
    return any(loop.body.slice(at + 1)) || loop.carried.some((x) => x !== c && reads(x.next));
  }

  /** Whether two values are versions of one user variable: the same name in the same function body. */
  sameVariable(a: number, b: number): boolean {
    const [u, v] = [this.fn.values[a]!, this.fn.values[b]!];
    return u.name !== null && u.name === v.name && u.scope === v.scope;
  }

  /** The loop `id` is a phi of, with its carried entry. */
  carriedOf(id: number): { loop: LoopStmt; carried: LoopStmt["carried"][number] } | null {
    const def = this.defs.get(id);
    if (def?.kind !== "loop") return null;
    return { loop: def, carried: def.carried.find((c) => c.phi === id)! };
  }

  /** A loop runs backward as a counted `for` when its index is the user's, inactive, and unread after the loop. */
  isCounted(loop: LoopStmt): boolean {
    if (!loop.counted) return false;
    const index = this.countedIndex(loop)!;
    return !this.activity.isActive(index) && (this.reads.get(index) ?? 0) === this.readsInside(loop, index);
  }

  /** The user's index of a counted loop: the phi whose next is `index + 1`. */
  countedIndex(loop: LoopStmt): number | null {
    if (!loop.counted) return null;
    for (const c of loop.carried) {
      const def = c.next.kind === "value" ? this.defs.get(c.next.id) : undefined;
      if (c.phi !== loop.counter && def?.kind === "op" && def.op === "+" && def.args[0]!.kind === "value" && def.args[0]!.id === c.phi) {
        const [, step] = def.args;
        if (step!.kind === "const" && step!.value === 1 && loop.test.some((t) => t.kind === "op" && t.args[0]?.kind === "value" && t.args[0].id === c.phi)) return c.phi;
      }
    }
    return null;
  }


  /** Reads of `id` by the loop's own statements (its test, body, and carried `next` atoms). */
  protected readsInside(loop: LoopStmt, id: number): number {
    let n = 0;
    const atom = (a: Atom) => {
      if (a.kind === "value" && a.id === id) n++;
    };
    const visit = (stmts: readonly Stmt[]) => {
      for (const s of stmts) {
        if (s.kind === "op") s.args.forEach(atom);
        else if (s.kind === "if") {
          atom(s.cond);
          s.outs.forEach((o) => { atom(o.then); atom(o.else); });
          visit(s.then);
          visit(s.else);
        } else {
          atom(s.cond);
          s.carried.forEach((c) => { atom(c.init); atom(c.next); });
          visit(s.test);
          visit(s.body);
        }
      }
    };
    atom(loop.cond);
    loop.carried.forEach((c) => atom(c.next));
    visit(loop.test);
    visit(loop.body);
    return n;
  }

  isArray(id: number): boolean {
    return id < this.fn.values.length && this.fn.values[id]!.type === "array";
  }

  isTensor(id: number): boolean {
    return id < this.fn.values.length && this.fn.values[id]!.type === "tensor";
  }

  /** The types of an operation's inputs. */
  argTypes(op: OpStmt): ValueType[] {
    return op.args.map((a) => (a.kind === "const" ? (typeof a.value === "boolean" ? "boolean" : typeof a.value === "string" ? "string" : "number") : this.fn.values[a.id]!.type));
  }

  isUser(id: number): boolean {
    return this.fn.values[id]!.name !== null;
  }

  /**
   * True while the primal statements are emitted (./primal.ts, for either mode): then a
   * loop's `next` value is read from its loop variable (it was written there); the backward
   * pass reads it from where it was restored. (Named so as not to be taken for forward-mode
   * AD, ./forward.ts.)
   */
  emittingPrimal = false;
}
