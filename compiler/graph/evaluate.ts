/**
 * An evaluator of the graph IR: runs a function at a point, keeping every value it computes
 * (one *instance* per value per loop iteration), then walks the run backwards and computes
 * the adjoint of every instance and the contribution of every use ("local gradient ×
 * upstream gradient", from the rule table's vjp). The drawing reads its numbers from here;
 * test/graph/evaluate.test.ts proves that the result and the parameters' gradients agree
 * with the generated `f_grad` on every fixture, and that every instance's adjoint agrees with
 * a finite difference through the run.
 *
 * Arrays are copied on every element write, so each instance keeps the value it had.
 */
import type { Atom, FunctionIR, IfStmt, LoopStmt, OpStmt, Stmt } from "../ir/ir.ts";
import { ref, type Ex, type Sym } from "../ir/expr.ts";
import { ruleOf, type ElementGrad, type Rule } from "../rules/rules.ts";
import { analyseActivity, type Activity } from "../analyses/activity.ts";
import { run, type Callable } from "./interpret.ts";
import { addGrad, asGrad, copyGrad, isNumberArray, zeroLike, type Grad } from "./values.ts";

/** Where an entry ran: inside which loop iterations and branch arms, outermost first. */
export type Frame =
  | { readonly kind: "loop"; readonly stmt: LoopStmt; readonly iteration: number; readonly run: number }
  | { readonly kind: "if"; readonly stmt: IfStmt; readonly arm: "then" | "else" };

export interface Instance {
  readonly id: number;
  /** The IR value it is an instance of. */
  readonly value: number;
  readonly val: unknown;
  /** The entry that computed it, or -1 for a parameter. */
  readonly def: number;
}

/** One operation as it ran, or a `phi` copy (a loop-carried or merged variable taking a value). */
export interface Entry {
  readonly index: number;
  readonly kind: "op" | "phi";
  readonly stmt: OpStmt | null;
  /** Per input: the instance read, or null for a constant. */
  readonly args: readonly (number | null)[];
  /** Per input: the constant's value, or null where an instance is read. */
  readonly consts: readonly (number | boolean | string | null)[];
  readonly out: number;
  readonly frames: readonly Frame[];
}

export interface Evaluation {
  readonly fn: FunctionIR;
  readonly activity: Activity;
  readonly instances: readonly Instance[];
  readonly entries: readonly Entry[];
  /** Per parameter (in order): its instance. */
  readonly params: readonly number[];
  /** The instance returned, or null for a constant result. */
  readonly result: number | null;
  readonly value: unknown;
  readonly dout: Grad | undefined;
  /**
   * Per instance: its gradient, or undefined where none reaches it (inactive, or unused). A
   * loop's start value that the loop overwrites before reading it has a zero one: the loop
   * takes it in (and would hand it on, run no times), as f_grad's zero for it says.
   */
  readonly adjoint: readonly (Grad | undefined)[];
  /** Per entry, per input: what this use adds to the input's gradient. */
  readonly contributions: readonly (readonly (Grad | undefined)[])[];
  /** The gradient of each differentiated parameter, as `f_grad` returns it in `grad`. */
  readonly grad: Readonly<Record<string, Grad>>;
  /** Per loop statement: the iteration count of each time it ran. */
  readonly trips: ReadonlyMap<LoopStmt, readonly number[]>;
}

export interface EvaluateOptions {
  /** The upstream gradient of the result (1 by default for a number result). */
  readonly dout?: Grad;
  /** Functions the IR calls by name: custom gradients' forward and backward, package functions. */
  readonly external?: (name: string) => Callable | undefined;
  /** Adds `by` to one instance as soon as it is computed (for finite differences through the run). */
  readonly nudge?: { readonly instance: number; readonly by: number };
  /** At most this many entries (operations run); beyond it, an error. */
  readonly maxEntries?: number;
}

