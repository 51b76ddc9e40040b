/**
 * What the transforms share about one function: the symbol of each IR value and of its
 * adjoint, where each value is defined, and how a value is spelled in emitted code.
 */
import { add, bool, forEachSym, newOf, num, prop, ref, rt, str, type Ex, type Sym } from "../ir/expr.ts";
import { type Atom, type FunctionIR, type IfStmt, type LoopStmt, type OpStmt, type Stmt, type ValueType } from "../ir/ir.ts";
import { ruleOf } from "../rules/rules.ts";
import type { Activity } from "../analyses/activity.ts";

export class TransformContext {
  private nextSym = 0;
  private readonly valueSyms = new Map<number, Sym>();
  private readonly adjointSyms = new Map<number, Sym>();
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
          innermostFirst.push(s);
          defined.push(...inner, ...s.carried.map((c) => c.phi));
        }
      }
      return defined;
    };
    const innermostFirst: LoopStmt[] = [];
    index(fn.body, 0, null);
    read(fn.result);
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
    // after the rest: whether a read after the step is a recomputed one needs the writes and activity
    for (const s of innermostFirst) {
      for (const c of s.carried) {
        if (c.next.kind === "value" && this.carriedBy.get(c.next.id) === undefined && this.retargets(s, c)) this.carriedBy.set(c.next.id, c.phi);
      }
    }
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
   * must be taken when it runs, not recomputed. The forward pass evaluates a loop's
   * condition where it stands, so there it is recomputed all the same.
   */
  readsChanging(op: OpStmt): boolean {
    const a = op.args[0];
    if ((op.op !== "index" && op.op !== "length") || a?.kind !== "value" || !this.isArray(a.id)) return false;
    if (this.forwardMode && this.loops.some((l) => l.test.includes(op))) return false;
    const around = this.loopsAround(op.out);
    return (this.writesOf.get(this.root(a.id)) ?? []).some((w) =>
      (op.op === "index" || ruleOf(w).write === "push") &&
      (this.order.get(w)! > this.order.get(op)! || this.loopsAround(w.out).some((l) => around.includes(l))));
  }

  /** The loops around a value's definition, innermost first. */
  private loopsAround(id: number): LoopStmt[] {
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
   * variable (or tsgrad's counter), made at the top level of the body.
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

  /** The first index of a counted loop, as the header writes it: `0` in `for (let i = 0; ...)`. */
  loEx(loop: LoopStmt): Ex {
    const lo = loop.counted!.lo;
    const index = this.countedIndex(loop);
    const def = lo.kind === "value" ? this.defs.get(lo.id) : undefined;
    if (lo.kind === "value" && index !== null && def?.kind === "op" && this.valueSym(lo.id) === this.valueSym(index)) {
      return this.opEx(def, (a) => this.atomEx(a));
    }
    return this.atomEx(lo);
  }

  /** Reads of `id` by the loop's own statements (its test, body, and carried `next` atoms). */
  private readsInside(loop: LoopStmt, id: number): number {
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

  fresh(hint: string, user = false, adjointOf?: Sym): Sym {
    return { id: this.nextSym++, hint, user, adjointOf };
  }

  /**
   * The variable holding a value: the user's name (a later version gets `name_2`, ...) or a
   * temporary. A loop's phi shares the variable of its initial value when that value is the
   * same user variable and nothing else reads it: `let s = 0; for (...) s += ...`.
   *
   * Inside another loop, what an outer iteration saves for its backward pass is saved at
   * its end, so an inner loop's exit value must still be in its variable then: the inner
   * loop shares the outer loop's variable only when its exit value is what the outer
   * iteration ends with, and never the variable of a loop before it (which may be saved).
   */
  valueSym(id: number): Sym {
    if (this.isArray(id) && this.root(id) !== id) return this.valueSym(this.root(id));
    let sym = this.valueSyms.get(id);
    if (!sym) {
      const v = this.fn.values[id]!;
      const carried = this.carriedOf(id);
      const init = carried?.carried.init;
      const parent = carried ? this.parentLoop.get(carried.loop) ?? null : null;
      const from = init?.kind === "value" ? this.carriedOf(init.id) : null;
      const kept = parent === null || from === null || (from.loop === parent && from.carried.next.kind === "value" && from.carried.next.id === id);
      if (init?.kind === "value" && this.sameVariable(init.id, id) && this.reads.get(init.id) === 1 && !this.backwardReads(init.id) && kept) {
        sym = this.valueSym(init.id);
      } else {
        // a counted loop's index is declared in its own header: `j` again in a second `for (let j ...)`
        const ownScope = v.name !== null && this.loops.some((l) => l.counted && this.isCounted(l) && l.counted.lo.kind === "value" && l.counted.lo.id === id);
        // an inlined function's variables keep their names where nothing else has them, else
        // are numbered in order of appearance: `t`, `t_1`, `t_2`
        sym = v.name === null ? this.fresh(v.hint)
          : v.scope !== 0 ? this.fresh(v.name)
          : v.version === 1 || ownScope ? this.fresh(v.name, true)
          : this.fresh(`${v.name}_${v.version}`);
      }
      this.valueSyms.set(id, sym);
    }
    return sym;
  }

  /** Whether the backward pass may read a value that nothing else reads: its rule's vjp uses the output (`exp`, `tanh`). */
  private backwardReads(id: number): boolean {
    const def = this.defs.get(id);
    if (def?.kind !== "op" || !this.activity.isActive(id)) return def?.kind === "if" && this.activity.isActive(id);
    const rule = ruleOf(def);
    if (!rule.vjp) return false;
    const out: Sym = { id: -1, hint: "out", user: false };
    let reads = false;
    const p = { args: def.args.map(() => num(0)), out: ref(out), dout: num(1), types: this.argTypes(def) };
    const shared = rule.shared?.(p);
    const parts = rule.vjp({ ...p, shared: shared && num(0) });
    for (const part of [...parts, shared ?? null]) {
      if (part === null) continue;
      const e = "at" in part ? part.grad : part;
      forEachSym(e, (x) => { if (x === out) reads = true; });
    }
    return reads;
  }

  /** The variable the forward pass writes a value to: a loop's `next` goes straight into its phi's variable. */
  forwardSym(id: number): Sym {
    const phi = this.carriedBy.get(id);
    return phi === undefined ? this.valueSym(id) : this.valueSym(phi);
  }

  /**
   * The variable holding a value's adjoint, `d` + the value's name: the name of the
   * variable the forward pass writes it to (`dstep` for a loop's `step = ...`, not `dstep_3`).
   */
  adjointSym(id: number): Sym {
    if (this.isArray(id) && this.root(id) !== id) return this.adjointSym(this.root(id));
    let sym = this.adjointSyms.get(id);
    if (!sym) {
      const of = this.forwardSym(id);
      sym = this.fresh(`d${of.hint}`, false, of);
      this.adjointSyms.set(id, sym);
    }
    return sym;
  }

  /**
   * A value's type as written in the emitted code: `number`, `boolean`, the local name of the
   * runtime's `Tensor`, or for an array the type of the array it is (`number[]`,
   * `Float64Array`), which a declaration hoisted out of a branch is written with.
   */
  typeText(id: number): string {
    const type = this.fn.values[id]!.type;
    if (type === "array") return this.fn.values[this.root(id)]!.typeText ?? "number[]";
    if (type !== "tensor") return type;
    return this.fn.imports.find((i) => i.imported === "Tensor")?.local ?? "Tensor";
  }

  isArray(id: number): boolean {
    return id < this.fn.values.length && this.fn.values[id]!.type === "array";
  }

  isTensor(id: number): boolean {
    return id < this.fn.values.length && this.fn.values[id]!.type === "tensor";
  }

  /** `@into`'s argument: the arrays to write the array parameters' gradients into. */
  private intoSym: Sym | null = null;

  /** The `into` parameter of a function tagged `@into`, or null. */
  get into(): Sym | null {
    if (!this.fn.into) return null;
    return (this.intoSym ??= this.fresh("into"));
  }

  /** Under `@into`, the differentiated array parameter whose gradient buffer the caller may give (the value is its first). */
  intoParam(id: number): import("../ir/ir.ts").Param | null {
    if (!this.fn.into) return null;
    return this.fn.params.find((p) => p.value === id && p.wrt && p.type === "array") ?? null;
  }

  /**
   * The zero a value's adjoint starts from: `0`, `zerosLike(x)` for a tensor, and for an
   * array, whatever its kind (`number[]` too), a `Float64Array` of its length, which starts
   * as zeros (the contract: README "Arrays"); under `@into`, a parameter's array comes from
   * the caller when given (`into?.x?.fill(0) ?? new Float64Array(x.length)`).
   */
  zeroFor(id: number): Ex {
    const root = this.root(id);
    const v = this.fn.values[root]!;
    const x = this.atomEx({ kind: "value", id });
    if (v.type === "tensor") return rt("zerosLike", x);
    if (v.type === "array") {
      const fresh = newOf("Float64Array", prop(x, "length"));
      const param = this.intoParam(root);
      if (!param || !this.into) return fresh;
      const given: Ex = { k: "method", a: { k: "prop", a: ref(this.into), name: param.name, optional: true }, name: "fill", args: [num(0)], optional: true };
      return { k: "bin", op: "??", a: given, b: fresh };
    }
    return num(0);
  }

  /** `a + b` for two gradients of the value `id`: an operator for numbers, `add` for tensors. */
  sum(id: number, a: Ex, b: Ex): Ex {
    return this.isTensor(id) ? rt("add", a, b) : add(a, b);
  }

  /** The types of an operation's inputs. */
  argTypes(op: OpStmt): ValueType[] {
    return op.args.map((a) => (a.kind === "const" ? (typeof a.value === "boolean" ? "boolean" : typeof a.value === "string" ? "string" : "number") : this.fn.values[a.id]!.type));
  }

  isUser(id: number): boolean {
    return this.fn.values[id]!.name !== null;
  }

  /**
   * A temporary recomputed where it is read instead of being stored: a comparison (`if (x > 0)`
   * reads better than a temporary), an array's length or element (`x[i]`, `x.length`), and
   * inactive index arithmetic (`x[i + 1]`), when what it reads is a variable or recomputed too.
   */
  isRematerialised(id: number): boolean {
    const def = this.defs.get(id);
    if (def?.kind !== "op" || this.isUser(id)) return false;
    const rule = ruleOf(def);
    if (this.readsChanging(def)) return false;
    const cheap = rule.kind === "logic" || def.op === "length" || def.op === "index" || def.op === "read" ||
      (!this.activity.isActive(id) && (rule.kind === "linear" || rule.kind === "bilinear") && rule.result === "number" && !def.op.startsWith("tensor."));
    if (!cheap) return false;
    return def.args.every((a) => a.kind === "const" || this.isUser(a.id) || this.fn.values[a.id]!.param || this.isRematerialised(a.id));
  }

  /**
   * While the forward pass is emitted, a loop's `next` value is read from its loop
   * variable (it was written there); the backward pass reads it from where it was restored.
   */
  forwardMode = false;

  /** How the emitted code reads an atom: a literal, a variable, or a recomputed comparison. */
  atomEx(a: Atom): Ex {
    if (a.kind === "const") return typeof a.value === "boolean" ? bool(a.value) : typeof a.value === "string" ? str(a.value) : { k: "num", value: a.value, text: a.text };
    if (this.isRematerialised(a.id)) return this.opEx(this.defs.get(a.id) as OpStmt, (x) => this.atomEx(x));
    return ref(this.forwardMode ? this.forwardSym(a.id) : this.valueSym(a.id));
  }

  /** An operation's forward expression, with its inputs spelled by `arg`. */
  opEx(op: OpStmt, arg: (a: Atom) => Ex): Ex {
    return ruleOf(op).forward(op.args.map(arg), op.callee ?? op.op);
  }
}
