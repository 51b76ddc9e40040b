/**
 * Property test: random scalar programs (straight-line code, branches, loops, local arrays,
 * helper calls), compiled, checked against finite differences (gradcheck) and against the
 * original function's value.
 *
 * Programs are numerically safe by construction: 1–3 number parameters drawn from [-2, 2]
 * (sometimes a boolean `flag` too, sometimes a `@wrt` subset), 1–6 statements
 * `const vK = e` / `let vK = e` and later `x = e`, `x += e`, `x -= e`, `x *= e`,
 * `x /= 1 + e * e`, `x **= 2` (parameters can be reassigned too; a declaration whose value
 * is a `?:` is written, about half the time, `let vK: number;` assigned by both arms of an
 * `if`), and expressions of depth
 * ≤ 3 over earlier variables (each used any number of times) and small constants, built only
 * from forms with no poles or domain edges (`a / (1 + b * b)`, `Math.log(1 + a * a)`,
 * `Math.exp(Math.tanh(a))`, ...). Half the programs use names that clash with the ones the
 * emitter makes up (`dx`, `dout`, `value`, `sum`, ...).
 *
 * An interpreter of the same programs (`evaluate`) records, for each point, every kink it
 * passes (a comparison, max or min and how far from a tie; abs and relu and how far from 0).
 * A point is skipped when one of gradcheck's probes x ± h lands on another side of a kink,
 * when a kink is within 1e-4 (unless it is a structural tie that holds at every probe, like
 * `Math.max(z, v)` after `const v = z`), when an intermediate value grows past 1e3, or when
 * the function is so steep there that finite differences with steps h and h/2 disagree.
 *
 * Some statements are `if (c) { ... } else { ... }` whose arms assign earlier variables, some
 * an early `if (c) { return e; }`, and some a `for`, `while`, `do ... while` or
 * `for (const eK of xs)` loop over an array parameter `xs` whose body assigns earlier
 * variables from `xs[i]` (or `eK`), `i` and the rest
 * (`=`, `+=`, `-=`, `/=`: no `*=` or `**=`, whose repetition makes functions too steep),
 * may leave the iteration early (`if (c) { ...; break; } else { ... }`, likewise `continue`
 * and `return e`), and may hold a loop of its own (with jumps of its own). Some declare a
 * local array `bK` as long as `xs` (`new Array<number>(n).fill(0)`, `new Float64Array(n)`, or
 * a copy `xs.slice()` that the loop adds to)
 * filled by a loop, whose elements later expressions read (`b0[2]`) and later statements
 * write (`b0[1] *= e`); a loop body after it writes the element at its own index
 * (`b0[i1] += e`, in either arm of a jump too, and an inner loop at the inner index).
 *
 * About one program in three comes with 1–3 helper functions (not tagged, so they are
 * inlined): one or two number parameters named like the program's own, a few statements
 * (branches and early returns too) and a `return`. Any expression of the program may call
 * them, a helper may call the ones defined before it (chains of nested calls), and calls
 * land inside loop bodies and branches as expressions do. Expressions may also call two
 * functions of the module with hand-written backwards (`@gradient`, see CUSTOM), whose
 * calls the gradient keeps, calling the backwards.
 *
 * Each run compiles a batch of 1–8 programs as one module, which amortises loading the
 * modules; on failure fast-check shrinks the batch to the failing program and prints its
 * source and points. Programs without a custom gradient are also compiled in forward mode
 * (`--jvp`): each checked point's f_jvp along a random direction is checked against central
 * differences and against f_grad by the dot-product test. At the end, every generated module is type-checked at once, as the
 * fixtures are (tsc --strict and noUncheckedIndexedAccess, no unused locals). The run prints how many programs have each
 * kind of loop, jump, array write and call, and fails when one grows rare.
 *
 * The same batch is compiled again with every program tagged `@checkpoint 2` (those whose
 * loops cannot be checkpointed, a located error, untagged): where a loop is checkpointed,
 * the gradient must be the plain one bit for bit (transforms/checkpoint.ts).
 */
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { gradcheck, hvpcheck, jvpcheck } from "../runtime/gradcheck.ts";
import { mulberry32 } from "../runtime/random.ts";
import { relu, sigmoid } from "../runtime/scalar.ts";
import { compileAndLoad } from "./helpers/load.ts";

const SEED = 20240611;
/** Runs of the property; each compiles a batch of 1–8 programs (~4.5 on average), ~540 programs in all. */
const NUM_RUNS = 120;
const MAX_BATCH = 8;
const POINTS_PER_PROGRAM = 3;
/** gradcheck tolerances for random programs. */
const TOLERANCES = { atol: 1e-5, rtol: 1e-4 } as const;
/** gradcheck's default relative step, to replay its probes in the interpreter. */
const FD_EPS = 1e-6;
/** Points closer than this to a tie or a kink are skipped. */
const KINK_MARGIN = 1e-4;
/** Points where an intermediate value exceeds this in magnitude are skipped. */
const MAX_MAGNITUDE = 1e3;

// ---- programs --------------------------------------------------------------------------

const UNARY = [
  "sin", "cos", "tanh", "atan", "sigmoid", "relu", "abs", "expTanh", "logSq", "sqrtSq", "sq", "cube", "powSq", "hypot1",
  // functions of the module with a custom gradient (`@gradient`, see CUSTOM)
  "cubed", "softSign",
] as const;
type Unary = (typeof UNARY)[number];
type Cmp = ">" | "<" | ">=" | "<=";

/** Expressions as generated: a variable is an index, resolved modulo the variables in scope. */
type Node =
  | { readonly k: "var"; readonly i: number }
  | { readonly k: "num"; readonly v: number }
  | { readonly k: "bin"; readonly op: "+" | "-" | "*"; readonly a: Node; readonly b: Node }
  | { readonly k: "neg"; readonly a: Node }
  /** a / (1 + b * b) */
  | { readonly k: "sdiv"; readonly a: Node; readonly b: Node }
  | { readonly k: "fn"; readonly f: Unary; readonly a: Node }
  | { readonly k: "ext"; readonly f: "max" | "min"; readonly a: Node; readonly b: Node }
  | { readonly k: "tern"; readonly c: Cond; readonly t: Node; readonly e: Node }
  /** A call of helper `h` (modulo the helpers in reach) with its first one or two arguments; without helpers, just `args[0]`. */
  | { readonly k: "call"; readonly h: number; readonly args: readonly [Node, Node] };

/** `l cmp r`, maybe negated, maybe combined with the boolean parameter (when there is one). */
interface Cond {
  readonly cmp: Cmp;
  readonly l: Node;
  readonly r: Node;
  readonly negate: boolean;
  readonly flag: "none" | "&&" | "||";
}

type AssignOp = "=" | "+=" | "-=" | "*=" | "/=" | "**=";
type RawAssign = { readonly k: "assign"; readonly target: number; readonly op: AssignOp; readonly e: Node };
type WriteOp = "=" | "+=" | "-=" | "*=";
/** How a local array starts: `new Array<number>(n).fill(0)`, `new Float64Array(n)`, or `xs.slice()`; or is made by `xs.map((_, jK) => e)`. */
type BufferMake = "array" | "typed" | "copy" | "map";
/** `bK[at] op= e`: an element write into a local array (`at` a constant, or the loop's index in a loop body). */
type RawWrite = { readonly k: "write"; readonly target: number; readonly at: number; readonly op: WriteOp; readonly e: Node };
type Jump = "break" | "continue" | "return";
/** What a loop body assigns: a variable, or (when there is a local array) the element at the loop's index. */
type RawLoopAssign = RawAssign | RawWrite;
/** In a loop body: `if (c) { before; jump } else { otherwise }`; `e` is the value a `return` gives. */
type RawJump = {
  readonly k: "jump"; readonly jump: Jump; readonly c: Cond; readonly before: readonly RawLoopAssign[]; readonly otherwise: readonly RawLoopAssign[]; readonly e: Node;
};
type LoopForm = "for" | "while" | "do" | "of";
/** A loop over the array parameter `xs` (index `iK`), as a `for`, a `while` or a `do ... while`; its body may hold a loop (one level). */
type RawLoop = { readonly k: "loop"; readonly form: LoopForm; readonly body: readonly (RawLoopAssign | RawJump | RawLoop)[] };
type RawStmt =
  | { readonly k: "decl"; readonly mutable: boolean; readonly e: Node }
  /** `const bK = new Array<number>(xs.length).fill(0)` (or a Float64Array), then `bK[j] = e` for each j */
  | { readonly k: "buffer"; readonly make: BufferMake; readonly e: Node }
  | RawWrite
  | RawAssign
  /** `if (c) { assignments } else { assignments }` */
  | { readonly k: "if"; readonly c: Cond; readonly then: readonly RawAssign[]; readonly else: readonly RawAssign[] }
  | RawLoop
  /** An early `if (c) { return e; }` */
  | { readonly k: "early"; readonly c: Cond; readonly e: Node }
  /**
   * `let v = 0; for (let iK = 0; iK < xs.length; iK++) { v += e; }`: a sum over the array (what loop fusion fuses);
   * or, `method` (not nested), `let v = xs.reduce((acc, _, iK) => acc + e, 0)`
   */
  | { readonly k: "reduce"; readonly e: Node; readonly nested: boolean; readonly method: boolean };