/** An input the evaluator cannot run with (a missing `dout`, too many steps): a message for the user. */
export class EvaluationError extends Error {}

export function evaluate(fn: FunctionIR, args: readonly unknown[], options: EvaluateOptions = {}): Evaluation {
  const ev = new Evaluator(fn, options);
  return ev.evaluate(args);
}

class Evaluator {
  private readonly instances: Instance[] = [];
  private readonly entries: Entry[] = [];
  /** IR value id to its current instance. */
  private readonly env = new Map<number, number>();
  private readonly trips = new Map<LoopStmt, number[]>();
  private frames: readonly Frame[] = [];
  /** The `phi` entries that give a loop's carried variables their start values. */
  private readonly starts = new Set<number>();
  private readonly activity: Activity;
  private readonly limit: number;

  constructor(private readonly fn: FunctionIR, private readonly options: EvaluateOptions) {
    this.activity = analyseActivity(fn);
    this.limit = options.maxEntries ?? 200_000;
  }

  evaluate(args: readonly unknown[]): Evaluation {
    const { fn } = this;
    if (args.length !== fn.params.length) {
      throw new EvaluationError(`\`${fn.name}\` takes ${fn.params.length} argument(s) (${fn.params.map((p) => p.name).join(", ")}), given ${args.length}`);
    }
    if (fn.resultLeaves) {
      throw new EvaluationError(`\`${fn.name}\` returns a record (\`${fn.resultText}\`): the graph draws a function of one result; draw a function that returns one of its fields`);
    }
    const params = fn.params.map((p, i) => this.define(p.value, args[i], -1));
    this.block(fn.body);
    const result = fn.result.kind === "value" ? this.env.get(fn.result.id)! : null;
    const value = result === null ? (fn.result as Extract<Atom, { kind: "const" }>).value : this.instances[result]!.val;
    const dout = this.upstream(value);
    const { adjoint, contributions } = this.backward(result, dout);
    const grad: Record<string, Grad> = {};
    fn.params.forEach((p, i) => {
      if (!p.wrt) return;
      const g = adjoint[params[i]!] ?? zeroLike(this.instances[params[i]!]!.val);
      if (g !== undefined) grad[p.name] = g;
    });
    return {
      fn, activity: this.activity, instances: this.instances, entries: this.entries, params, result, value, dout,
      adjoint, contributions, grad, trips: this.trips,
    };
  }

  private upstream(value: unknown): Grad | undefined {
    if (this.options.dout !== undefined) return this.options.dout;
    if (typeof value === "number") return 1;
    if (zeroLike(value) === undefined) return undefined;
    throw new EvaluationError(`\`${this.fn.name}\` returns ${this.fn.resultType === "tensor" ? "a Tensor" : "an array"}: give its upstream gradient (dout) shaped like the result`);
  }

  private define(value: number, val: unknown, def: number): number {
    const nudge = this.options.nudge;
    const id = this.instances.length;
    const v = nudge && nudge.instance === id && typeof val === "number" ? val + nudge.by : val;
    this.instances.push({ id, value, val: v, def });
    this.env.set(value, id);
    return id;
  }

  private read(a: Atom): unknown {
    return a.kind === "const" ? a.value : this.instances[this.env.get(a.id)!]!.val;
  }

  private record(kind: Entry["kind"], stmt: OpStmt | null, atoms: readonly Atom[], out: number, val: unknown): void {
    if (this.entries.length >= this.limit) {
      throw new EvaluationError(`\`${this.fn.name}\` runs more than ${this.limit} operations at this point: draw it at smaller inputs (shorter arrays, fewer iterations)`);
    }
    const index = this.entries.length;
    const args = atoms.map((a) => (a.kind === "value" ? this.env.get(a.id)! : null));
    // a string constant (a flag compared with `===`) carries no number to draw
    const consts = atoms.map((a) => (a.kind === "const" && typeof a.value !== "string" ? a.value : null));
    const instance = this.define(out, val, index);
    this.entries.push({ index, kind, stmt, args, consts, out: instance, frames: this.frames });
  }

