/**
 * Second order, forward over reverse: `f_hvp(p1, ..., pn, v)` returns
 * `{ value, grad, hvp }`, `hvp.p` being (H·v) restricted to `p`, the Hessian of `f` times
 * the direction `v` (keyed by parameter like `f_jvp`'s tangents, a missing key a zero
 * direction). It is the tangent of `f_grad` along `v`: this transform takes the finished
 * gradient code (after fuse, combine and carry) and writes beside each statement its
 * tangent statement (./tangent-code.ts), inside the same loops and branches, seeded with
 * the parameters' tangents `v` and `dout`'s tangent 0 (`dout` is 1: the result is a number).
 * A record's, tuple's or nested array's direction and `hvp` keep its shape, as `grad` does
 * (./boundary.ts): the leaves `f_grad`'s first lines name get their tangents from `v` by path.
 *
 * Names: `x_dot` is the tangent of `x` (the direction, `v.x`, for a parameter), and the
 * tangent of an adjoint `dx` is `dx_dot`, the entry of H·v for `x`; a tape `hs` has the
 * tangent tape `hs_dot`. Only the variables that depend on `v` get tangents.
 *
 * A tangent statement reads what its primal statement reads: it goes after the primal
 * statement, unless the primal overwrites something the tangent reads (`h = Math.tanh(h)`),
 * then before it.
 */
import { forEachSym, index, num, prop, ref, rt, sameEx, zeroRows, zeros, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeFunction, CodeStmt } from "../ir/code.ts";
import { isNestedArray, type FunctionIR, type OpStmt, type Stmt } from "../ir/ir.ts";
import { keyOf, optionalRecordType, pathEx } from "./boundary.ts";
import { CompileError } from "../diagnostics.ts";
import { runtimeKey } from "../parse/syntax.ts";
import { CodeTangents, SecondOrderError, hasEffect, reads, refold } from "./tangent-code.ts";

const OUT: Sym = { id: -1, hint: "out", user: false };

/**
 * `f_hvp` from the finished `f_grad` of `fn` (compiler/index.ts's `hvp` mode, derived from
 * reverse mode); a located error says why a function cannot have one.
 */
export function hvpMode(fn: FunctionIR, grad: CodeFunction): CodeFunction {
  const fail = (message: string): never => {
    throw new CompileError({ line: fn.loc.line, col: fn.loc.col, length: Math.max(1, fn.loc.text.length), ...(fn.loc.file ? { file: fn.loc.file } : {}), message });
  };
  if (fn.resultType !== "number") fail(`\`@hvp\` needs a \`number\` result: the Hessian-vector product is of a scalar function, and \`${fn.name}\` returns a ${fn.resultText ?? (fn.resultType === "tensor" ? "Tensor" : fn.resultType)}: give \`@hvp\` to a function that reduces it to a number (a loss, \`item(sum(...))\`), or leave \`@hvp\` off \`${fn.name}\``);
  const ret = grad.body.find((s): s is Extract<CodeStmt, { k: "return" }> => s.k === "return")!;
  const { prologue, inputs } = inputsOf(fn, grad, fail);
  const wrt = inputs.filter((p) => p.wrt);

  // `dout` is 1 and has no tangent; `into` is f_grad's alone
  const body = withoutInto(grad.body.slice(prologue.length), grad.into?.sym).map((s) => replaceSym(s, grad.dout.sym, num(1)));
  let maxId = 0;
  const visitIds = (e: Ex) => forEachSym(e, (s) => { maxId = Math.max(maxId, s.id); });
  for (const p of grad.params) maxId = Math.max(maxId, p.sym.id);
  forEachStmtExpr(grad.body, visitIds);
  const kinds = {
    arrays: inputs.flatMap((p) => (p.sym && isArrayType(p.type) ? [p.sym] : [])),
    tensors: inputs.flatMap((p) => (p.sym && p.type === "Tensor" ? [p.sym] : [])),
    callees: new Map(grad.imports.flatMap((i) => { const key = runtimeKey(i); return key ? [[i.local, key] as const] : []; })),
  };
  const t = new CodeTangents(wrt.flatMap((p) => (p.sym ? [p.sym] : [])), kinds, body, maxId + 1000);
  const v = t.fresh("v");

  let code: CodeStmt[];
  try {
    code = tangentBlock(t, body.filter((s) => s.k !== "return"));
  } catch (e) {
    if (!(e instanceof SecondOrderError)) throw e;
    if (e.call) customCallError(fn, e.call);
    return fail(`\`${fn.name}_hvp\` (\`@hvp\`) cannot differentiate ${e.message} in \`${fn.name}_grad\` a second time yet${e.why ? ` (${e.why})` : ""}: leave \`@hvp\` off \`${fn.name}\``);
  }
  // the direction's entry for each differentiated input (`v.params?.w`); a parameter that is not
  // differentiated but is assigned a value depending on `v` starts with a zero tangent
  const seeds: CodeStmt[] = inputs.filter((p) => p.sym && t.active.has(p.sym)).map((p) => ({
    k: "decl", mutable: true, sym: t.dot(p.sym!), role: "backward",
    init: p.wrt ? { k: "bin", op: "??", a: pathEx(ref(v), [p.key.name, ...p.key.path], true), b: zeroOf(p.at, p.type, t) } : zeroOf(p.at, p.type, t),
  }));
  const done = body.find((s): s is Extract<CodeStmt, { k: "return" }> => s.k === "return")!;
  const hvp = ret.grad.map(([name, g, path], i) => [name, t.of(g) ?? zeroOf(wrt[i]!.at, wrt[i]!.type, t, true), path] as const);
  return {
    ...grad,
    name: `${fn.name}_hvp`,
    mode: "hvp",
    dout: { sym: v, init: null, type: optionalRecordType(wrt.map((p) => ({ path: [p.key.name, ...p.key.path], type: p.type }))) },
    into: null,
    body: [...prologue, ...withoutDeadTangents([...seeds, ...code, { ...done, hvp }])],
  };
}