interface RawHelper {
  readonly nParams: number;
  readonly stmts: readonly RawStmt[];
  readonly ret: Node;
}

interface RawProgram {
  readonly helpers: readonly RawHelper[];
  readonly nParams: number;
  /** Plain names (x, y, z; v0, v1, ...) or names that clash with what the emitter generates. */
  readonly naming: "plain" | "clashing";
  /** Position of a boolean `flag` parameter among the parameters, or null for none. */
  readonly flagAt: number | null;
  /** Bit mask of the number parameters listed by `@wrt`, or null for no tag. */
  readonly wrtMask: number | null;
  readonly into: boolean;
  readonly stmts: readonly RawStmt[];
  readonly ret: { readonly k: "last" | "expr" | "sum"; readonly e: Node };
}

/** A program with every name resolved: what is rendered and what the interpreter runs. */
type Ex =
  | { readonly k: "var"; readonly name: string }
  | { readonly k: "num"; readonly v: number }
  | { readonly k: "bin"; readonly op: "+" | "-" | "*"; readonly a: Ex; readonly b: Ex }
  | { readonly k: "neg"; readonly a: Ex }
  | { readonly k: "sdiv"; readonly a: Ex; readonly b: Ex }
  | { readonly k: "fn"; readonly f: Unary; readonly a: Ex }
  | { readonly k: "ext"; readonly f: "max" | "min"; readonly a: Ex; readonly b: Ex }
  | { readonly k: "tern"; readonly c: { cmp: Cmp; l: Ex; r: Ex; negate: boolean; flag: "none" | "&&" | "||" }; readonly t: Ex; readonly e: Ex }
  | { readonly k: "call"; readonly name: string; readonly args: readonly Ex[] };

type CondEx = { cmp: Cmp; l: Ex; r: Ex; negate: boolean; flag: "none" | "&&" | "||" };
type Assign = { readonly k: "assign"; readonly name: string; readonly op: AssignOp; readonly e: Ex };
type Write = { readonly k: "write"; readonly array: string; readonly at: string; readonly op: WriteOp; readonly e: Ex };
type JumpStmt = {
  readonly k: "jump"; readonly jump: Jump; readonly c: CondEx; readonly before: readonly (Assign | Write)[]; readonly otherwise: readonly (Assign | Write)[]; readonly e: Ex;
};
type Loop = { readonly k: "loop"; readonly index: string; readonly form: LoopForm; readonly body: readonly (Assign | Write | JumpStmt | Loop)[] };
type Stmt =
  | { readonly k: "const" | "let"; readonly name: string; readonly e: Ex }
  | { readonly k: "buffer"; readonly name: string; readonly make: BufferMake; readonly index: string; readonly e: Ex }
  | Write
  | Assign
  | { readonly k: "if"; readonly c: CondEx; readonly then: readonly Assign[]; readonly else: readonly Assign[] }
  | Loop
  | { readonly k: "early"; readonly c: CondEx; readonly e: Ex }
  /** `let name = xs.reduce((acc, _, index) => acc + e, 0)` */
  | { readonly k: "sum"; readonly name: string; readonly index: string; readonly e: Ex };

/** A helper function: inlined by the compiler, called by the interpreter. */
interface Helper {
  readonly name: string;
  readonly params: readonly string[];
  readonly body: readonly Stmt[];
  readonly ret: Ex;
  readonly text: string;
}

interface Program {
  readonly name: string;
  readonly helpers: readonly Helper[];
  /** All parameters in order, the boolean `flag` included. */
  readonly params: readonly { readonly name: string; readonly type: "number" | "boolean" | "number[]" }[];
  /** The parameters the gradient is taken with respect to. */
  readonly wrt: readonly string[];
  readonly wrtTag: boolean;
  /** Tagged `@into`: the gradient of `xs` can be written into an array the caller passes. */
  readonly into: boolean;
  readonly body: readonly Stmt[];
  readonly ret: Ex;
  /** The function's source text. */
  readonly text: string;
}

const NAMES = {
  plain: { params: ["x", "y", "z"], locals: [] as string[] },
  // adjoints are named `d` + the variable, temporaries by their rule's hint (`sum`, `prod`,
  // `max`, `sig`, ...), and the gradient function has `dout` and returns `value` and `grad`
  clashing: { params: ["x", "dx", "dout"], locals: ["sum", "dsum", "value", "grad", "prod", "max", "sig", "ddx"] },
};
const CONSTANTS = [0.5, 1, 2, 3, -1, -0.25, 1.5, Math.PI];

function resolve(raw: RawProgram, name: string): Program {
  const names = NAMES[raw.naming];
  const numberParams = names.params.slice(0, raw.nParams);
  const params: { name: string; type: "number" | "boolean" | "number[]" }[] = numberParams.map((p) => ({ name: p, type: "number" }));
  if (raw.flagAt !== null) params.splice(raw.flagAt % (params.length + 1), 0, { name: "flag", type: "boolean" });
  const hasFlag = raw.flagAt !== null;
  // a program with a loop takes the array `xs` last; `@wrt` lists it when bit 3 of the mask is set
  const hasArray = raw.stmts.some((st) => st.k === "loop" || st.k === "buffer" || st.k === "reduce");
  if (hasArray) params.push({ name: "xs", type: "number[]" });
  const mask = raw.wrtMask === null ? null : raw.wrtMask & ((1 << raw.nParams) - 1) || 1;
  const wrt = mask === null ? [...numberParams] : numberParams.filter((_, i) => mask & (1 << i));
  if (hasArray && (raw.wrtMask === null || (raw.wrtMask & 8) !== 0)) wrt.push("xs");

  // helpers take parameters named like the program's, so the inlined code must keep them apart
  const helpers: Helper[] = [];
  raw.helpers.forEach((h, k) => {
    const helperParams = names.params.slice(0, h.nParams);
    const { body, ret } = resolveBody(h.stmts, h.ret, helperParams, names.locals, false, [...helpers]);
    const helper = { name: `${name}_h${k}`, params: helperParams, body, ret };
    helpers.push({ ...helper, text: renderHelper(helper) });
  });
  const { body, ret } = resolveBody(raw.stmts, raw.ret.e, numberParams, names.locals, hasFlag, helpers, raw.ret.k);
  // about half the programs that differentiate xs take `@into`
  const program = { name, helpers, params, wrt, wrtTag: mask !== null, into: raw.into && wrt.includes("xs"), body, ret };
  return { ...program, text: [...helpers.map((h) => h.text), renderFunction(program)].join("\n") };
}

/**
 * Resolves a function body: variables by index into the ones in scope, calls by index into
 * the helpers in reach. `retKind` says how the result is formed (the program's `ret.k`).
 */