  private block(stmts: readonly Stmt[]): void {
    for (const s of stmts) {
      if (s.kind === "op") this.op(s);
      else if (s.kind === "if") this.branch(s);
      else if (s.kind === "loop") this.loop(s);
      else throw new EvaluationError(`the graph cannot run a \`${(s as { kind: string }).kind}\` statement yet (line ${(s as Stmt).loc.line})`);
    }
  }

  private op(s: OpStmt): void {
    const rule = ruleOf(s);
    const vals = s.args.map((a) => this.read(a));
    this.record("op", s, s.args, s.out, rule.write ? write(rule, vals) : forward(s, rule, vals, this.external));
  }

  private readonly external = (name: string) => this.options.external?.(name);

  private branch(s: IfStmt): void {
    const arm = this.read(s.cond) ? "then" : "else";
    const outer = this.frames;
    this.frames = [...outer, { kind: "if", stmt: s, arm }];
    this.block(arm === "then" ? s.then : s.else);
    for (const o of s.outs) {
      const from = arm === "then" ? o.then : o.else;
      this.record("phi", null, [from], o.out, this.read(from));
    }
    this.frames = outer;
  }

  private loop(s: LoopStmt): void {
    const outer = this.frames;
    const runs = this.trips.get(s) ?? [];
    this.trips.set(s, runs);
    const runIndex = runs.length;
    runs.push(0);
    let iteration = 0;
    this.frames = [...outer, { kind: "loop", stmt: s, iteration, run: runIndex }];
    for (const c of s.carried) {
      this.starts.add(this.entries.length);
      this.record("phi", null, [c.init], c.phi, this.read(c.init));
    }
    for (;;) {
      this.frames = [...outer, { kind: "loop", stmt: s, iteration, run: runIndex }];
      this.block(s.test);
      if (!this.read(s.cond)) break;
      this.block(s.body);
      // every carried variable takes its next value together, as at the end of an iteration
      const next = s.carried.map((c) => this.read(c.next));
      const nextAtoms = s.carried.map((c) => c.next);
      s.carried.forEach((c, i) => this.record("phi", null, [nextAtoms[i]!], c.phi, next[i]));
      iteration += 1;
      runs[runIndex] = iteration;
    }
    this.frames = outer;
  }

  private backward(result: number | null, dout: Grad | undefined) {
    const adjoint: (Grad | undefined)[] = new Array(this.instances.length).fill(undefined);
    const contributions: (Grad | undefined)[][] = this.entries.map((e) => e.args.map(() => undefined));
    const active = (instance: number) => this.activity.isActive(this.instances[instance]!.value);
    const give = (e: Entry, i: number, g: Grad) => {
      const to = e.args[i]!;
      contributions[e.index]![i] = g;
      adjoint[to] = adjoint[to] === undefined ? copyGrad(g) : addGrad(adjoint[to]!, g);
    };
    if (result !== null && dout !== undefined && active(result)) adjoint[result] = copyGrad(dout);
    for (let k = this.entries.length - 1; k >= 0; k--) {
      const e = this.entries[k]!;
      // a start value the loop overwrote before reading it: the loop still takes it in, with a zero gradient (as f_grad's)
      if (adjoint[e.out] === undefined && this.starts.has(k) && active(e.out)) adjoint[e.out] = zeroLike(this.instances[e.out]!.val);
      const g = adjoint[e.out];
      if (g === undefined || !active(e.out)) continue;
      if (e.kind === "phi") {
        if (e.args[0] !== null && active(e.args[0]!)) give(e, 0, g);
        continue;
      }
      const stmt = e.stmt!;
      const rule = ruleOf(stmt);
      if (!rule.vjp) continue;
      const parts = vjp(rule, e, g, this.instances, this.external);
      parts.forEach((part, i) => {
        const from = e.args[i];
        if (part === undefined || from === null || from === undefined || !active(from)) return;
        give(e, i, part);
      });
    }
    return { adjoint, contributions };
  }
}

