/**
 * Forward mode: `f_jvp(p1, ..., pn, tangents)` returns `{ value, tangent }`, the tangent
 * being J·t for the tangents `t` of the differentiated parameters. No tape: the primal
 * statements come from ./primal.ts, as for `f_grad`, and beside each one (inside the same
 * loops and branches) goes the statement computing its tangent, `x_dot` beside `x`, from
 * the rule table's `jvp`. A tangent reads the values its statement reads, so it goes before
 * the statement when the statement overwrites one of them (`h = Math.sin(h)` becomes
 * `h_dot = Math.cos(h) * h_dot; h = Math.sin(h)`), after it otherwise.
 *
 * Only active values (depending on a differentiated parameter, and reaching the result)
 * have tangents; every active value is a statement of its own, so a tangent always reads
 * variables. A variable holds one tangent whatever version of it is current: where an
 * inactive value is written into a variable some active value also lives in, its tangent
 * becomes zero.
 *
 * The stages (compiler/index.ts lists them, MODES): startTangents, tangents (what the
 * primal code keeps), loops (how each runs), tangent-primal (./primal.ts with the tangents
 * beside), forward (the function around them).
 */
import { forEachSym, method, num, prop, ref, rt, substitute, zeros, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeFunction, CodeStmt } from "../ir/code.ts";
import { boundary, optionalRecordType, pathEx, resultEx } from "./boundary.ts";
import { isNestedArray, reservedNames, type Atom, type FunctionIR, type IfStmt, type LoopStmt, type OpStmt, type Stmt } from "../ir/ir.ts";
import { CompileError } from "../diagnostics.ts";
import { ruleOf } from "../rules/rules.ts";
import type { Activity } from "../analyses/activity.ts";
import { TransformContext } from "./context.ts";
import { primal, type Beside } from "./primal.ts";
import { planLoops, type LoopPlan } from "./tape.ts";
import { tangentName } from "../emit/names.ts";

/** A function on its way through forward mode. */
export interface Tangent {
  readonly fn: FunctionIR;
  readonly cx: TransformContext;
  /** The emitted function's name (`f_jvp`). */
  readonly name: string;
  /** The parameter holding the tangents of the differentiated parameters. */
  readonly tangents: Sym;
  readonly beside: Tangents;
}

export function startTangents(fn: FunctionIR, activity: Activity, name: string): Tangent {
  rejectCustomGradients(fn, activity);
  const cx = new TransformContext(fn, activity);
  const tangents = cx.fresh("tangents");
  return { fn, cx, name, tangents, beside: new Tangents(cx) };
}

/** The `tangents` stage: the values the primal code keeps in variables, for the tangent statements to read. */
export function tangentReads<T extends Tangent>(t: T): T & { readonly needed: Set<number> } {
  return { ...t, needed: t.beside.needed() };
}

/** The `loops` stage: how each loop runs (nothing is saved for later: no tape). */
export function tangentLoops<T extends Tangent & { readonly needed: Set<number> }>(t: T): T & { readonly plans: Map<LoopStmt, LoopPlan> } {
  return { ...t, plans: planLoops(t.cx, t.needed, new Map()) };
}

/** The `tangent-primal` stage: the primal statements, each with its tangent's beside it. */
export function tangentPrimal<T extends Tangent & { readonly needed: Set<number>; readonly plans: Map<LoopStmt, LoopPlan> }>(t: T): T & { readonly code: CodeStmt[] } {
  t.cx.emittingPrimal = true;
  const code = primal(t.cx, t.needed, t.plans, t.beside);
  t.cx.emittingPrimal = false;
  return { ...t, code };
}

/** The `forward` stage: the jvp function, its tangent parameters read first. */
export function assembleTangent(t: Tangent & { readonly code: CodeStmt[] }): CodeFunction {
  const { fn, cx, tangents, beside, code } = t;
  cx.emittingPrimal = true;
  const wrt = fn.params.filter((p) => p.wrt);
  const edge = boundary(cx, fn);
  const inputs: CodeStmt[] = [];
  for (const p of fn.params) {
    const sym = cx.valueSym(p.value);
    if (!beside.has(sym)) continue;
    const key = edge.key(p);
    const given = p.wrt && cx.isActive(p.value) ? pathEx(ref(tangents), [key.name, ...key.path], true) : null;
    const zero = beside.zeroOf(p.value);
    inputs.push({ k: "decl", mutable: true, sym: beside.tangentSym(sym), init: given ? { k: "bin", op: "??", a: given, b: zero } : zero, role: "backward" });
  }
  const result = resultEx(fn, (a) => cx.atomEx(a));
  const tangent = resultEx(fn, (a) => (a.kind === "value" ? beside.dotOf(a) ?? beside.zeroOf(a.id) : num(0)));
  const ret: CodeStmt = { k: "return", value: result, grad: [], tangent };
  cx.emittingPrimal = false;
  return {
    name: t.name,
    source: fn.name,
    ...(fn.copied ? { copied: fn.copied } : {}),
    mode: "jvp",
    params: edge.params,
    dout: { sym: tangents, init: null, type: optionalRecordType(wrt.map((p) => ({ path: [edge.key(p).name, ...edge.key(p).path], type: p.typeText }))) },
    into: null,
    runtimeModule: fn.runtimeModule,
    body: [...edge.prologue([...inputs, ...code, ret]), ...inputs, ...code, ret],
    imports: fn.imports,
    reserved: reservedNames(fn),
  };
}