/**
 * Where `f_grad` calls a function with a custom gradient (`sq`, or its backward `sqBackward`)
 * along the direction: an error at that call in the source, saying what to write instead.
 * The Hessian needs the derivative of the hand-written backward itself, which tsgrad does
 * not write (docs/second-order.md, "Custom gradients"). Nothing is thrown for another call.
 */
function customCallError(fn: FunctionIR, name: string): void {
  const find = (stmts: readonly Stmt[]): OpStmt | undefined => {
    for (const s of stmts) {
      const found = s.kind === "if" ? find(s.then) ?? find(s.else) : s.kind === "loop" ? find(s.test) ?? find(s.body) : s.kind === "op" && s.custom?.backward && (s.custom.forward === name || s.custom.backward === name) ? s : undefined;
      if (found) return found;
    }
    return undefined;
  };
  const s = find(fn.body);
  if (!s?.custom?.backward) return;
  const { forward, backward } = s.custom;
  throw new CompileError({
    line: s.loc.line, col: s.loc.col, length: Math.max(1, s.loc.text.length), ...(s.loc.file ? { file: s.loc.file } : {}),
    message: `\`${fn.name}_hvp\` (\`@hvp\`) cannot differentiate this call of \`${forward}\` twice: \`${forward}\` has a custom gradient (\`@gradient ${backward}\`), ` +
      `and the Hessian needs the derivative of \`${backward}\` itself, which tsgrad does not write (a \`@tangent\` gives \`${forward}\`'s first derivative only): ` +
      `drop \`@gradient ${backward}\` from \`${forward}\` so that tsgrad differentiates its body twice, or leave \`@hvp\` off \`${fn.name}\``,
  });
}

/**
 * A parameter of `f` as `f_grad` reads it: a parameter of its own (`x`), or a record's or
 * tuple's leaf, which the gradient's first lines name (`const params_w = params.w`; `sym`
 * null where nothing reads it); `at` reads its value, `key` is where its entries of `v`,
 * `grad` and `hvp` go.
 */
interface Input {
  readonly sym: Sym | null;
  readonly at: Ex;
  readonly type: string;
  readonly key: { readonly name: string; readonly path: readonly (string | number)[] };
  readonly wrt: boolean;
}