/** A fresh symbol for binding one value in a rule's expressions. */
const symbol = (() => {
  let next = 0;
  return (hint: string): Sym => ({ id: --next, hint, user: false });
})();

function bindings(values: readonly unknown[]) {
  const syms = values.map((_, i) => symbol(`a${i}`));
  const table = new Map<Sym, unknown>(syms.map((s, i) => [s, values[i]]));
  return { exs: syms.map(ref) as Ex[], table, bind: (s: Sym, v: unknown) => table.set(s, v) };
}

function forward(s: OpStmt, rule: Rule, vals: readonly unknown[], external: (name: string) => Callable | undefined): unknown {
  // tensor ops and runtime helpers are called by their canonical name, whatever the user's import alias
  const callee = s.custom ? s.custom.forward : s.op === "array.zeros" ? s.callee ?? "Array" : s.op === "read" ? s.callee ?? "" : s.op;
  const b = bindings(vals);
  return run(rule.forward(b.exs, callee), { lookup: (sym) => b.table.get(sym), external });
}

/** An element write (`a[i] = v`, `a[i] += v`, `a[i] -= v`, `a.push(v)`) on a copy of the array. */
function write(rule: Rule, [array, at, v]: readonly unknown[]): unknown {
  const source = array as number[] | Float64Array;
  if (rule.write === "push") return [...Array.from(source), v as number];
  const copy = source.slice();
  const i = at as number;
  copy[i] = rule.write === "=" ? (v as number) : rule.write === "+=" ? copy[i]! + (v as number) : copy[i]! - (v as number);
  return copy;
}

/** The contribution of one use to each input (undefined: none), from the rule's vjp. */
function vjp(rule: Rule, e: Entry, dout: Grad, instances: readonly Instance[], external: (name: string) => Callable | undefined): (Grad | undefined)[] {
  const vals = e.args.map((a, i) => (a === null ? e.consts[i] : instances[a]!.val));
  const b = bindings(vals);
  const outSym = symbol("out");
  const doutSym = symbol("dout");
  b.bind(outSym, instances[e.out]!.val);
  b.bind(doutSym, dout);
  const scope = { lookup: (sym: Sym) => b.table.get(sym), external };
  const types = e.stmt!.args.map((_, i) => typeOf(vals[i]));
  let shared: Ex | undefined;
  const p = { args: b.exs, out: ref(outSym), dout: ref(doutSym), types, shared };
  if (rule.shared) {
    const sharedSym = symbol("shared");
    b.bind(sharedSym, run(rule.shared(p), scope));
    shared = ref(sharedSym);
  }
  const parts = rule.vjp!({ ...p, shared });
  return vals.map((val, i) => {
    const part = parts[i] ?? null;
    // a write hands the rest of the array's gradient straight through (the emitted code keeps one buffer)
    const through = rule.write && i === 0 ? Array.from(dout as number[]).slice(0, (val as ArrayLike<number>).length) : undefined;
    if (part === null) return through;
    if (isElementGrad(part)) {
      const base = through ?? (zeroLike(val) as number[]);
      const g = run(part.grad, scope) as number;
      // a nested array's element: `at` is `[i, j]`
      const at = run(part.at, scope) as number | [number, number];
      const [row, k] = Array.isArray(at) ? [(base as unknown as number[][])[at[0]]!, at[1]] : [base, at];
      row[k] = part.set ? g : row[k]! + g;
      return base;
    }
    return asGrad(run(part, scope));
  });
}

const isElementGrad = (x: Ex | ElementGrad): x is ElementGrad => "at" in x && "grad" in x && !("k" in x);

function typeOf(v: unknown): "number" | "boolean" | "tensor" | "array" {
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "boolean";
  if (isNumberArray(v)) return "array";
  return "tensor";
}
