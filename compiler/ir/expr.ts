/**
 * Expressions of the emitted code: a tiny typed AST that derivative rules build and the
 * emitter prints. Rules never concatenate strings; they call these builders, which fold
 * the trivial algebra (`1 * x`, `x ** 1`, `-(-x)`, `2 * 3`) so no `* 1` noise reaches the
 * output.
 */

/** A variable of the emitted function; its final name is chosen by the emitter's naming pass. */
export interface Sym {
  readonly id: number;
  /** Preferred name: the user's own name, a temporary's hint, or `d` + a value's name. */
  readonly hint: string;
  /** The user's own name: kept exactly (clashes are resolved by renaming others). */
  readonly user: boolean;
  /** For an adjoint: the variable it is the gradient of (named `d` + that variable's name). */
  readonly adjointOf?: Sym;
  /** For a tangent (forward mode): the variable it is the tangent of (named that variable's name + `_dot`). */
  readonly tangentOf?: Sym;
}

export type BinaryOp =
  | "+" | "-" | "*" | "/" | "%" | "**"
  | "<" | "<=" | ">" | ">=" | "===" | "!=="
  | "&&" | "||" | "??";

export type Ex =
  | { readonly k: "num"; readonly value: number; readonly text?: string }
  | { readonly k: "bool"; readonly value: boolean }
  /** A string literal: a constant parameter (`kind: "relu" | "tanh"`) is compared with one. */
  | { readonly k: "str"; readonly value: string }
  | { readonly k: "ref"; readonly sym: Sym }
  | { readonly k: "bin"; readonly op: BinaryOp; readonly a: Ex; readonly b: Ex }
  | { readonly k: "neg"; readonly a: Ex }
  | { readonly k: "not"; readonly a: Ex }
  /** A call; `runtime` marks a tsgrad runtime export, whose local name emit decides. */
  | { readonly k: "call"; readonly fn: string; readonly args: readonly Ex[]; readonly runtime?: boolean }
  /** `a.name`, or `a?.name` when `optional`. */
  | { readonly k: "prop"; readonly a: Ex; readonly name: string; readonly optional?: boolean }
  /**
   * An element read, printed `a[i]!`: under `noUncheckedIndexedAccess` TypeScript types an
   * array's element `T | undefined`, and the generated code only reads elements that exist.
   * `known`: a tuple's element at a literal index, which TypeScript knows is there (`p[0]`).
   * `optional`: `a?.[i]`, which may be undefined.
   */
  | { readonly k: "index"; readonly a: Ex; readonly i: Ex; readonly optional?: boolean; readonly known?: boolean }
  /** `new Float64Array(n)`, or `a.fill(0)`-style method calls (`method` set, `a` the receiver). */
  | { readonly k: "new"; readonly ctor: string; readonly args: readonly Ex[] }
  | { readonly k: "method"; readonly a: Ex; readonly name: string; readonly args: readonly Ex[]; readonly optional?: boolean }
  /** An array literal `[a, b]`; `[]` is an empty stack. */
  | { readonly k: "list"; readonly items: readonly Ex[] }
  /** An object literal `{ y, z: dz }`: a record result's value, or its tangent. */
  | { readonly k: "object"; readonly fields: readonly (readonly [string, Ex])[] }
  /** `a!`: a stack's `pop()` in a loop that pushed as often. */
  | { readonly k: "nonnull"; readonly a: Ex }
  | { readonly k: "cond"; readonly c: Ex; readonly a: Ex; readonly b: Ex }
  /** `(row) => body`: a callback, as in a nested array's zero gradient `W.map((row) => new Float64Array(row.length))`. */
  | { readonly k: "arrow"; readonly params: readonly Sym[]; readonly body: Ex };

/** The literal's value, or undefined when the expression is not a number literal. */
const literal = (e: Ex): number | undefined => (e.k === "num" ? e.value : undefined);
const isNum = (e: Ex, v?: number): boolean => e.k === "num" && (v === undefined || e.value === v);

export const num = (value: number): Ex => ({ k: "num", value });
export const bool = (value: boolean): Ex => ({ k: "bool", value });
export const str = (value: string): Ex => ({ k: "str", value });
export const ref = (sym: Sym): Ex => ({ k: "ref", sym });
export const call = (fn: string, ...args: Ex[]): Ex => ({ k: "call", fn, args });
/** A call of a runtime function (`matmul`, `sumTo`, ...), imported into the generated module as needed. */
export const rt = (fn: string, ...args: Ex[]): Ex => ({ k: "call", fn, args, runtime: true });
export const prop = (a: Ex, name: string): Ex => ({ k: "prop", a, name });
export const index = (a: Ex, i: Ex): Ex => ({ k: "index", a, i });
/** `p[0]` of a tuple `p`: printed without `!` (see the `index` node). */
export const tupleIndex = (a: Ex, i: number): Ex => ({ k: "index", a, i: num(i), known: true });
export const newOf = (ctor: string, ...args: Ex[]): Ex => ({ k: "new", ctor, args });
export const method = (a: Ex, name: string, ...args: Ex[]): Ex => ({ k: "method", a, name, args });
/** `n` zeros in an array of the kind `typeText` names: `new Float64Array(n)`, else `new Array<number>(n).fill(0)`. */
export const zeros = (n: Ex, typeText: string): Ex =>
  /Float64Array/.test(typeText) ? newOf("Float64Array", n) : method(newOf("Array<number>", n), "fill", num(0));