function resolveBody(
  stmts: readonly RawStmt[],
  rawRet: Node,
  numberParams: readonly string[],
  locals: readonly string[],
  hasFlag: boolean,
  callable: readonly Helper[],
  retKind: RawProgram["ret"]["k"] = "expr",
): { body: Stmt[]; ret: Ex } {
  const scope = [...numberParams];
  const assignable = [...numberParams];
  const ex = (n: Node): Ex => {
    switch (n.k) {
      case "var": return { k: "var", name: scope[n.i % scope.length]! };
      case "num": return n;
      case "bin": case "sdiv": case "ext": return { ...n, a: ex(n.a), b: ex(n.b) };
      case "neg": case "fn": return { ...n, a: ex(n.a) };
      case "tern": return { k: "tern", c: cond(n.c), t: ex(n.t), e: ex(n.e) };
      case "call": {
        if (callable.length === 0) return ex(n.args[0]);
        const h = callable[n.h % callable.length]!;
        return { k: "call", name: h.name, args: n.args.slice(0, h.params.length).map(ex) };
      }
    }
  };
  const cond = (c: Cond): CondEx => ({ ...c, l: ex(c.l), r: ex(c.r), flag: hasFlag ? c.flag : "none" });
  const assign = (a: RawAssign): Assign => ({ k: "assign", name: assignable[a.target % assignable.length]!, op: a.op, e: ex(a.e) });
  const buffers: string[] = [];
  const write = (w: RawWrite, at: string): Write => ({ k: "write", array: buffers[w.target % buffers.length]!, at, op: w.op, e: ex(w.e) });
  // in a loop body, a write is at the loop's own index; with no local array to write, it
  // assigns a variable instead (its ops, `=`, `+=`, `-=`, are assignments too)
  const loopAssign = (a: RawLoopAssign, index: string): Assign | Write =>
    a.k === "assign" ? assign(a) : buffers.length > 0 ? write(a, index) : assign({ ...a, k: "assign" });
  let loops = 0;
  const loop = (raw: RawLoop): Loop => {
    // inside the body, the element `xs[iK]` and the index `iK` can be read like variables
    const k = loops++;
    const index = `i${k}`;
    // a `for...of` loop reads its element `eK`; the others `xs[iK]`
    scope.push(raw.form === "of" ? `e${k}` : `xs[${index}]`, index);
    const items = raw.body.map((b) => (b.k === "loop" ? loop(b) : b.k === "jump" ? {
      k: "jump" as const, jump: b.jump, c: cond(b.c), before: b.before.map((a) => loopAssign(a, index)), otherwise: b.otherwise.map((a) => loopAssign(a, index)), e: ex(b.e),
    } : loopAssign(b, index)));
    scope.splice(scope.length - 2, 2);
    return { k: "loop", index, form: raw.form, body: items };
  };
  const body: Stmt[] = [];
  let last = scope[scope.length - 1]!;
  for (const s of stmts) {
    if (s.k === "decl") {
      const e = ex(s.e);
      const k = body.filter((b) => b.k === "const" || b.k === "let" || b.k === "sum").length;
      const v = locals[k] ?? `v${k}`;
      body.push({ k: s.mutable ? "let" : "const", name: v, e });
      scope.push(v);
      if (s.mutable) assignable.push(v);
      last = v;
    } else if (s.k === "assign") {
      const a = assign(s);
      body.push(a);
      last = a.name;
    } else if (s.k === "if") {
      body.push({ k: "if", c: cond(s.c), then: s.then.map(assign), else: s.else.map(assign) });
    } else if (s.k === "early") {
      body.push({ k: "early", c: cond(s.c), e: ex(s.e) });
    } else if (s.k === "buffer") {
      // filled from `xs[jK]` and the rest; afterwards its elements read like variables
      const name = `b${buffers.length}`;
      const index = `j${buffers.length}`;
      scope.push(`xs[${index}]`, index);
      body.push({ k: "buffer", name, make: s.make, index, e: ex(s.e) });
      scope.splice(scope.length - 2, 2);
      buffers.push(name);
      scope.push(`${name}[0]`, `${name}[1]`, `${name}[2]`);
    } else if (s.k === "write") {
      if (buffers.length > 0) body.push(write(s, String(s.at % 3)));
    } else if (s.k === "reduce") {
      // the sum is declared first but only read after its loop
      const k = body.filter((b) => b.k === "const" || b.k === "let" || b.k === "sum").length;
      const v = locals[k] ?? `v${k}`;
      const index = `i${loops++}`;
      scope.push(`xs[${index}]`, index);
      if (s.method && !s.nested) {
        body.push({ k: "sum", name: v, index, e: ex(s.e) });
      } else if (s.nested) {
        body.push({ k: "let", name: v, e: { k: "num", v: 0 } });
        // a double sum, `for (iK) for (iL) v += e`: both loop pairs fuse, the inner one inside the outer
        const inner = `i${loops++}`;
        scope.push(`xs[${inner}]`, inner);
        body.push({ k: "loop", index, form: "for", body: [{ k: "loop", index: inner, form: "for", body: [{ k: "assign", name: v, op: "+=", e: ex(s.e) }] }] });
        scope.splice(scope.length - 2, 2);
      } else {
        body.push({ k: "let", name: v, e: { k: "num", v: 0 } });
        body.push({ k: "loop", index, form: "for", body: [{ k: "assign", name: v, op: "+=", e: ex(s.e) }] });
      }
      scope.splice(scope.length - 2, 2);
      scope.push(v);
      assignable.push(v);
      last = v;
    } else {
      body.push(loop(s));
    }
  }
  const lastEx: Ex = { k: "var", name: last };
  const ret: Ex = retKind === "last" ? lastEx : retKind === "expr" ? ex(rawRet) : { k: "bin", op: "+", a: lastEx, b: ex(rawRet) };
  return { body, ret };
}

// ---- rendering ---------------------------------------------------------------------------

function render(e: Ex): string {
  const r = render;
  switch (e.k) {
    case "var": return e.name;
    case "num": return e.v === Math.PI ? "Math.PI" : String(e.v);
    case "bin": return `(${r(e.a)} ${e.op} ${r(e.b)})`;
    case "neg": return `-(${r(e.a)})`;
    case "sdiv": return `(${r(e.a)} / (1 + ${r(e.b)} * ${r(e.b)}))`;
    case "ext": return `Math.${e.f}(${r(e.a)}, ${r(e.b)})`;
    case "tern": return `(${renderCond(e.c)} ? ${r(e.t)} : ${r(e.e)})`;
    case "call": return `${e.name}(${e.args.map(r).join(", ")})`;
    case "fn": {
      const a = r(e.a);
      switch (e.f) {
        case "sigmoid": case "relu": return `${e.f}(${a})`;
        case "expTanh": return `Math.exp(Math.tanh(${a}))`;
        case "logSq": return `Math.log(1 + ${a} * ${a})`;
        case "sqrtSq": return `Math.sqrt(1 + ${a} * ${a})`;
        case "sq": return `(${a}) ** 2`;
        case "cube": return `(${a}) ** 3`;
        case "powSq": return `Math.pow(${a}, 2)`;
        case "hypot1": return `Math.hypot(${a}, 1)`;
        case "cubed": case "softSign": return `${e.f}(${a})`;
        default: return `Math.${e.f}(${a})`;
      }
    }
  }
}

/** A condition, written so TypeScript parses it as JavaScript would. */
function renderCond(c: CondEx): string {
  const [left, right] = [render(c.l), render(c.r)];
  // TypeScript reads `a < (b > (c) ? ...` as a call with type arguments `a<(b>...`, a
  // syntax error, so `l < (...)` is written `(...) > l` (the same test for numbers)
  const flip = (c.cmp === "<" || c.cmp === "<=") && right.startsWith("(");
  const cmp = flip ? `${right} ${c.cmp === "<" ? ">" : ">="} ${left}` : `${left} ${c.cmp} ${right}`;
  const test = c.negate ? `!(${cmp})` : cmp;
  return c.flag === "none" ? test : `flag ${c.flag} ${test}`;
}

const indent = (text: string) => text.split("\n").map((l) => `  ${l}`).join("\n");

function renderStmt(s: Stmt | JumpStmt): string {
  if (s.k === "jump") {
    const leave = s.jump === "return" ? `return ${render(s.e)};` : `${s.jump};`;
    const then = [...s.before.map(renderStmt), leave].map(indent).join("\n");
    const otherwise = s.otherwise.length > 0 ? ` else {\n${s.otherwise.map(renderStmt).map(indent).join("\n")}\n}` : "";
    return `if (${renderCond(s.c)}) {\n${then}\n}${otherwise}`;
  }
  if (s.k === "sum") return `let ${s.name} = xs.reduce((acc, _, ${s.index}) => acc + ${render(s.e)}, 0);`;
  if (s.k === "buffer") {
    if (s.make === "map") return `const ${s.name} = xs.map((_, ${s.index}) => ${render(s.e)});`;
    const make = s.make === "typed" ? "new Float64Array(xs.length)" : s.make === "copy" ? "xs.slice()" : "new Array<number>(xs.length).fill(0)";
    // a copy of xs is added to, a new array filled
    const fill = s.make === "copy" ? "+=" : "=";
    return `const ${s.name} = ${make};\nfor (let ${s.index} = 0; ${s.index} < xs.length; ${s.index}++) {\n  ${s.name}[${s.index}] ${fill} ${render(s.e)};\n}`;
  }
  if (s.k === "write") return `${s.array}[${s.at}] ${s.op} ${render(s.e)};`;
  if (s.k === "early") return `if (${renderCond(s.c)}) {\n  return ${render(s.e)};\n}`;
  if (s.k === "loop") {
    const body = s.body.map(renderStmt).map(indent).join("\n");
    const i = s.index;
    if (s.form === "for") return `for (let ${i} = 0; ${i} < xs.length; ${i}++) {\n${body}\n}`;
    // `for (const eK of xs)` keeps its own count in iK, first thing in the body (as `continue` needs)
    if (s.form === "of") return `let ${i} = -1;\nfor (const e${i.slice(1)} of xs) {\n  ${i} += 1;\n${body}\n}`;
    // a `continue` would skip an increment at the end of the body, so then it comes first
    const continues = s.body.some((b) => b.k === "jump" && b.jump === "continue");
    if (s.form === "while") {
      return continues
        ? `let ${i} = -1;\nwhile (${i} < xs.length - 1) {\n  ${i} += 1;\n${body}\n}`
        : `let ${i} = 0;\nwhile (${i} < xs.length) {\n${body}\n  ${i} += 1;\n}`;
    }
    return continues
      ? `let ${i} = -1;\ndo {\n  ${i} += 1;\n${body}\n} while (${i} < xs.length - 1);`
      : `let ${i} = 0;\ndo {\n${body}\n  ${i} += 1;\n} while (${i} < xs.length);`;
  }
  if (s.k === "if") {
    const arm = (a: readonly Assign[]) => a.map(renderStmt).map(indent).join("\n");
    return `if (${renderCond(s.c)}) {\n${arm(s.then)}\n} else {\n${arm(s.else)}\n}`;
  }
  if (s.k !== "assign") {
    // a choice, about half the time, as `let v: number;` assigned by both arms of an `if`
    if (s.e.k === "tern" && s.name.length % 2 === 0) {
      return `let ${s.name}: number;\nif (${renderCond(s.e.c)}) {\n  ${s.name} = ${render(s.e.t)};\n} else {\n  ${s.name} = ${render(s.e.e)};\n}`;
    }
    return `${s.k} ${s.name} = ${render(s.e)};`;
  }
  switch (s.op) {
    case "/=": return `${s.name} /= 1 + ${render(s.e)} * ${render(s.e)};`;
    case "**=": return `${s.name} **= 2;`;
    default: return `${s.name} ${s.op} ${render(s.e)};`;
  }
}