/** The inputs of `f_grad`, and its first lines naming the leaves (transforms/boundary.ts's prologue). */
function inputsOf(fn: FunctionIR, grad: CodeFunction, fail: (message: string) => never): { prologue: CodeStmt[]; inputs: Input[] } {
  const inputs = fn.params.map((p): Input => {
    const key = keyOf(p);
    const root = grad.params.find((q) => q.sym.hint === key.name)?.sym ?? fail(`\`@hvp\` cannot find the parameter \`${key.name}\` of \`${fn.name}\`: pass it as a parameter of its own`);
    const at = pathEx(ref(root), key.path);
    const leaf = key.path.length === 0 ? null : grad.body.find((s): s is Extract<CodeStmt, { k: "decl" }> => s.k === "decl" && !!s.init && sameEx(s.init, at));
    return { sym: key.path.length === 0 ? root : leaf?.sym ?? null, at: leaf ? ref(leaf.sym) : at, type: p.typeText, key, wrt: p.wrt };
  });
  const leaves = new Set(inputs.map((p) => p.sym));
  let n = 0;
  while (grad.body[n]?.k === "decl" && leaves.has((grad.body[n] as Extract<CodeStmt, { k: "decl" }>).sym)) n++;
  return { prologue: grad.body.slice(0, n), inputs };
}

const isArrayType = (t: string) => /\[\]|Array/.test(t);

/**
 * A zero direction for the input read as `x`, of type `type`: 0, `zerosLike(x)`, an array of
 * zeros as long as `x`, or for a nested array a row of zeros per row (`hvp` takes `Float64Array` rows, as `grad`).
 */
function zeroOf(x: Ex, type: string, t: CodeTangents, typed = false): Ex {
  if (type === "Tensor") return rt("zerosLike", x);
  if (isNestedArray(type)) return zeroRows(x, t.fresh("row"));
  if (!isArrayType(type)) return num(0);
  return zeros(prop(x, "length"), typed ? "Float64Array" : type);
}

function tangentBlock(t: CodeTangents, stmts: readonly CodeStmt[]): CodeStmt[] {
  const out: CodeStmt[] = [];
  for (const s of stmts) {
    switch (s.k) {
      case "loop": out.push({ ...s, body: tangentBlock(t, s.body) }); break;
      case "if": out.push({ ...s, then: tangentBlock(t, s.then), else: tangentBlock(t, s.else) }); break;
      case "decl": {
        out.push(s);
        if (!t.active.has(s.sym)) break;
        const d = s.init ? (t.of(s.init, ref(s.sym)) ?? t.zeroLike(s.init, s.sym)) : null;
        out.push({ ...s, sym: t.dot(s.sym), init: d });
        break;
      }
      case "assign": {
        if (!t.active.has(s.sym)) { out.push(s); break; }
        const d0 = t.of(s.expr, ref(OUT));
        if (d0 === null && s.op !== "=") { out.push(s); break; }
        const write = (d: Ex): CodeStmt => ({ ...s, sym: t.dot(s.sym), expr: d });
        if (d0 === null) {
          out.push(s, write(s.index ? t.zeroLike(s.expr) : t.zeroLike(s.expr, s.sym)));
          break;
        }
        // after the statement, reading its result; before it where it overwrites what the tangent reads
        const before = reads(d0, s.sym);
        const split = before && !s.index && s.op === "=" && reads(d0, OUT) ? t.split(s.expr, s.sym) : null;
        if (split) {
          out.push(...split.temps.map(([sym, e]): CodeStmt => ({ k: "decl", mutable: false, sym, init: e, role: s.role, origin: s.origin })), s, write(split.tangent));
          break;
        }
        const outEx = before || s.op !== "=" ? s.expr : s.index ? index(ref(s.sym), s.index) : ref(s.sym);
        const d = substituteOut(d0, outEx);
        if (before) out.push(write(d), s);
        else out.push(s, write(d));
        break;
      }
      case "expr": {
        out.push(s);
        const d = t.of(s.expr);
        if (d) out.push({ ...s, expr: d });
        break;
      }
      default: out.push(s);
    }
  }
  return out;
}

/**
 * Drops the tangents nothing reads (`value_dot`: the value's tangent is not returned), and
 * then those only they read, until every tangent left reaches `hvp`. A statement with an
 * effect (a tape's `pop()`) stays, keeping its tape in step, unless nothing reads what the
 * tangent tape's pops give (a Tensor saved for its `.shape` alone): then the tangent tape
 * goes, its pushes and pops with it.
 */