export const nonnull = (a: Ex): Ex => ({ k: "nonnull", a });
export const list = (...items: Ex[]): Ex => ({ k: "list", items });
export const object = (fields: readonly (readonly [string, Ex])[]): Ex => ({ k: "object", fields });
export const arrow = (params: readonly Sym[], body: Ex): Ex => ({ k: "arrow", params, body });
/** Zeros shaped like the nested array `x`, a row of zeros per row: `x.map((row) => new Float64Array(row.length))`. */
export const zeroRows = (x: Ex, row: Sym): Ex => method(x, "map", arrow([row], newOf("Float64Array", prop(ref(row), "length"))));
/** Whether `e` is `x.map((row) => new Float64Array(row.length))`: fresh zero rows, depending on `x`'s shape only. */
export const isZeroRows = (e: Ex): boolean =>
  e.k === "method" && e.name === "map" && e.args.length === 1 && e.args[0]!.k === "arrow" && e.args[0]!.params.length === 1
  && sameEx(e.args[0]!.body, newOf("Float64Array", prop(ref(e.args[0]!.params[0]!), "length")));

export function add(a: Ex, b: Ex): Ex {
  if (isNum(a) && isNum(b)) return num(literal(a)! + literal(b)!);
  if (isNum(a, 0)) return b;
  if (isNum(b, 0)) return a;
  if (b.k === "neg") return sub(a, b.a);
  return { k: "bin", op: "+", a, b };
}

export function sub(a: Ex, b: Ex): Ex {
  if (isNum(a) && isNum(b)) return num(literal(a)! - literal(b)!);
  if (isNum(b, 0)) return a;
  // `n - 1 - 1` is `n - 2`
  if (isNum(b) && a.k === "bin" && a.op === "-" && isNum(a.b)) return sub(a.a, num(literal(a.b)! + literal(b)!));
  if (isNum(a, 0)) return neg(b);
  return { k: "bin", op: "-", a, b };
}

export function mul(a: Ex, b: Ex): Ex {
  if (isNum(a) && isNum(b)) return num(literal(a)! * literal(b)!);
  if (isNum(a, 1)) return b;
  if (isNum(b, 1)) return a;
  if (isNum(a, -1)) return neg(b);
  if (isNum(b, -1)) return neg(a);
  // a negated factor reads better out front: `-(x * y)` rather than `x * -y`
  if (b.k === "neg" && !isNum(a)) return neg(mul(a, b.a));
  return { k: "bin", op: "*", a, b };
}

/** `2 * e`, written `2 * x * d` rather than `2 * (x * d)` (doubling is exact, so the two are equal). */
export function twice(e: Ex): Ex {
  return e.k === "bin" && e.op === "*" ? mul(mul(num(2), e.a), e.b) : mul(num(2), e);
}

export function div(a: Ex, b: Ex): Ex {
  if (isNum(b, 1)) return a;
  if (isNum(a) && isNum(b) && Number.isInteger(literal(a)! / literal(b)!)) return num(literal(a)! / literal(b)!);
  return { k: "bin", op: "/", a, b };
}

export function pow(a: Ex, b: Ex): Ex {
  if (isNum(b, 1)) return a;
  if (isNum(b, 0)) return num(1);
  return { k: "bin", op: "**", a, b };
}

export function neg(a: Ex): Ex {
  if (isNum(a)) return num(-literal(a)!);
  if (a.k === "neg") return a.a;
  return { k: "neg", a };
}

export const not = (a: Ex): Ex => (a.k === "not" ? a.a : { k: "not", a });
export const cmp = (op: BinaryOp, a: Ex, b: Ex): Ex => ({ k: "bin", op, a, b });
export const cond = (c: Ex, a: Ex, b: Ex): Ex => ({ k: "cond", c, a, b });

/** Calls `f` on every symbol an expression reads, left to right. */
export function forEachSym(e: Ex, f: (s: Sym) => void): void {
  forEachNode(e, (x) => { if (x.k === "ref") f(x.sym); });
}