const indentBody = (stmts: readonly Stmt[], ret: Ex) =>
  [...stmts.map(renderStmt), `return ${render(ret)};`].join("\n").split("\n").map((l) => `  ${l}`).join("\n");

function renderHelper(h: Omit<Helper, "text">): string {
  return `function ${h.name}(${h.params.map((q) => `${q}: number`).join(", ")}): number {\n${indentBody(h.body, h.ret)}\n}\n`;
}

function renderFunction(p: Omit<Program, "text">): string {
  const tags = ["@differentiable", ...(p.wrtTag ? [`@wrt ${p.wrt.join(" ")}`] : []), ...(p.into ? ["@into"] : [])];
  const doc = tags.length === 1 ? "/** @differentiable */" : `/**\n${tags.map((t) => ` * ${t}\n`).join("")} */`;
  const params = p.params.map((q) => `${q.name}: ${q.type}`).join(", ");
  const body = [...p.body.map(renderStmt), `return ${render(p.ret)};`].join("\n").split("\n").map((l) => `  ${l}`).join("\n");
  return `${doc}\nexport function ${p.name}(${params}): number {\n${body}\n}\n`;
}

const IMPORTS = `import { sigmoid, relu } from "../runtime/index.ts";\n`;
/**
 * Two functions with hand-written backwards, which programs call like Math functions: the
 * generated gradients call the backwards (imported from the module itself) instead of
 * differentiating the bodies.
 */