/**
 * A call of a function with a custom gradient (`@gradient fBackward`) carries only its
 * backward: where a differentiated value flows through it, forward mode has no rule.
 */
function rejectCustomGradients(fn: FunctionIR, activity: Activity): void {
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "if") { visit(s.then); visit(s.else); continue; }
      if (s.kind === "loop") { visit(s.test); visit(s.body); continue; }
      if (!s.custom?.backward || ruleOf(s).jvp) continue;
      if (!activity.isActive(s.out) && !s.args.some((a) => a.kind === "value" && activity.isActive(a.id))) continue;
      const name = s.custom.forward;
      throw new CompileError({
        line: s.loc.line, col: s.loc.col, length: Math.max(1, s.loc.text.length), ...(s.loc.file ? { file: s.loc.file } : {}),
        message: `\`${name}\` has a custom gradient (\`@gradient ${s.custom.backward}\`), which is a backward pass only, so \`${fn.name}_jvp\` (forward mode, \`@jvp\`) ` +
          `cannot differentiate this call: give \`${name}\` a forward derivative too (\`@tangent ${name}Tangent\`, with ` +
          `\`export function ${name}Tangent(...its parameters, out, ...their tangents)\` returning the result's tangent), leave \`@jvp\` off \`${fn.name}\`, ` +
          `or drop \`@gradient\` from \`${name}\` so that tsgrad differentiates its body`,
      });
    }
  };
  visit(fn.body);
}

const OUT: Sym = { id: -1, hint: "out", user: false };
const refs = (e: Ex, sym: Sym) => {
  let found = false;
  forEachSym(e, (s) => { if (s === sym) found = true; });
  return found;
};

/** The tangent statements beside the primal ones. */
export class Tangents implements Beside {
  private readonly syms = new Map<Sym, Sym>();
  /** Variables that hold an active value at some point, and so have a tangent. */
  private readonly carrying = new Set<Sym>();

  constructor(private readonly cx: TransformContext) {
    for (const v of cx.fn.values) {
      if (!cx.isActive(v.id)) continue;
      this.carrying.add(cx.forwardSym(v.id));
      this.carrying.add(cx.valueSym(v.id));
    }
  }

  has(sym: Sym): boolean {
    return this.carrying.has(sym);
  }

  tangentSym(of: Sym): Sym {
    let sym = this.syms.get(of);
    if (!sym) {
      sym = { ...this.cx.fresh(tangentName(of.hint)), tangentOf: of };
      this.syms.set(of, sym);
    }
    return sym;
  }

  /**
   * The values the primal code must keep as variables: every active one, and every input a
   * tangent rule reads (`x` in `x_dot * y + x * y_dot`).
   */
  needed(): Set<number> {
    const { cx } = this;
    const needed = new Set<number>();
    const markers = new Map<Sym, number>();
    const visit = (stmts: readonly Stmt[]) => {
      for (const s of stmts) {
        if (s.kind === "if") { visit(s.then); visit(s.else); continue; }
        if (s.kind === "loop") { visit(s.test); visit(s.body); continue; }
        const active = cx.isActive(s.out) && (!ruleOf(s).write || s.args.some((a) => a.kind === "value" && cx.isActive(a.id)));
        if (!active) continue;
        needed.add(cx.root(s.out));
        const args = s.args.map((a, i): Ex => {
          if (a.kind === "const") return cx.atomEx(a);
          const marker: Sym = { id: -2 - i, hint: "arg", user: false };
          markers.set(marker, a.id);
          return ref(marker);
        });
        const d = ruleOf(s).jvp?.({ args, out: ref(OUT), dots: s.args.map((a) => this.dotOf(a)), types: cx.argTypes(s) }, s.callee ?? s.op);
        if (d) forEachSym(d, (m) => { const id = markers.get(m); if (id !== undefined) needed.add(cx.root(id)); });
        markers.clear();
      }
    };
    visit(cx.fn.body);
    for (const v of cx.fn.values) if (cx.isActive(v.id)) needed.add(cx.root(v.id));
    return needed;
  }

  /** How the tangent of an atom is read: null where it is zero (a constant, an inactive value). */
  dotOf(a: Atom): Ex | null {
    const { cx } = this;
    if (a.kind === "const" || !cx.isActive(a.id)) return null;
    const def = cx.defs.get(a.id);
    // a value recomputed where it is read (`x[i]`) has its tangent recomputed too (`x_dot[i]`)
    if (def?.kind === "op" && cx.isRematerialised(a.id)) return this.jvpOf(def, cx.atomEx(a));
    return ref(this.tangentSym(cx.forwardSym(a.id)));
  }

