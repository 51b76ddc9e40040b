/**
 * Forward-mode differentiation of the code IR itself (what `f_grad` is made of), for
 * `f_hvp` (./hvp.ts): which variables of the code carry a tangent (an activity pass over
 * the code), and the tangent of each expression tree, from the rule table's `jvp` entries
 * wherever an operator or a call has one. An element read `a[i]` has the tangent
 * `a_dot[i]`, a stack's `pop()` pops the tangent stack, a fresh array is a zero tangent.
 * Tensors too: a call of a tensor operation, the user's (`matmul(X, W1)`, by its import) or
 * the backward code's runtime call (`sumTo(dplus, b1.shape)`), has its rule's `jvp`, given
 * which inputs are Tensors and which numbers; a Tensor's zero tangent is `zerosLike(x)`.
 */
import {
  add, cond, div, index, list, mul, neg, newOf, num, pow, prop, ref, rt, sub,
  forEachNode, forEachSym, isZeroRows, sameEx, type Ex, type Sym,
} from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";
import { tangentName } from "../emit/names.ts";
import type { ValueType } from "../ir/ir.ts";
import { RULES, type Rule } from "../rules/rules.ts";

/** A failure to differentiate the gradient code a second time, which hvp.ts reports at the function. */
export class SecondOrderError extends Error {
  /** `call`: the function called, where a call has no rule (a custom gradient's function or backward, a package's). */
  constructor(what: string, readonly why = "", readonly call?: string) {
    super(what);
  }
}

const LOGIC = new Set(["<", "<=", ">", ">=", "===", "!==", "&&", "||"]);
/** Methods whose result (or effect) on an array's tangent is the same method on the tangent array. */
const SAME_ON_TANGENT = new Set(["pop", "slice", "fill", "push", "shift", "reverse"]);
/** Methods that change their receiver: a statement of its own, never part of a larger expression. */
const EFFECTS = new Set(["pop", "push", "shift", "fill", "reverse"]);

/** Rebuilds an expression through the folding builders (after a symbol was replaced by a number: `invden * 1` is `invden`). */
export function refold(e: Ex): Ex {
  switch (e.k) {
    case "bin": {
      const [a, b] = [refold(e.a), refold(e.b)];
      switch (e.op) {
        case "+": return add(a, b);
        case "-": return sub(a, b);
        case "*": return mul(a, b);
        case "/": return div(a, b);
        case "**": return pow(a, b);
        default: return { ...e, a, b };
      }
    }
    case "neg": return neg(refold(e.a));
    case "not": case "prop": case "nonnull": return { ...e, a: refold(e.a) };
    case "index": return { ...e, a: refold(e.a), i: refold(e.i) };
    case "new": return { ...e, args: e.args.map(refold) };
    case "list": return { ...e, items: e.items.map(refold) };
    case "object": return { ...e, fields: e.fields.map(([k, y]) => [k, refold(y)] as const) };
    case "method": return { ...e, a: refold(e.a), args: e.args.map(refold) };
    case "call": return { ...e, args: e.args.map(refold) };
    case "cond": return cond(refold(e.c), refold(e.a), refold(e.b));
    default: return e;
  }
}

/** What the code's variables are, beside their statements: the parameters' kinds and the tensor operations' local names. */
export interface CodeKinds {
  /** The parameters holding arrays. */
  readonly arrays: readonly Sym[];
  /** The parameters holding Tensors. */
  readonly tensors: readonly Sym[];
  /** The rule-table key of each runtime import by its local name (`mm` → `tensor.matmul`). */
  readonly callees: ReadonlyMap<string, string>;
}

export class CodeTangents {
  /** Variables of the code that carry a tangent: they depend on the direction `v`. */
  readonly active = new Set<Sym>();
  /** Variables holding arrays (their zero tangent is an array). */
  readonly arrays = new Set<Sym>();
  /** Variables holding Tensors, and arrays of Tensors (tapes). */
  private readonly tensors = new Set<Sym>();
  private readonly tensorArrays = new Set<Sym>();
  private readonly callees: ReadonlyMap<string, string>;
  private readonly dots = new Map<Sym, Sym>();
  private nextId: number;