const CUSTOM = `
/** @gradient cubedBackward */
export function cubed(v: number): number {
  return v * v * v;
}
export function cubedBackward(v: number, out: number, dout: number): number {
  return 3 * v * v * dout;
}

/** @gradient softSignBackward */
export function softSign(v: number): number {
  return v / (1 + Math.abs(v));
}
export function softSignBackward(v: number, out: number, dout: number): number {
  return dout / (1 + Math.abs(v)) ** 2;
}
`;
/** A call of a function with a hand-written backward: it has no tangent rule, so no f_jvp. */
const CUSTOM_CALL = /\b(cubed|softSign)\(/;
const moduleSource = (programs: readonly Program[]) => [IMPORTS, CUSTOM, ...programs.flatMap((p) => [p.text, recordTwin(p)?.text ?? "", rowsTwin(p)?.text ?? ""])].join("\n");

/**
 * The program with its array `xs` as the one row of a nested array (`rows: number[][]`,
 * `const xs = rows[0];`, then the same body): its gradient's `grad.rows` must be one row, the
 * program's gradient of `xs`, and the rest of its gradient the same. Only for programs that
 * read `xs` by element, length, `for...of` or `.map`/`.reduce`/`.forEach` (a row is a place
 * in the nested array, not an array value to pass on, copy, spread or write into).
 */
function rowsTwin(p: Program): { name: string; text: string } | null {
  if (p.into || !p.wrt.includes("xs")) return null;
  const body = [...p.body.map(renderStmt), `return ${render(p.ret)};`].join("\n");
  // every use of xs: an element read (not written), its length, a for...of, a method with a callback
  const uses = body.match(/(\bof )?\bxs\b(\[[^\]]*\]\s*(?:[-+*]?=(?!=))?|\.\w+\(?)?/g) ?? [];
  const readOnly = uses.every((u) => u.startsWith("of ") || /^xs(\[[^\]]*\]$|\.length$|\.(map|reduce|forEach)\($)/.test(u.trimEnd()));
  if (!readOnly) return null;
  const name = `${p.name}_rows`;
  const wrt = p.wrtTag ? `@wrt ${p.wrt.map((n) => (n === "xs" ? "rows" : n)).join(" ")}` : null;
  const doc = wrt ? `/**\n * @differentiable\n * ${wrt}\n */` : "/** @differentiable */";
  const params = p.params.map((q) => (q.name === "xs" ? "rows: number[][]" : `${q.name}: ${q.type}`)).join(", ");
  const lines = [`const xs = rows[0];`, ...body.split("\n")].map((l) => `  ${l}`).join("\n");
  return { name, text: `${doc}\nexport function ${name}(${params}): number {\n${lines}\n}\n` };
}

/**
 * The program with its differentiated numbers in one record parameter, destructured first
 * (`let { x, y } = params;`, then the same body): its gradient's `grad.params` must be the
 * program's gradients of those numbers, and the rest of its gradient the same. Programs
 * tagged `@into` (which takes no records) and programs with one such number have none.
 */
function recordTwin(p: Program): { name: string; text: string; fields: string[]; args: (args: readonly unknown[]) => unknown[] } | null {
  const fields = p.params.filter((q) => q.type === "number" && p.wrt.includes(q.name));
  // two fields or more (a record of one is the same check, at twice the compile time)
  if (p.into || fields.length < 2) return null;
  const rest = p.params.filter((q) => !fields.includes(q));
  const name = `${p.name}_rec`;
  const wrt = p.wrtTag ? ["@wrt params", ...rest.filter((q) => p.wrt.includes(q.name)).map((q) => q.name)].join(" ") : null;
  const doc = wrt ? `/**\n * @differentiable\n * ${wrt}\n */` : "/** @differentiable */";
  const record = `params: { ${fields.map((q) => `${q.name}: number`).join("; ")} }`;
  const params = [record, ...rest.map((q) => `${q.name}: ${q.type}`)].join(", ");
  const body = [`let { ${fields.map((q) => q.name).join(", ")} } = params;`, ...p.body.map(renderStmt), `return ${render(p.ret)};`].join("\n").split("\n").map((l) => `  ${l}`).join("\n");
  return {
    name,
    text: `${doc}\nexport function ${name}(${params}): number {\n${body}\n}\n`,
    fields: fields.map((q) => q.name),
    args: (args) => [
      Object.fromEntries(fields.map((q) => [q.name, args[p.params.indexOf(q)]])),
      ...rest.map((q) => args[p.params.indexOf(q)]),
    ],
  };
}

/**
 * The batch compiled with each program tagged `@checkpoint 2`, but those that tsgrad refuses
 * to checkpoint (a located `@checkpoint:` error at their loop), which are compiled untagged.
 */
async function withCheckpoints(programs: readonly Program[]): Promise<Awaited<ReturnType<typeof compileAndLoad>> & { source: string }> {
  const untagged = new Set<string>();
  for (;;) {
    const source = moduleSource(programs.map((p) => (untagged.has(p.name) ? p : { ...p, text: p.text.replace("@differentiable", "@differentiable @checkpoint 2") })));
    try {
      return { ...(await compileAndLoad(source, "model.ts")), source };
    } catch (e) {
      const lines = source.split("\n");
      const refused = [...String(e).matchAll(/model\.ts:(\d+):\d+: error: @checkpoint:/g)].map(([, line]) =>
        programs.find((p) => lines.slice(0, Number(line)).some((l) => l.startsWith(`export function ${p.name}(`)) &&
          !lines.slice(0, Number(line)).some((l, k) => k > lines.findIndex((m) => m.startsWith(`export function ${p.name}(`)) && /^export function /.test(l)))?.name);
      if (refused.length === 0 || refused.some((name) => name === undefined || untagged.has(name))) throw e;
      refused.forEach((name) => untagged.add(name!));
    }
  }
}

// ---- interpreter ---------------------------------------------------------------------------

interface Evaluation {
  readonly value: number;
  /** For every comparison, max, min, abs and relu evaluated, in order: its distance from a tie (or from 0). */
  readonly distances: readonly number[];
  /** Largest magnitude of any intermediate value. */
  readonly magnitude: number;
  /** The outcome of every comparison, max, min, abs and relu evaluated, in order. */
  readonly path: string;
}

/** Runs a program on `args` with JavaScript's own arithmetic, so the value must match the compiled code bit for bit. */
function evaluate(p: Program, args: readonly Arg[]): Evaluation {
  const helpers = new Map(p.helpers.map((h) => [h.name, h]));
  const distances: number[] = [];
  let magnitude = 0;
  let path = "";
  const kink = (distance: number, outcome: boolean) => {
    distances.push(Math.abs(distance));
    path += outcome ? "1" : "0";
  };
  const seen = (v: number) => {
    magnitude = Math.max(magnitude, Number.isFinite(v) ? Math.abs(v) : Infinity);
    return v;
  };
  /** Runs a function body in `env`; a helper's call runs its own body in an environment of its own. */
  function invoke(stmts: readonly Stmt[], ret: Ex, env: Map<string, number | boolean | number[]>): number {
    /** `b0[2]`, `xs[i1]`: an element of an array, at a constant or at a variable's value. */
    const element = (name: string): { array: number[]; at: number } | null => {
      const m = /^(\w+)\[(\w+)\]$/.exec(name);
      if (!m) return null;
      const at = /^\d+$/.test(m[2]!) ? Number(m[2]) : (env.get(m[2]!) as number);
      return { array: env.get(m[1]!) as number[], at };
    };
    const ev = (e: Ex): number => {
      switch (e.k) {
        case "call": {
          const h = helpers.get(e.name)!;
          const values = e.args.map(ev);
          return invoke(h.body, h.ret, new Map(h.params.map((q, i) => [q, values[i]!])));
        }
        case "var": {
          const el = element(e.name);
          return el ? el.array[el.at]! : (env.get(e.name) as number);
        }
        case "num": return e.v;
        case "bin": {
          const a = ev(e.a), b = ev(e.b);
          return seen(e.op === "+" ? a + b : e.op === "-" ? a - b : a * b);
        }
        case "neg": return -ev(e.a);
        case "sdiv": {
          const a = ev(e.a), b = ev(e.b);
          return seen(a / (1 + b * b));
        }
        case "ext": {
          const a = ev(e.a), b = ev(e.b);
          kink(a - b, a > b);
          return e.f === "max" ? Math.max(a, b) : Math.min(a, b);
        }
        case "tern": return test(e.c) ? ev(e.t) : ev(e.e);
        case "fn": {
          const a = ev(e.a);
          switch (e.f) {
            case "sin": return Math.sin(a);
            case "cos": return Math.cos(a);
            case "tanh": return Math.tanh(a);
            case "atan": return Math.atan(a);
            case "sigmoid": return sigmoid(a);
            case "relu": kink(a, a > 0); return relu(a);
            case "abs": kink(a, a > 0); return Math.abs(a);
            case "expTanh": return Math.exp(Math.tanh(a));
            case "logSq": return Math.log(1 + a * a);
            case "sqrtSq": return seen(Math.sqrt(1 + a * a));
            case "sq": return seen(a ** 2);
            case "cube": return seen(a ** 3);
            case "powSq": return seen(Math.pow(a, 2));
            case "hypot1": return seen(Math.hypot(a, 1));
            case "cubed": return seen(a * a * a);
            case "softSign": return a / (1 + Math.abs(a));
          }
        }
      }
    };
    function test(c: CondEx): boolean {
      const { cmp, l, r, negate, flag } = c;
      const compare = () => {
        const x = ev(l), y = ev(r);
        const outcome = cmp === ">" ? x > y : cmp === "<" ? x < y : cmp === ">=" ? x >= y : x <= y;
        kink(x - y, outcome);
        return negate ? !outcome : outcome;
      };
      const f = env.get("flag") as boolean;
      return flag === "&&" ? f && compare() : flag === "||" ? f || compare() : compare();
    }
    /** Set by an early `return`; the rest of the program is skipped. */
    let returned: number | null = null;
    const run = (stmts: readonly Stmt[]) => {
      for (const s of stmts) {
        if (returned !== null) return;
        exec(s);
      }
    };
    /** Runs a loop over `xs` (every form runs the same iterations; `xs` is never empty); a `return` inside sets `returned`. */
    function loop(s: Loop): void {
      const xs = env.get("xs") as number[];
      for (let i = 0; i < xs.length; i++) {
        env.set(s.index, i);
        if (s.form === "of") env.set(`e${s.index.slice(1)}`, xs[i]!);
        let left: Jump | null = null;
        for (const item of s.body) {
          if (item.k === "jump") {
            if (test(item.c)) {
              item.before.forEach(exec);
              if (item.jump === "return") returned = ev(item.e);
              left = item.jump;
              break;
            }
            item.otherwise.forEach(exec);
          } else if (item.k === "loop") {
            loop(item);
            if (returned !== null) left = "return";
          } else {
            exec(item);
          }
          if (left !== null) break;
        }
        if (left === "break" || left === "return") return;
      }
    }
    function exec(s: Stmt): void {
      if (s.k === "early") {
        if (test(s.c)) returned = ev(s.e);
        return;
      }
      if (s.k === "loop") {
        loop(s);
        return;
      }
      if (s.k === "if") {
        run(test(s.c) ? s.then : s.else);
        return;
      }
      if (s.k === "sum") {
        const xs = env.get("xs") as number[];
        let acc = 0;
        for (let j = 0; j < xs.length; j++) {
          env.set(s.index, j);
          acc = seen(acc + ev(s.e));
        }
        env.set(s.name, acc);
        return;
      }
      if (s.k === "buffer") {
        const xs = env.get("xs") as number[];
        const b = s.make === "copy" ? xs.slice() : new Array<number>(xs.length).fill(0);
        env.set(s.name, b);
        for (let j = 0; j < xs.length; j++) {
          env.set(s.index, j);
          b[j] = s.make === "copy" ? b[j]! + ev(s.e) : ev(s.e);
        }
        return;
      }
      if (s.k === "write") {
        const { array, at } = element(`${s.array}[${s.at}]`)!;
        const e = ev(s.e);
        array[at] = seen(s.op === "=" ? e : s.op === "+=" ? array[at]! + e : s.op === "-=" ? array[at]! - e : array[at]! * e);
        return;
      }
      const e = ev(s.e);
      if (s.k !== "assign") {
        env.set(s.name, e);
        return;
      }
      const old = env.get(s.name) as number;
      const next =
        s.op === "=" ? e
        : s.op === "+=" ? old + e
        : s.op === "-=" ? old - e
        : s.op === "*=" ? old * e
        : s.op === "/=" ? old / (1 + e * e)
        : old ** 2;
      env.set(s.name, seen(next));
    }
    run(stmts);
    return seen(returned ?? ev(ret));
  }
  const value = invoke(p.body, p.ret, new Map(p.params.map((q, i) => [q.name, args[i]!])));
  return { value, distances, magnitude, path };
}

/**
 * Why finite differences at `args` would not be trustworthy, or null: a probe x ± h
 * (gradcheck's own) on another side of a kink, a kink within KINK_MARGIN, huge values, or a
 * function so steep that the central difference with step h/2 disagrees with gradcheck's
 * (step h) by half its tolerance: the difference's own error would then be about as large
 * as what it checks (a loop like `x = (0.5 / (1 + x * x) + x) * x` compounds slopes of 10^3).
 * A tie that holds at the point and at every probe (`Math.max(z, v)` after `v = z`,
 * `x < x`) is structural: the function is smooth along the probes, so it is kept.
 */
function unsafe(p: Program, args: readonly Arg[]): string | null {
  const at = evaluate(p, args);
  if (at.magnitude > MAX_MAGNITUDE) return "large";
  const probes: Evaluation[] = [];
  /** Central differences with steps h and h/2, for every component. */
  const differences: [number, number][] = [];
  /** Probes `args` with component `k` of argument `i` (k null for a number) moved by ±h and ±h/2. */
  const probe = (i: number, k: number | null, x: number) => {
    const h = FD_EPS * Math.max(1, Math.abs(x));
    const [plus, minus, halfPlus, halfMinus] = [h, -h, h / 2, -h / 2].map((delta) => {
      const moved = args.map((a, j) => (j !== i ? a : k === null ? x + delta : (a as number[]).map((y, m) => (m === k ? x + delta : y))));
      const there = evaluate(p, moved);
      probes.push(there);
      return there.value;
    });
    differences.push([(plus! - minus!) / (2 * h), (halfPlus! - halfMinus!) / h]);
  };
  for (const name of p.wrt) {
    const i = p.params.findIndex((q) => q.name === name);
    const arg = args[i]!;
    if (Array.isArray(arg)) arg.forEach((x, k) => probe(i, k, x));
    else probe(i, null, arg as number);
  }
  if (probes.some((there) => there.path !== at.path)) return "a probe crosses a kink";
  if (probes.some((there) => there.magnitude > MAX_MAGNITUDE)) return "large";
  const near = at.distances.some((d, k) => d < KINK_MARGIN && !(d === 0 && probes.every((there) => there.distances[k] === 0)));
  if (near) return "near a kink";
  // the h-difference's error is about 4/3 of how far it is from the h/2-difference
  const steep = differences.some(([d, half]) => (4 / 3) * Math.abs(d - half) > 0.5 * (TOLERANCES.atol + TOLERANCES.rtol * Math.abs(half)));
  return steep ? "too steep for finite differences" : null;
}

// ---- arbitraries -------------------------------------------------------------------------

const leaf: fc.Arbitrary<Node> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("var" as const), i: fc.nat({ max: 23 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("num" as const), v: fc.constantFrom(...CONSTANTS) }) },
);