  private jvpOf(s: OpStmt, out: Ex): Ex | null {
    const rule = ruleOf(s);
    if (!rule.jvp) throw new Error(`no tangent rule for '${s.op}'`);
    return rule.jvp({ args: s.args.map((a) => this.cx.atomEx(a)), out, dots: s.args.map((a) => this.dotOf(a)), types: this.cx.argTypes(s) }, s.callee ?? s.op);
  }

  /** A zero tangent shaped like the value `id`: 0, `zerosLike(t)`, or an array of zeros as long as it. */
  zeroOf(id: number): Ex {
    const { cx } = this;
    const x = cx.atomEx({ kind: "value", id });
    if (cx.isTensor(id)) return rt("zerosLike", x);
    if (!cx.isArray(id)) return num(0);
    if (isNestedArray(cx.typeText(id))) return cx.zeroRows(x);
    return zeros(prop(x, "length"), cx.typeText(id));
  }

  /** `sym_dot = d` (or its declaration, as the primal statement is one), with the primal statement's origin. */
  private write(stmt: CodeStmt & { k: "decl" | "assign" }, d: Ex): CodeStmt {
    const sym = this.tangentSym(stmt.sym);
    return stmt.k === "decl"
      ? { k: "decl", mutable: stmt.mutable, sym, init: d, type: stmt.type, typed: stmt.typed, role: "backward", origin: stmt.origin }
      : { k: "assign", op: "=", sym, expr: d, role: "backward", origin: stmt.origin };
  }

  /**
   * The tangent statement of a primal statement `stmt` (assigning `primalEx`), given its
   * tangent `d`, which reads the result as `OUT`: after the statement, unless it reads a
   * value the statement overwrites; then before it, with the result recomputed if it needs it.
   */
  private place(stmt: CodeStmt & { k: "decl" | "assign" }, d: Ex, primalEx: Ex) {
    const sym = stmt.sym;
    if (stmt.k === "assign" && refs(d, sym)) {
      return { before: [this.write(stmt, substitute(d, (s) => (s === OUT ? primalEx : undefined)))], after: [] };
    }
    return { before: [], after: [this.write(stmt, substitute(d, (s) => (s === OUT ? ref(sym) : undefined)))] };
  }

  op(s: OpStmt, stmt: CodeStmt) {
    const { cx } = this;
    const none = { before: [], after: [] };
    const write = ruleOf(s).write;
    if (write) {
      const array = s.args[0]!;
      if (array.kind !== "value" || !cx.isActive(array.id) || (stmt.k !== "assign" && stmt.k !== "expr")) return none;
      const d = this.jvpOf(s, ref(OUT));
      if (d === null) return none;
      const sym = this.tangentSym(cx.valueSym(cx.root(array.id)));
      const tangent: CodeStmt = stmt.k === "expr"
        ? { k: "expr", expr: method(ref(sym), "push", d), role: "backward", origin: s.loc }
        : { k: "assign", op: stmt.op, sym, index: stmt.index, expr: d, role: "backward", origin: s.loc };
      return { before: [], after: [tangent] };
    }
    if ((stmt.k !== "decl" && stmt.k !== "assign") || !this.carrying.has(stmt.sym)) return none;
    const primalEx = stmt.k === "decl" ? stmt.init! : stmt.expr;
    if (!cx.isActive(s.out)) return { before: [], after: [this.write(stmt, this.zeroOf(s.out))] };
    return this.place(stmt, this.jvpOf(s, ref(OUT)) ?? this.zeroOf(s.out), primalEx);
  }

  copy(to: number, from: Atom, stmt: CodeStmt): CodeStmt[] {
    if ((stmt.k !== "decl" && stmt.k !== "assign") || !this.carrying.has(stmt.sym)) return [];
    const d = (this.cx.isActive(to) ? this.dotOf(from) : null) ?? this.zeroOf(to);
    return [this.write(stmt, d)];
  }

  ternary(s: IfStmt, o: IfStmt["outs"][number], stmt: CodeStmt) {
    if ((stmt.k !== "decl" && stmt.k !== "assign") || !this.carrying.has(stmt.sym)) return { before: [], after: [] };
    const primalEx = stmt.k === "decl" ? stmt.init! : stmt.expr;
    const active = this.cx.isActive(o.out);
    const [a, b] = [active ? this.dotOf(o.then) : null, active ? this.dotOf(o.else) : null];
    if (a === null && b === null) return { before: [], after: [this.write(stmt, this.zeroOf(o.out))] };
    const zero = this.zeroOf(o.out);
    const c = primalEx.k === "cond" ? primalEx.c : this.cx.atomEx(s.cond);
    return this.place(stmt, { k: "cond", c, a: a ?? zero, b: b ?? zero }, primalEx);
  }

  hoist(_id: number, stmt: CodeStmt): CodeStmt[] {
    if (stmt.k !== "decl" || !this.carrying.has(stmt.sym)) return [];
    return [{ ...stmt, sym: this.tangentSym(stmt.sym), role: "backward", origin: undefined }];
  }
}