/** Calls `f` on `e` and every expression inside it, outermost first. */
export function forEachNode(e: Ex, f: (x: Ex) => void): void {
  // no closure per node: this runs on every node of every statement, several times a stage
  f(e);
  switch (e.k) {
    case "bin": forEachNode(e.a, f); forEachNode(e.b, f); return;
    case "neg": case "not": case "prop": case "nonnull": forEachNode(e.a, f); return;
    case "index": forEachNode(e.a, f); forEachNode(e.i, f); return;
    case "new": for (const x of e.args) forEachNode(x, f); return;
    case "list": for (const x of e.items) forEachNode(x, f); return;
    case "object": for (const [, x] of e.fields) forEachNode(x, f); return;
    case "method": forEachNode(e.a, f); for (const x of e.args) forEachNode(x, f); return;
    case "call": for (const x of e.args) forEachNode(x, f); return;
    case "cond": forEachNode(e.c, f); forEachNode(e.a, f); forEachNode(e.b, f); return;
    case "arrow": forEachNode(e.body, f); return;
    default: return;
  }
}

/** Rebuilds an expression with every symbol reference replaced by `f(sym)` (or kept when undefined). */
export function substitute(e: Ex, f: (s: Sym) => Ex | undefined): Ex {
  switch (e.k) {
    case "ref": return f(e.sym) ?? e;
    case "bin": return { ...e, a: substitute(e.a, f), b: substitute(e.b, f) };
    case "neg": return neg(substitute(e.a, f));
    case "not": return not(substitute(e.a, f));
    case "prop": case "nonnull": return { ...e, a: substitute(e.a, f) };
    case "index": return { ...e, a: substitute(e.a, f), i: substitute(e.i, f) };
    case "new": return { ...e, args: e.args.map((x) => substitute(x, f)) };
    case "list": return { ...e, items: e.items.map((x) => substitute(x, f)) };
    case "object": return { ...e, fields: e.fields.map(([k, x]) => [k, substitute(x, f)] as const) };
    case "method": return { ...e, a: substitute(e.a, f), args: e.args.map((x) => substitute(x, f)) };
    case "call": return { ...e, args: e.args.map((x) => substitute(x, f)) };
    case "cond": return cond(substitute(e.c, f), substitute(e.a, f), substitute(e.b, f));
    case "arrow": return { ...e, body: substitute(e.body, f) };
    default: return e;
  }
}

/** Whether two expressions are the same tree (symbols compared by identity). */
export function sameEx(a: Ex, b: Ex): boolean {
  if (a.k !== b.k) return false;
  const all = (xs: readonly Ex[], ys: readonly Ex[]) => xs.length === ys.length && xs.every((x, i) => sameEx(x, ys[i]!));
  switch (a.k) {
    case "num": return b.k === "num" && Object.is(a.value, b.value);
    case "bool": return b.k === "bool" && a.value === b.value;
    case "str": return b.k === "str" && a.value === b.value;
    case "ref": return b.k === "ref" && a.sym === b.sym;
    case "bin": return b.k === "bin" && a.op === b.op && sameEx(a.a, b.a) && sameEx(a.b, b.b);
    case "neg": case "not": case "nonnull": return sameEx(a.a, (b as typeof a).a);
    case "prop": return b.k === "prop" && a.name === b.name && a.optional === b.optional && sameEx(a.a, b.a);
    case "index": return b.k === "index" && a.optional === b.optional && a.known === b.known && sameEx(a.a, b.a) && sameEx(a.i, b.i);
    case "call": return b.k === "call" && a.fn === b.fn && a.runtime === b.runtime && all(a.args, b.args);
    case "new": return b.k === "new" && a.ctor === b.ctor && all(a.args, b.args);
    case "method": return b.k === "method" && a.name === b.name && a.optional === b.optional && sameEx(a.a, b.a) && all(a.args, b.args);
    case "list": return b.k === "list" && all(a.items, b.items);
    case "object": return b.k === "object" && a.fields.length === b.fields.length && a.fields.every(([k, x], i) => k === b.fields[i]![0] && sameEx(x, b.fields[i]![1]));
    case "cond": return b.k === "cond" && sameEx(a.c, b.c) && sameEx(a.a, b.a) && sameEx(a.b, b.b);
    case "arrow": return b.k === "arrow" && a.params.length === b.params.length && a.params.every((x, i) => x === b.params[i]) && sameEx(a.body, b.body);
  }
}

/** Rebuilds `e` with every subtree equal to `from` replaced by `to`. */
export function replaceEx(e: Ex, from: Ex, to: Ex): Ex {
  if (sameEx(e, from)) return to;
  const r = (x: Ex) => replaceEx(x, from, to);
  switch (e.k) {
    case "bin": return { ...e, a: r(e.a), b: r(e.b) };
    case "neg": case "not": case "prop": case "nonnull": return { ...e, a: r(e.a) };
    case "index": return { ...e, a: r(e.a), i: r(e.i) };
    case "new": return { ...e, args: e.args.map(r) };
    case "list": return { ...e, items: e.items.map(r) };
    case "object": return { ...e, fields: e.fields.map(([k, x]) => [k, r(x)] as const) };
    case "method": return { ...e, a: r(e.a), args: e.args.map(r) };
    case "call": return { ...e, args: e.args.map(r) };
    case "cond": return { ...e, c: r(e.c), a: r(e.a), b: r(e.b) };
    case "arrow": return { ...e, body: r(e.body) };
    default: return e;
  }
}