const { node, cond } = fc.letrec<{ node: Node; cond: Cond }>((tie) => ({
  node: fc.oneof(
    { depthIdentifier: "expr", maxDepth: 3 },
    // the first alternative is what fast-check falls back to at the maximum depth
    { weight: 6, arbitrary: leaf },
    { weight: 4, arbitrary: fc.record({ k: fc.constant("bin" as const), op: fc.constantFrom("+" as const, "-" as const, "*" as const), a: tie("node"), b: tie("node") }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("neg" as const), a: tie("node") }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("sdiv" as const), a: tie("node"), b: tie("node") }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant("fn" as const), f: fc.constantFrom(...UNARY), a: tie("node") }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("ext" as const), f: fc.constantFrom("max" as const, "min" as const), a: tie("node"), b: tie("node") }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant("tern" as const), c: tie("cond"), t: tie("node"), e: tie("node") }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("call" as const), h: fc.nat({ max: 3 }), args: fc.tuple(tie("node"), tie("node")) }) },
  ),
  cond: fc.record({
    cmp: fc.constantFrom(">" as const, "<" as const, ">=" as const, "<=" as const),
    l: tie("node"),
    r: tie("node"),
    negate: fc.boolean(),
    flag: fc.constantFrom("none" as const, "&&" as const, "||" as const),
  }),
}));

const assignment: fc.Arbitrary<RawAssign> = fc.record({
  k: fc.constant("assign" as const),
  target: fc.nat({ max: 23 }),
  op: fc.constantFrom<AssignOp>("=", "+=", "-=", "*=", "/=", "**="),
  e: node,
});

const loopAssignment: fc.Arbitrary<RawAssign> = fc.record({
  k: fc.constant("assign" as const),
  target: fc.nat({ max: 23 }),
  op: fc.constantFrom<AssignOp>("=", "+=", "-=", "/="),
  e: node,
});

const elementWrite = (ops: readonly WriteOp[]): fc.Arbitrary<RawWrite> => fc.record({
  k: fc.constant("write" as const),
  target: fc.nat({ max: 3 }),
  at: fc.nat({ max: 2 }),
  op: fc.constantFrom(...ops),
  e: node,
});

/**
 * What a loop body assigns: a variable, or an element of a local array at the loop's index.
 * No `*=` or `**=` in loop bodies: repeated squaring makes functions too steep for finite differences.
 */
const loopAssign: fc.Arbitrary<RawLoopAssign> = fc.oneof({ weight: 1, arbitrary: loopAssignment }, { weight: 1, arbitrary: elementWrite(["=", "+=", "-="]) });

/** `if (c) { before; jump } else { otherwise }` in a loop body. */
const jump: fc.Arbitrary<RawJump> = fc.record({
  k: fc.constant("jump" as const),
  jump: fc.constantFrom<Jump>("break", "continue", "return"),
  c: cond,
  before: fc.array(loopAssign, { maxLength: 1 }),
  otherwise: fc.array(loopAssign, { maxLength: 1 }),
  e: node,
});

const loopForm = fc.constantFrom<LoopForm>("for", "while", "do", "of");
const innerLoop: fc.Arbitrary<RawLoop> = fc.record({
  k: fc.constant("loop" as const),
  form: loopForm,
  body: fc.array(fc.oneof({ weight: 3, arbitrary: loopAssign }, { weight: 1, arbitrary: jump }), { minLength: 1, maxLength: 3 }),
});
const loop: fc.Arbitrary<RawLoop> = fc.record({
  k: fc.constant("loop" as const),
  form: loopForm,
  body: fc.array(
    fc.oneof({ weight: 3, arbitrary: loopAssign }, { weight: 2, arbitrary: jump }, { weight: 1, arbitrary: innerLoop }),
    { minLength: 1, maxLength: 3 },
  ),
});

const stmt: fc.Arbitrary<RawStmt> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("decl" as const), mutable: fc.boolean(), e: node }) },
  { weight: 2, arbitrary: assignment },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("early" as const), c: cond, e: node }) },
  { weight: 2, arbitrary: loop },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("buffer" as const), make: fc.constantFrom<BufferMake>("array", "typed", "copy", "map"), e: node }) },
  { weight: 1, arbitrary: elementWrite(["=", "+=", "-=", "*="]) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("reduce" as const), e: node, nested: fc.boolean(), method: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("if" as const),
      c: cond,
      then: fc.array(assignment, { maxLength: 2 }),
      else: fc.array(assignment, { maxLength: 2 }),
    }),
  },
);

const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** A helper's statements: those of a program, but no loops or local arrays (a helper has no array). */
const helperStmt: fc.Arbitrary<RawStmt> = stmt.filter((st) => st.k !== "loop" && st.k !== "buffer" && st.k !== "write" && st.k !== "reduce");

const rawHelper: fc.Arbitrary<RawHelper> = fc.record({
  nParams: fc.integer({ min: 1, max: 2 }),
  stmts: fc.array(helperStmt, { maxLength: 3 }),
  ret: node,
});

const rawProgram: fc.Arbitrary<RawProgram> = fc.record({
  // about one program in three has helpers to call
  helpers: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(rawHelper, { minLength: 1, maxLength: 3 }) }),
  nParams: fc.integer({ min: 1, max: 3 }),
  naming: fc.constantFrom("plain" as const, "clashing" as const),
  // about one program in three has a boolean parameter, and one in three a `@wrt` tag
  flagAt: sometimes(fc.nat({ max: 3 })),
  wrtMask: sometimes(fc.integer({ min: 1, max: 15 })),
  into: fc.boolean(),
  stmts: fc.array(stmt, { minLength: 1, maxLength: 6 }),
  ret: fc.record({ k: fc.constantFrom("last" as const, "expr" as const, "sum" as const), e: node }),
});

/**
 * Uniform in [-2, 2] with steps of ~1e-9. (fc.double is uniform over bit patterns, so most of
 * its draws are tiny, and its bias towards 0 and the bounds would put many points on kinks.)
 */
const STEPS = 2 ** 31 - 1;
const coordinate = fc.noBias(fc.integer({ min: -STEPS, max: STEPS })).map((i) => (2 * i) / STEPS);
const point = fc.record({ xs: fc.array(coordinate, { minLength: 3, maxLength: 3 }), flag: fc.boolean(), array: fc.array(coordinate, { minLength: 3, maxLength: 3 }) });

type Arg = number | boolean | number[];

interface Case {
  readonly program: Program;
  /** The points, as argument lists in parameter order. */
  readonly points: readonly (readonly Arg[])[];
}

const batch: fc.Arbitrary<Case[]> = fc
  .array(fc.record({ raw: rawProgram, points: fc.array(point, { minLength: POINTS_PER_PROGRAM, maxLength: POINTS_PER_PROGRAM }) }), { minLength: 1, maxLength: MAX_BATCH })
  .map((items) =>
    items.map(({ raw, points }, n) => {
      const program = resolve(raw, `f${n}`);
      const args = points.map(({ xs, flag, array }) => {
        let k = 0;
        return program.params.map((q): Arg => (q.type === "boolean" ? flag : q.type === "number[]" ? array : xs[k++]!));
      });
      return { program, points: args };
    }),
  );

/** Shown by fast-check for a counterexample: the sources, ready to paste into a file. */
function describeBatch(cases: readonly Case[]): string {
  return cases.map((c) => `${IMPORTS}${CUSTOM}\n${c.program.text}// points: ${JSON.stringify(c.points)}`).join("\n\n");
}

/** tsc --strict --noUncheckedIndexedAccess's complaints about generated modules, checked as one program: the first module's, with its source. */
function typeErrors(modules: readonly { source: string; output: string }[]): string | null {
  const options = {
    strict: true, noUncheckedIndexedAccess: true, noEmit: true, noUnusedLocals: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, skipLibCheck: true, types: [],
  };
  const host = ts.createCompilerHost(options);
  // a folder beside runtime/, as fixtures/ is, where the generated `../runtime/index.ts` import resolves
  const dir = new URL("../generated/", import.meta.url).pathname;
  // each generated module imports its custom gradients from its source, `./model.ts`: here `./mK.ts`
  const files = new Map<string, string>(modules.flatMap((m, i) => [
    [`${dir}m${i}.grad.ts`, m.output.replaceAll(`from "./model.ts"`, `from "./m${i}.ts"`)] as const,
    [`${dir}m${i}.ts`, m.source] as const,
  ]));
  const read = host.getSourceFile;
  host.getSourceFile = (file, version) => (files.has(file) ? ts.createSourceFile(file, files.get(file)!, version) : read(file, version));
  const exists = host.fileExists;
  host.fileExists = (file) => files.has(file) || exists(file);
  const dirExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => `${d}/` === dir || d === dir || (dirExists?.(d) ?? false);
  // only the generated code is judged (a source may leave `relu` unused)
  const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([...files.keys()], options, host))
    .filter((d) => d.file?.fileName.endsWith(".grad.ts"));
  if (diagnostics.length === 0) return null;
  const first = diagnostics[0]!;
  const module = modules[Number(/m(\d+)\.grad\.ts$/.exec(first.file!.fileName)![1])];
  return `${diagnostics.length} type errors, the first: ${ts.flattenDiagnosticMessageText(first.messageText, "\n")}\n--- source ---\n${module?.source}\n--- generated ---\n${module?.output}`;
}