function withoutDeadTangents(body: CodeStmt[]): CodeStmt[] {
  for (;;) {
    // every read, for the assignments; a declaration's reads are those after it in its block
    const read = new Set<Sym>();
    readsOf(body, read);
    // the tangent tapes something reads: a pop whose result nothing reads does not count
    const liveTapes = new Set<Sym>();
    readsOf(withoutUnreadPops(body), liveTapes);
    const deadTape = (s: CodeStmt): boolean => {
      const tape = s.k === "decl" && s.init ? poppedTape(s.init) : s.k === "expr" && s.expr.k === "method" && s.expr.name === "push" && s.expr.a.k === "ref" ? s.expr.a.sym : null;
      return tape !== null && tape.tangentOf !== undefined && !liveTapes.has(tape);
    };
    let removed = false;
    const prune = (stmts: readonly CodeStmt[]): CodeStmt[] => {
      const after = new Set<Sym>();
      const kept: CodeStmt[] = [];
      for (let k = stmts.length - 1; k >= 0; k--) {
        let s = stmts[k]!;
        const target = s.k === "decl" || s.k === "assign" ? s.sym
          : s.k === "expr" && s.expr.k === "method" && s.expr.name === "push" && s.expr.a.k === "ref" ? s.expr.a.sym : null;
        const e = s.k === "decl" ? s.init : s.k === "assign" ? s.expr : s.k === "expr" && s.expr.k === "method" ? { k: "list" as const, items: s.expr.args } : null;
        if (target?.tangentOf && (!(e && hasEffect(e)) || deadTape(s)) && !(s.k === "decl" ? after : read).has(target)) {
          removed = true;
          continue;
        }
        if (s.k === "loop") s = { ...s, body: prune(s.body) };
        else if (s.k === "if") s = { ...s, then: prune(s.then), else: prune(s.else) };
        readsOf([s], after);
        kept.push(s);
      }
      return kept.reverse();
    };
    body = prune(body);
    if (!removed) return body;
  }
}

/** The tape `e` pops from (`hs_dot.pop()!`), or null. */
function poppedTape(e: Ex): Sym | null {
  const inner = e.k === "nonnull" ? e.a : e;
  return inner.k === "method" && (inner.name === "pop" || inner.name === "shift") && inner.a.k === "ref" ? inner.a.sym : null;
}

/** `stmts` without the declarations of tangents popped from a tangent tape that nothing after them in their block reads. */
function withoutUnreadPops(stmts: readonly CodeStmt[]): CodeStmt[] {
  const after = new Set<Sym>();
  const kept: CodeStmt[] = [];
  for (let k = stmts.length - 1; k >= 0; k--) {
    let s = stmts[k]!;
    if (s.k === "decl" && s.sym.tangentOf && s.init && poppedTape(s.init)?.tangentOf && !after.has(s.sym)) continue;
    if (s.k === "loop") s = { ...s, body: withoutUnreadPops(s.body) };
    else if (s.k === "if") s = { ...s, then: withoutUnreadPops(s.then), else: withoutUnreadPops(s.else) };
    readsOf([s], after);
    kept.push(s);
  }
  return kept.reverse();
}

/** Adds the variables `stmts` read to `read`; a variable read only by its own updates (`s_dot = s_dot + e_dot`) is not. */
function readsOf(stmts: readonly CodeStmt[], read: Set<Sym>): void {
  const note = (e: Ex, self?: Sym) => forEachSym(e, (s) => { if (s !== self) read.add(s); });
  for (const s of stmts) {
    switch (s.k) {
      case "decl": if (s.init) note(s.init); break;
      case "assign": note(s.expr, s.sym); if (s.index) note(s.index); break;
      case "expr":
        if (s.expr.k === "method" && s.expr.name === "push" && s.expr.a.k === "ref") s.expr.args.forEach((a) => note(a));
        else note(s.expr);
        break;
      case "if": note(s.cond); readsOf(s.then, read); readsOf(s.else, read); break;
      case "loop": if (s.index) note(s.index.init); note(s.cond); readsOf(s.body, read); break;
      case "return": note(s.value); s.grad.forEach(([, g]) => note(g)); s.hvp?.forEach(([, h]) => note(h)); break;
      default: break;
    }
  }
}

function substituteOut(e: Ex, by: Ex): Ex {
  return replaceInEx(e, (s) => (s === OUT ? by : undefined), false);
}