// ---- printing ------------------------------------------------------------------------

const PRECEDENCE: Record<BinaryOp, number> = {
  "??": 4, "||": 4, "&&": 5, "===": 9, "!==": 9, "<": 10, "<=": 10, ">": 10, ">=": 10,
  "+": 12, "-": 12, "*": 13, "/": 13, "%": 13, "**": 14,
};
const UNARY = 15;
const PRIMARY = 20;

function precedenceOf(e: Ex): number {
  switch (e.k) {
    case "bin": return PRECEDENCE[e.op];
    case "neg": case "not": return UNARY;
    case "cond": return 3;
    case "arrow": return 2;
    case "num": return e.value < 0 || Object.is(e.value, -0) ? UNARY : PRIMARY;
    default: return PRIMARY;
  }
}

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return String(v);
}

/** The runtime functions an expression calls. */
export function forEachRuntimeCall(e: Ex, f: (fn: string) => void): void {
  forEachCall(e, (fn, runtime) => { if (runtime) f(fn); });
}

/** Every function an expression calls, and whether it is a runtime export (named by emit) or called as the user spelled it. */
export function forEachCall(e: Ex, f: (fn: string, runtime: boolean) => void): void {
  forEachNode(e, (x) => { if (x.k === "call") f(x.fn, x.runtime ?? false); });
}

const sameName = (fn: string) => fn;

/**
 * Prints an expression with the fewest parentheses that keep its meaning. `runtime` gives
 * the local name of a runtime function (an import may rename it).
 */
export function printEx(e: Ex, name: (s: Sym) => string, runtime: (fn: string) => string = sameName): string {
  // two closures per printed expression, not per node
  const wrap = (x: Ex, min: number): string => (precedenceOf(x) < min ? `(${p(x)})` : p(x));
  const p = (e: Ex): string => {
    switch (e.k) {
      case "num": return e.text ?? formatNumber(e.value);
      case "bool": return String(e.value);
      case "str": return JSON.stringify(e.value);
      case "ref": return name(e.sym);
      case "neg": return `-${wrap(e.a, UNARY + (e.a.k === "neg" || (literal(e.a) ?? 0) < 0 ? 1 : 0))}`;
      case "not": return `!${wrap(e.a, UNARY)}`;
      case "call": return `${e.runtime ? runtime(e.fn) : e.fn}(${e.args.map(p).join(", ")})`;
      case "prop": return `${wrap(e.a, PRIMARY)}${e.optional ? "?." : "."}${e.name}`;
      case "index": return `${wrap(e.a, PRIMARY)}${e.optional ? "?." : ""}[${p(e.i)}]${e.optional || e.known ? "" : "!"}`;
      case "nonnull": return `${wrap(e.a, PRIMARY)}!`;
      case "list": return `[${e.items.map(p).join(", ")}]`;
      case "object": return `{ ${e.fields.map(([k, x]) => (x.k === "ref" && name(x.sym) === k ? k : `${k}: ${p(x)}`)).join(", ")} }`;
      case "new": return `new ${e.ctor}(${e.args.map(p).join(", ")})`;
      case "method": return `${wrap(e.a, PRIMARY)}${e.optional ? "?." : "."}${e.name}(${e.args.map(p).join(", ")})`;
      case "cond": return `${wrap(e.c, 4)} ? ${wrap(e.a, 3)} : ${wrap(e.b, 3)}`;
      case "arrow": return `(${e.params.map(name).join(", ")}) => ${wrap(e.body, 3)}`;
      case "bin": {
        const prec = PRECEDENCE[e.op];
        if (e.op === "**") {
          // right-associative, and a unary operand on the left must be parenthesised
          return `${wrap(e.a, PRIMARY)} ** ${wrap(e.b, prec)}`;
        }
        // TypeScript reads `a < (b > c ? ...)` as `a` with type arguments: written `(b > c ? ...) > a`
        // instead (the same test: the operands are pure)
        if ((e.op === "<" || e.op === "<=") && precedenceOf(e.b) < prec + 1) {
          return `${wrap(e.b, prec)} ${e.op === "<" ? ">" : ">="} ${wrap(e.a, prec + 1)}`;
        }
        return `${wrap(e.a, prec)} ${e.op} ${wrap(e.b, prec + 1)}`;
      }
    }
  };
  return p(e);
}