/** What a program's loops and arrays hold, for the statistics of a run. */
const FEATURES = ["loop", "do", "for...of", "break", "continue", "return in a loop", "nested loop", "local array", "write in a loop", "array method"] as const;
type Feature = (typeof FEATURES)[number];

function features(p: Program): Set<Feature> {
  const found = new Set<Feature>();
  const inLoop = (l: Loop, depth: number) => {
    found.add(depth > 0 ? "nested loop" : "loop");
    if (l.form === "do") found.add("do");
    if (l.form === "of") found.add("for...of");
    for (const item of l.body) {
      if (item.k === "loop") inLoop(item, depth + 1);
      else if (item.k === "write") found.add("write in a loop");
      else if (item.k === "jump") {
        found.add(item.jump === "return" ? "return in a loop" : item.jump);
        if ([...item.before, ...item.otherwise].some((a) => a.k === "write")) found.add("write in a loop");
      }
    }
  };
  for (const s of p.body) {
    if (s.k === "loop") inLoop(s, 0);
    if (s.k === "buffer") found.add("local array");
    if (s.k === "sum" || (s.k === "buffer" && s.make === "map")) found.add("array method");
  }
  return found;
}

/**
 * Whether printed code (before prettier, two spaces an indent) has a fused loop inside a
 * loop or branch: a forward loop indented past the function's body whose own body holds
 * the blank line fusion puts between the forward and backward parts.
 */