  constructor(seeds: readonly Sym[], kinds: CodeKinds, body: readonly CodeStmt[], firstId: number) {
    this.nextId = firstId;
    this.callees = kinds.callees;
    for (const s of seeds) this.active.add(s);
    for (const s of kinds.arrays) this.arrays.add(s);
    for (const s of kinds.tensors) this.tensors.add(s);
    this.findArrays(body);
    // flow-insensitive: a variable any statement writes a value depending on `v` into has a tangent throughout
    for (let changed = true; changed;) {
      changed = false;
      const mark = (s: Sym) => { if (!this.active.has(s)) { this.active.add(s); changed = true; } };
      const visit = (stmts: readonly CodeStmt[]) => {
        for (const s of stmts) {
          if (s.k === "decl" && s.init && this.isActive(s.init)) mark(s.sym);
          else if (s.k === "assign" && this.isActive(s.expr)) mark(s.sym);
          else if (s.k === "expr" && s.expr.k === "method" && s.expr.a.k === "ref" && s.expr.args.some((a) => this.isActive(a))) mark(s.expr.a.sym);
          else if (s.k === "loop") visit(s.body);
          else if (s.k === "if") { visit(s.then); visit(s.else); }
        }
      };
      visit(body);
    }
  }

  /** The tangent variable of `sym`: `dx_dot` for the adjoint `dx`, `pow_dot` for `pow`. */
  dot(sym: Sym): Sym {
    let d = this.dots.get(sym);
    if (!d) {
      d = { id: this.nextId++, hint: tangentName(sym.hint), user: false, tangentOf: sym };
      this.dots.set(sym, d);
    }
    return d;
  }

  fresh(hint: string): Sym {
    return { id: this.nextId++, hint, user: false };
  }

  /** The arrays and the Tensors among the variables, in the order the statements declare them. */
  private findArrays(body: readonly CodeStmt[]): void {
    const visit = (stmts: readonly CodeStmt[]) => {
      for (const s of stmts) {
        if (s.k === "decl" && (s.type === "Tensor[]" || (s.init?.k === "new" && s.init.ctor === "Array<Tensor>"))) this.tensorArrays.add(s.sym);
        if (s.k === "decl" && (s.type === "Tensor" || (s.init && this.isTensor(s.init)))) this.tensors.add(s.sym);
        else if (s.k === "assign" && !s.index && this.isTensor(s.expr)) this.tensors.add(s.sym);
        if (s.k === "decl" && ((s.type && /\[\]|Array/.test(s.type)) || (s.init && isNewArray(s.init)))) this.arrays.add(s.sym);
        else if (s.k === "assign" && s.index) this.arrays.add(s.sym);
        else if (s.k === "expr" && s.expr.k === "method" && s.expr.a.k === "ref" && s.expr.name === "push") this.arrays.add(s.expr.a.sym);
        else if (s.k === "loop") visit(s.body);
        else if (s.k === "if") { visit(s.then); visit(s.else); }
      }
    };
    visit(body);
  }

  /** Whether `e` is a Tensor: a tensor operation's result, a variable holding one, an element of a tape of them. */
  isTensor(e: Ex): boolean {
    switch (e.k) {
      case "ref": return this.tensors.has(e.sym);
      case "call": return this.ruleOf(e)[1]?.result === "tensor";
      case "index": return e.a.k === "ref" && this.tensorArrays.has(e.a.sym);
      case "method": return (e.name === "pop" || e.name === "shift") && e.a.k === "ref" && this.tensorArrays.has(e.a.sym);
      case "nonnull": return this.isTensor(e.a);
      case "cond": return this.isTensor(e.a) || this.isTensor(e.b);
      default: return false;
    }
  }

  /** The rule-table key and rule of an operator or a call: a runtime call by its name, a user's call of an import by what it imports. */
  private ruleOf(e: Extract<Ex, { k: "bin" | "call" }>): [string, Rule | undefined] {
    const key = e.k === "bin" ? e.op : e.runtime ? `tensor.${e.fn}` : this.callees.get(e.fn) ?? e.fn;
    return [key, RULES[key]];
  }

  /** The inputs of an operation that take a derivative: all but a tensor rule's static ones (an axis, labels, a shape). */
  private differentiated(rule: Rule | undefined, args: readonly Ex[]): boolean[] {
    return args.map((_, i) => rule?.signature?.[i] !== "static");
  }