/** `e` with every read of a symbol `f` maps replaced, rebuilt through the folding builders when `fold`. */
function replaceInEx(e: Ex, f: (s: Sym) => Ex | undefined, fold: boolean): Ex {
  const go = (x: Ex): Ex => {
    switch (x.k) {
      case "ref": return f(x.sym) ?? x;
      case "bin": return { ...x, a: go(x.a), b: go(x.b) };
      case "neg": case "not": case "prop": case "nonnull": return { ...x, a: go(x.a) };
      case "index": return { ...x, a: go(x.a), i: go(x.i) };
      case "new": return { ...x, args: x.args.map(go) };
      case "list": return { ...x, items: x.items.map(go) };
      case "object": return { ...x, fields: x.fields.map(([k, y]) => [k, go(y)] as const) };
      case "method": return { ...x, a: go(x.a), args: x.args.map(go) };
      case "call": return { ...x, args: x.args.map(go) };
      case "cond": return { ...x, c: go(x.c), a: go(x.a), b: go(x.b) };
      default: return x;
    }
  };
  const r = go(e);
  return fold ? refold(r) : r;
}

/** `s` with `sym` read as `by` everywhere (and the trivial algebra that makes folded). */
function replaceSym(s: CodeStmt, sym: Sym, by: Ex): CodeStmt {
  const r = (e: Ex) => (reads(e, sym) ? replaceInEx(e, (x) => (x === sym ? by : undefined), true) : e);
  switch (s.k) {
    case "decl": return s.init ? { ...s, init: r(s.init) } : s;
    case "assign": return { ...s, expr: r(s.expr), ...(s.index ? { index: r(s.index) } : {}) };
    case "expr": return { ...s, expr: r(s.expr) };
    case "if": return { ...s, cond: r(s.cond), then: s.then.map((x) => replaceSym(x, sym, by)), else: s.else.map((x) => replaceSym(x, sym, by)) };
    case "loop": return { ...s, cond: r(s.cond), ...(s.index ? { index: { ...s.index, init: r(s.index.init) } } : {}), body: s.body.map((x) => replaceSym(x, sym, by)) };
    case "return": return { ...s, value: r(s.value), grad: s.grad.map(([k, g, p]) => (p ? ([k, r(g), p] as const) : ([k, r(g)] as const))) };
    default: return s;
  }
}

/** The gradient code without `@into`'s buffers: `into?.x?.fill(0) ?? new Float64Array(n)` is the new array. */
function withoutInto(stmts: readonly CodeStmt[], into: Sym | undefined): CodeStmt[] {
  if (!into) return [...stmts];
  const strip = (e: Ex): Ex => {
    if (e.k === "bin" && e.op === "??" && reads(e.a, into)) return strip(e.b);
    switch (e.k) {
      case "bin": return { ...e, a: strip(e.a), b: strip(e.b) };
      case "neg": case "not": case "prop": case "nonnull": return { ...e, a: strip(e.a) };
      case "index": return { ...e, a: strip(e.a), i: strip(e.i) };
      case "new": return { ...e, args: e.args.map(strip) };
      case "list": return { ...e, items: e.items.map(strip) };
      case "method": return { ...e, a: strip(e.a), args: e.args.map(strip) };
      case "call": return { ...e, args: e.args.map(strip) };
      case "cond": return { ...e, c: strip(e.c), a: strip(e.a), b: strip(e.b) };
      default: return e;
    }
  };
  return stmts.flatMap((s): CodeStmt[] => {
    switch (s.k) {
      case "decl": return [s.init ? { ...s, init: strip(s.init) } : s];
      case "assign": return [{ ...s, expr: strip(s.expr) }];
      case "expr": return reads(s.expr, into) ? [] : [s];
      case "if": return reads(s.cond, into) ? [] : [{ ...s, then: withoutInto(s.then, into), else: withoutInto(s.else, into) }];
      case "loop": return [{ ...s, body: withoutInto(s.body, into) }];
      case "return": return [{ ...s, grad: s.grad.map(([k, g, p]) => (p ? ([k, strip(g), p] as const) : ([k, strip(g)] as const))) }];
      default: return [s];
    }
  });
}

function forEachStmtExpr(stmts: readonly CodeStmt[], f: (e: Ex) => void): void {
  for (const s of stmts) {
    switch (s.k) {
      case "decl": if (s.init) f(s.init); break;
      case "assign": f(s.expr); if (s.index) f(s.index); break;
      case "expr": f(s.expr); break;
      case "if": f(s.cond); forEachStmtExpr(s.then, f); forEachStmtExpr(s.else, f); break;
      case "loop": if (s.index) f({ k: "ref", sym: s.index.sym }); f(s.cond); forEachStmtExpr(s.body, f); break;
      case "return": f(s.value); s.grad.forEach(([, g]) => f(g)); break;
      default: break;
    }
  }
}