function fusedInside(text: string): boolean {
  const lines = text.split("\n");
  return lines.some((line, k) => {
    const m = /^( {4,})for \(.*\+\+\) \{$/.exec(line);
    if (!m) return false;
    const end = lines.indexOf(`${m[1]}}`, k + 1);
    return lines.slice(k + 1, end).includes("");
  });
}

// ---- the property --------------------------------------------------------------------------

describe("random programs", () => {
  it("compile to gradients that match finite differences and values that match the original", async () => {
    const stats = { programs: 0, withCalls: 0, nested: 0, custom: 0, fused: 0, nestedFused: 0, combined: 0, into: 0, jvp: 0, hvp: 0, hvpRecords: 0, hvpRows: 0, checkpointed: 0, records: 0, rows: 0, points: 0, checked: 0, skipped: new Map<string, number>() };
    const counts = new Map<Feature, number>(FEATURES.map((f) => [f, 0]));
    const modules: { source: string; output: string }[] = [];
    await fc.assert(
      fc.asyncProperty(
        batch.map((cases) => Object.assign(cases, { [fc.toStringMethod]: () => describeBatch(cases) })),
        async (cases) => {
          const source = moduleSource(cases.map((c) => c.program));
          // each function's code after each stage: what fusion and combining changed
          const stages = new Map<string, string>();
          const dump = (stage: string, fn: string, text: string) => stages.set(`${stage} ${fn}`, text);
          const { original, grad, output } = await compileAndLoad(source, "model.ts", { dump });
          // loop fusion and combined sums (on by default) must not change a gradient beyond the order of its sums
          const unfused = await compileAndLoad(source, "model.ts", { fuse: false, combine: false });
          // forward mode (--jvp) and second order (--hvp) for the programs without a custom gradient, which has no tangent rule
          const plain = cases.filter((c) => !CUSTOM_CALL.test(c.program.text)).map((c) => c.program);
          const forward = plain.length > 0 ? await compileAndLoad(moduleSource(plain), "model.ts", { jvp: true, hvp: true }) : null;
          const checkpointed = await withCheckpoints(cases.map((c) => c.program));
          modules.push({ source, output }, { source: checkpointed.source, output: checkpointed.output });
          for (const { program, points } of cases) {
            stats.programs++;
            for (const f of features(program)) counts.set(f, counts.get(f)! + 1);
            // a program calls a helper, and a helper calls another
            // (a helper's name appears once where it is defined, and again where it is called)
            if (program.helpers.some((h) => program.text.split(`${h.name}(`).length > 2)) stats.withCalls++;
            if (program.helpers.some((h) => program.helpers.some((g) => g !== h && g.text.includes(`${h.name}(`)))) stats.nested++;
            if (CUSTOM_CALL.test(program.text)) stats.custom++;
            const f = original[program.name]!;
            const fGrad = grad[`${program.name}_grad`]!;
            const twoLoops = unfused.grad[`${program.name}_grad`]!;
            if (stages.get(`reverse ${program.name}`) !== stages.get(`fuse ${program.name}`)) stats.fused++;
            if (stages.get(`fuse ${program.name}`) !== stages.get(`combine ${program.name}`)) stats.combined++;
            if (fusedInside(stages.get(`fuse ${program.name}`) ?? "")) stats.nestedFused++;
            if (program.into) stats.into++;
            const ownCode = (text: string) => text.slice(text.indexOf(`function ${program.name}_grad(`)).split("\n}\n")[0]!;
            if (ownCode(checkpointed.output).includes("segmentLength")) stats.checkpointed++;
            if (recordTwin(program)) stats.records++;
            if (rowsTwin(program)) stats.rows++;
            for (const args of points) {
              stats.points++;
              const where = `${program.name}(${JSON.stringify(args).slice(1, -1)})`;
              const context = () => `at ${where}\n--- source ---\n${IMPORTS}${CUSTOM}\n${program.text}--- generated ---\n${output}`;
              // the interpreter must agree with JavaScript, or its kink analysis means nothing
              expect(evaluate(program, args).value, `test interpreter disagrees with the original ${context()}`).toBe(f(...args));
              // at every point, kinks too: the checkpointed gradient runs the same steps in the same order
              const again = checkpointed.grad[`${program.name}_grad`]!(...args);
              expect(again, `@checkpoint 2 changed the gradient ${context()}\n--- @checkpoint 2 ---\n${checkpointed.output}`).toEqual(fGrad(...args));
              const why = unsafe(program, args);
              if (why !== null) {
                stats.skipped.set(why, (stats.skipped.get(why) ?? 0) + 1);
                continue;
              }
              stats.checked++;
              const result = gradcheck(f, fGrad, args as number[], { ...TOLERANCES, names: program.params.map((q) => q.name) });
              expect(result.ok, `gradient mismatch ${context()}\n${result.report}`).toBe(true);
              if (forward && plain.includes(program)) {
                // f_jvp along a random direction: central differences, and f_grad by the dot-product test
                const random = mulberry32(stats.points);
                const tangents = Object.fromEntries(program.wrt.map((name) => {
                  const a = args[program.params.findIndex((q) => q.name === name)];
                  return [name, Array.isArray(a) ? a.map(() => 2 * random() - 1) : 2 * random() - 1];
                }));
                const fJvp = forward.grad[`${program.name}_jvp`]!;
                const along = jvpcheck(f, fJvp, args as number[], tangents, { ...TOLERANCES, names: program.params.map((q) => q.name), grad: { fGrad, dout: -1.3 } });
                expect(along.ok, `f_jvp mismatch along ${JSON.stringify(tangents)} ${context()}\n--- forward mode ---\n${forward.output}\n${along.report}`).toBe(true);
                stats.jvp++;
                // f_hvp along the same direction: central differences of f_grad (--hvp leaves out an array result)
                const fHvp = forward.grad[`${program.name}_hvp`];
                if (fHvp) {
                  const hv = hvpcheck(forward.grad[`${program.name}_grad`]!, fHvp, args as number[], tangents, { ...TOLERANCES, names: program.params.map((q) => q.name) });
                  expect(hv.ok, `f_hvp mismatch along ${JSON.stringify(tangents)} ${context()}\n--- second order ---\n${forward.output}\n${hv.report}`).toBe(true);
                  stats.hvp++;
                  // the twins' f_hvp: v and hvp shaped like their gradients, the numbers the program's own
                  const mine = fHvp(...args, tangents).hvp;
                  const near = (a: unknown, b: unknown) => {
                    const [xs, ys] = [a, b].map((x) => (typeof x === "number" ? [x] : Array.from((x ?? []) as ArrayLike<number>)));
                    return a !== undefined && xs.length === ys.length && xs.every((x, i) => Math.abs(x - ys[i]!) <= 1e-12 * (1 + Math.abs(x)));
                  };
                  const rec = recordTwin(program);
                  if (rec) {
                    const others = program.params.filter((q) => !rec.fields.includes(q.name)).map((q) => q.name);
                    const v = { params: Object.fromEntries(rec.fields.map((k) => [k, tangents[k]])), ...Object.fromEntries(others.filter((k) => k in tangents).map((k) => [k, tangents[k]])) };
                    const recHvp = forward.grad[`${rec.name}_hvp`];
                    expect(recHvp, `record twin: no f_hvp ${context()}\n${rec.text}`).toBeDefined();
                    const twinCheck = hvpcheck(forward.grad[`${rec.name}_grad`]!, recHvp!, rec.args(args) as number[], v as never, { ...TOLERANCES, names: ["params", ...others] });
                    expect(twinCheck.ok, `record twin: f_hvp mismatch ${context()}\n${rec.text}\n${twinCheck.report}`).toBe(true);
                    const r = recHvp!(...rec.args(args), v).hvp;
                    for (const k of program.wrt) {
                      const got = rec.fields.includes(k) ? r.params[k] : r[k];
                      expect(near(got, mine[k]), `record twin: hvp.${k} = ${got}, not ${mine[k]} ${context()}\n${rec.text}`).toBe(true);
                    }
                    stats.hvpRecords++;
                  }
                  const rows = rowsTwin(program);
                  if (rows) {
                    const rowsHvp = forward.grad[`${rows.name}_hvp`];
                    expect(rowsHvp, `rows twin: no f_hvp ${context()}\n${rows.text}`).toBeDefined();
                    const asRows = (xs: readonly unknown[]) => xs.map((a, i) => (program.params[i]!.name === "xs" ? [a] : a));
                    const v = Object.fromEntries(Object.entries(tangents).map(([k, t]) => (k === "xs" ? ["rows", [t]] : [k, t])));
                    const r = rowsHvp!(...asRows(args), v).hvp;
                    for (const k of program.wrt) {
                      const got = k === "xs" ? (r.rows.length === 1 && r.rows[0] instanceof Float64Array ? r.rows[0] : undefined) : r[k];
                      expect(near(got, mine[k]), `rows twin: hvp.${k} = ${got}, not ${mine[k]} ${context()}\n${rows.text}`).toBe(true);
                    }
                    stats.hvpRows++;
                  }
                }
              }
              const { value, grad: g } = fGrad(...args);
              const apart = twoLoops(...args);
              if (program.into) {
                // an array from an earlier step, full of garbage, receives the same gradient
                const xs = args[args.length - 1] as number[];
                const given = new Float64Array(xs.length).fill(1e300);
                const written = fGrad(...args, 1, { xs: given }).grad.xs;
                expect(written === given && written.every((v: number, i: number) => Object.is(v, g.xs[i])), `@into: ${written} against ${g.xs} ${context()}`).toBe(true);
              }
              for (const [k, v] of Object.entries(g)) {
                // the gradient of an array, a number[] too, is a Float64Array (README "The contract")
                if (typeof v !== "number") expect(v instanceof Float64Array, `d${k} is not a Float64Array ${context()}`).toBe(true);
                const [a, b] = [v, apart.grad[k]].map((g) => (typeof g === "number" ? [g] : Array.from(g as ArrayLike<number>)));
                const close = a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= 1e-9 * (1 + Math.abs(x)));
                expect(close, `fused and combined d${k} = ${v}, neither ${apart.grad[k]} ${context()}\n--- neither ---\n${unfused.output}`).toBe(true);
              }
              expect(value === f(...args), `value ${value} differs from the original's ${f(...args)} ${context()}`).toBe(true);
              const twin = recordTwin(program);
              if (twin) {
                const r = grad[`${twin.name}_grad`]!(...twin.args(args));
                const same = (a: unknown, b: unknown) => {
                  const [xs, ys] = [a, b].map((v) => (typeof v === "number" ? [v] : Array.from(v as ArrayLike<number>)));
                  return xs.length === ys.length && xs.every((x, i) => Math.abs(x - ys[i]!) <= 1e-12 * (1 + Math.abs(x)));
                };
                expect(r.value === value, `record twin: value ${r.value}, not ${value} ${context()}\n${twin.text}`).toBe(true);
                for (const k of program.wrt) {
                  const got = twin.fields.includes(k) ? r.grad.params[k] : r.grad[k];
                  expect(same(got, g[k]), `record twin: d${k} = ${got}, not ${g[k]} ${context()}\n${twin.text}`).toBe(true);
                }
              }
              const rows = rowsTwin(program);
              if (rows) {
                const r = grad[`${rows.name}_grad`]!(...args.map((a, i) => (program.params[i]!.name === "xs" ? [a] : a)));
                expect(r.value === value, `rows twin: value ${r.value}, not ${value} ${context()}\n${rows.text}`).toBe(true);
                for (const k of program.wrt) {
                  const [got, want] = k === "xs" ? [r.grad.rows.length === 1 ? r.grad.rows[0] : null, g.xs] : [r.grad[k], g[k]];
                  const [xs, ys] = [got, want].map((v) => (typeof v === "number" ? [v] : Array.from((v ?? []) as ArrayLike<number>)));
                  const same = got !== null && xs.length === ys.length && xs.every((x, i) => Math.abs(x - ys[i]!) <= 1e-12 * (1 + Math.abs(x)));
                  expect(same, `rows twin: d${k} = ${got}, not ${want} ${context()}\n${rows.text}`).toBe(true);
                }
              }
              expect(Object.keys(g), `gradient keys ${context()}`).toEqual(program.wrt);
            }
          }
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED },
    );
    const percent = (n: number) => `${((100 * n) / stats.programs).toFixed(0)}%`;
    console.log(
      `${stats.programs} programs, ${stats.checked} of ${stats.points} points checked (skipped: ${JSON.stringify([...stats.skipped])}); ` +
        `of the programs: ${[...counts].map(([f, n]) => `${f} ${percent(n)}`).join(", ")}, in forward mode too ${stats.jvp} points, second order ${stats.hvp} (of their record twins ${stats.hvpRecords}, rows twins ${stats.hvpRows}), call a helper ${percent(stats.withCalls)}, nested calls ${percent(stats.nested)}, a custom gradient ${percent(stats.custom)}, a fused loop ${percent(stats.fused)} (inside another ${percent(stats.nestedFused)}), combined sums ${percent(stats.combined)}, @into ${percent(stats.into)}, a checkpointed loop ${percent(stats.checkpointed)}, a record twin ${percent(stats.records)}, a rows twin ${percent(stats.rows)}`,
    );
    // the generator must keep most points usable, or the property checks little
    expect(stats.checked, `checked ${stats.checked} of ${stats.points} points (skipped: ${JSON.stringify([...stats.skipped])})`).toBeGreaterThan(0.7 * stats.points);
    // and must call helpers often enough, nested ones too, for the property to say something about calls
    expect(stats.withCalls, `${stats.withCalls} of ${stats.programs} programs call a helper`).toBeGreaterThan(0.15 * stats.programs);
    expect(stats.custom, `${stats.custom} of ${stats.programs} programs call a function with a custom gradient`).toBeGreaterThan(0.05 * stats.programs);
    expect(stats.fused, `${stats.fused} of ${stats.programs} programs have a fused loop`).toBeGreaterThan(0.03 * stats.programs);
    expect(stats.nestedFused, `${stats.nestedFused} of ${stats.programs} programs have a fused loop inside another`).toBeGreaterThan(0.01 * stats.programs);
    expect(stats.combined, `${stats.combined} of ${stats.programs} programs have element sums combined`).toBeGreaterThan(0.03 * stats.programs);
    expect(stats.into, `${stats.into} of ${stats.programs} programs are tagged @into`).toBeGreaterThan(0.1 * stats.programs);
    expect(stats.jvp, `${stats.jvp} of ${stats.checked} checked points in forward mode`).toBeGreaterThan(0.5 * stats.checked);
    expect(stats.hvp, `${stats.hvp} of ${stats.checked} checked points at second order`).toBeGreaterThan(0.3 * stats.checked);
    expect(stats.hvpRecords, `${stats.hvpRecords} of ${stats.hvp} points at second order have a record twin's f_hvp checked`).toBeGreaterThan(0.1 * stats.hvp);
    expect(stats.hvpRows, `${stats.hvpRows} of ${stats.hvp} points at second order have a rows twin's f_hvp checked`).toBeGreaterThan(0.03 * stats.hvp);
    expect(stats.checkpointed, `${stats.checkpointed} of ${stats.programs} programs have a checkpointed loop`).toBeGreaterThan(0.02 * stats.programs);
    expect(stats.records, `${stats.records} of ${stats.programs} programs have a record twin`).toBeGreaterThan(0.15 * stats.programs);
    expect(stats.rows, `${stats.rows} of ${stats.programs} programs have a rows twin (number[][])`).toBeGreaterThan(0.05 * stats.programs);
    expect(stats.nested, `${stats.nested} of ${stats.programs} programs have a helper calling another`).toBeGreaterThan(0.02 * stats.programs);
    // and must leave loops early, nest them and write arrays in them often enough to say something about those
    for (const f of ["do", "break", "continue", "return in a loop", "nested loop", "write in a loop", "array method"] as const) {
      expect(counts.get(f)!, `${counts.get(f)} of ${stats.programs} programs have a ${f}`).toBeGreaterThan(0.03 * stats.programs);
    }
    // every generated module type-checks, as the fixtures do
    expect(typeErrors(modules)).toBeNull();
    // 7.5 to 9 minutes measured on 2 cores shared with other runs (the twins' f_hvp compiled and checked too)
  }, 900_000);
});