  private typesOf(args: readonly Ex[]): ValueType[] {
    return args.map((a) => (this.isTensor(a) ? "tensor" : "number"));
  }

  /** Whether `e` depends on the direction (its tangent may be nonzero). */
  isActive(e: Ex): boolean {
    switch (e.k) {
      case "ref": return this.active.has(e.sym);
      case "bin": return !LOGIC.has(e.op) && (this.isActive(e.a) || this.isActive(e.b));
      case "neg": case "nonnull": return this.isActive(e.a);
      case "prop": return e.name !== "length" && this.isActive(e.a);
      case "index": return this.isActive(e.a);
      case "cond": return this.isActive(e.a) || this.isActive(e.b);
      case "list": return e.items.some((x) => this.isActive(x));
      case "new": return e.args.some((x) => this.isActive(x));
      // fresh zero rows (`W.map((row) => new Float64Array(row.length))`) depend on the shape only
      case "method": return !isZeroRows(e) && (this.isActive(e.a) || e.args.some((x) => this.isActive(x)));
      case "call": {
        const [, rule] = this.ruleOf(e);
        const live = this.differentiated(rule, e.args);
        return rule?.kind !== "zero" && rule?.kind !== "logic" && e.args.some((x, i) => live[i] && this.isActive(x));
      }
      default: return false;
    }
  }

  /**
   * The tangent of `e` (null: zero). `out`, when given, is how the tangent reads the value
   * of `e` itself (the variable it is stored in); otherwise `e` is recomputed where a rule needs it.
   */
  of(e: Ex, out?: Ex): Ex | null {
    if (!this.isActive(e)) return null;
    switch (e.k) {
      case "ref": return { k: "ref", sym: this.dot(e.sym) };
      case "neg": { const d = this.of(e.a); return d && neg(d); }
      case "nonnull": { const d = this.of(e.a); return d && { k: "nonnull", a: d }; }
      case "prop": { const d = this.of(e.a); return d && prop(d, e.name); }
      case "index": { const d = this.of(e.a); return d && { ...index(d, e.i), ...(e.optional ? { optional: true } : {}) }; }
      case "cond": return cond(e.c, this.of(e.a) ?? this.zeroLike(e.a), this.of(e.b) ?? this.zeroLike(e.b));
      case "list": return list(...e.items.map((x) => this.of(x) ?? num(0)));
      case "new": return newOf(e.ctor, ...e.args.map((x) => this.of(x) ?? x));
      case "method": {
        if (!SAME_ON_TANGENT.has(e.name) || !this.isActive(e.a)) throw new SecondOrderError(`the method \`${e.name}\``);
        if (e.args.some((x) => EFFECTS.has(e.name) && e.name !== "push" && this.isActive(x))) throw new SecondOrderError(`\`${e.name}\` of a differentiated value`);
        const d = this.of(e.a)!;
        return { k: "method", a: d, name: e.name, args: e.name === "push" ? e.args.map((x) => this.of(x) ?? this.zeroLike(x)) : e.args };
      }
      case "bin": case "call": {
        const [key, rule] = this.ruleOf(e);
        const args = e.k === "bin" ? [e.a, e.b] : e.args;
        if (!rule?.jvp) {
          const why = e.k === "bin" ? "" : key.startsWith("tensor.") ? `the runtime's \`${key.slice(7)}\` has no tangent rule in compiler/rules/tensor.ts` : "a custom `@gradient` or a package function, whose second derivative tsgrad does not know";
          throw new SecondOrderError(e.k === "bin" ? `the operator \`${key}\`` : `a call of \`${e.fn}\``, why, e.k === "call" ? e.fn : undefined);
        }
        for (const a of args) if (hasEffect(a)) throw new SecondOrderError(`a \`pop()\` inside \`${key}\``);
        const live = this.differentiated(rule, args);
        const dots = args.map((a, i) => (live[i] ? this.of(a) : null));
        return rule.jvp({ args, out: out ?? e, dots, types: this.typesOf(args) }, key);
      }
      default: return null;
    }
  }

  /** A new array that is not a copy of another (`new Float64Array(n)`, not `new Float64Array(a)`). */
  private isFresh(e: Ex): boolean {
    const inner = e.k === "method" ? e.a : e;
    const arg = inner.k === "new" ? inner.args[0] : undefined;
    return isNewArray(e) && !(arg && arg.k === "ref" && this.arrays.has(arg.sym));
  }

  /**
   * For `h = Math.tanh(w * h + ...)`, whose tangent reads the old `h` and the new: the
   * tangents of the call's inputs into variables before the statement (`sum_dot = w_dot * h + ...`),
   * and the tangent after it, reading the result (`(1 - h ** 2) * sum_dot`); null where the
   * tangent also reads an input that the statement overwrites.
   */
  split(e: Ex, sym: Sym): { temps: [Sym, Ex][]; tangent: Ex } | null {
    if (e.k !== "bin" && e.k !== "call") return null;
    const [key, rule] = this.ruleOf(e);
    const args = e.k === "bin" ? [e.a, e.b] : e.args;
    const live = this.differentiated(rule, args);
    const temps: [Sym, Ex][] = [];
    const dots = args.map((a, i): Ex | null => {
      const d = live[i] ? this.of(a) : null;
      if (d === null || d.k === "ref") return d;
      const inner = a.k === "bin" || a.k === "call" ? this.ruleOf(a)[1]?.hint : undefined;
      const temp = this.fresh(tangentName(inner ?? "arg"));
      temps.push([temp, d]);
      return { k: "ref", sym: temp };
    });
    const tangent = rule!.jvp!({ args, out: { k: "ref", sym }, dots, types: this.typesOf(args) }, key);
    if (tangent === null) return null;
    let stale = false;
    const fresh = new Set(temps.map(([s]) => s));
    // the result is read as `sym` on purpose; any other read of `sym` is of its old value
    const check = (x: Ex): void => {
      if (x.k === "ref" && fresh.has(x.sym)) return;
      for (const a of args) if (reads(a, sym) && containsEx(x, a)) stale = true;
    };
    check(tangent);
    return stale ? null : { temps, tangent };
  }

  /** A zero tangent shaped like `e` (stored in `sym`): 0, `zerosLike(e)` for a Tensor, or for an array a fresh array of zeros as long as it. */
  zeroLike(e: Ex, sym?: Sym): Ex {
    if (sym ? this.tensors.has(sym) : this.isTensor(e)) return rt("zerosLike", sym ? ref(sym) : e);
    const array = sym ? this.arrays.has(sym) : isNewArray(e) || (e.k === "ref" && this.arrays.has(e.sym));
    if (!array) return num(0);
    if (this.isFresh(e)) return e.k === "list" ? list(...e.items.map(() => num(0))) : e;
    return newOf("Float64Array", prop(e, "length"));
  }
}

/** `new Float64Array(n)`, `new Array<number>(n).fill(0)`, `[]`, zero rows: a new array (of zeros, or filled by the writes that follow). */
function isNewArray(e: Ex): boolean {
  if (isZeroRows(e)) return true;
  if (e.k === "list") return e.items.every((x) => x.k === "num");
  if (e.k === "new") return /Array/.test(e.ctor) && e.args.length <= 1;
  return e.k === "method" && e.name === "fill" && e.a.k === "new" && isNewArray(e.a);
}

export function hasEffect(e: Ex): boolean {
  switch (e.k) {
    // filling a new array changes nothing else
    case "method": return (EFFECTS.has(e.name) && e.a.k !== "new") || hasEffect(e.a) || e.args.some(hasEffect);
    case "bin": return hasEffect(e.a) || hasEffect(e.b);
    case "neg": case "nonnull": case "not": case "prop": return hasEffect(e.a);
    case "index": return hasEffect(e.a) || hasEffect(e.i);
    case "call": return e.args.some(hasEffect);
    case "cond": return hasEffect(e.c) || hasEffect(e.a) || hasEffect(e.b);
    default: return false;
  }
}

/** Whether `e` has the subtree `sub` (symbols by identity). */
function containsEx(e: Ex, sub: Ex): boolean {
  let found = false;
  forEachNode(e, (x) => { if (x === sub || sameEx(x, sub)) found = true; });
  return found;
}

/** Whether `e` reads `sym`. */
export function reads(e: Ex, sym: Sym): boolean {
  let found = false;
  forEachSym(e, (s) => { if (s === sym) found = true; });
  return found;
}
