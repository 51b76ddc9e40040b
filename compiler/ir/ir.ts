/**
 * The graph IR: values and the operations that produce them, in program order, with
 * structured regions for branches. Every value is assigned exactly once (a reassigned
 * `let` becomes a new version of the same user name), so the graph is explicit: an op's
 * inputs are atoms (a value or a constant), its output is one value.
 */

export interface SourceLoc {
  readonly line: number;
  readonly col: number;
  /** The source text of the node (whitespace collapsed), shown in comments and diagnostics. */
  readonly text: string;
  /** The top-level function the node is in, when it is a function (an inlined callee's name, for comments). */
  readonly fn?: string;
  /** The module the node is in, when it is not the one being compiled (as the compiler was given its path). */
  readonly file?: string;
}

/**
 * `tensor` is the runtime's Tensor; `array` is an array the function only reads (labels,
 * indices) and never differentiates; `data` is a constant of any other type (a string, a
 * `"relu" | "tanh"` flag), passed through and compared, never differentiated.
 */
export type ValueType = "number" | "boolean" | "tensor" | "array" | "string" | "data";

/**
 * An `array` written as rows of numbers (`number[][]`, `Float64Array[]`): read as `W[i][j]`,
 * its gradient and its tangent are arrays of rows of the same shape.
 */
export const isNestedArray = (typeText: string | undefined): boolean => /^(number\[\]|Float64Array)\[\]$/.test(typeText ?? "");

export interface Value {
  readonly id: number;
  /** The user's variable name, or null for a temporary the compiler introduced. */
  readonly name: string | null;
  /** 1 for a variable's first value, 2 after its first reassignment, ... */
  readonly version: number;
  /** Name hint for temporaries (from the rule table: `sum`, `prod`, `exp`, ...). */
  readonly hint: string;
  readonly type: ValueType;
  /** True for the values that function parameters bind. */
  readonly param: boolean;
  /** For an `array` value: how it is written (`number[]`, `Float64Array`), for its gradient's kind. */
  readonly typeText?: string;
  /**
   * Which function body the name belongs to: 0 for the function being compiled, then one
   * per inlined call. Two values are versions of one variable only within one scope.
   */
  readonly scope: number;
}

export type Atom =
  | { readonly kind: "value"; readonly id: number }
  | { readonly kind: "const"; readonly value: number | boolean | string; readonly text?: string };

export interface OpStmt {
  readonly kind: "op";
  /** Key of the derivative-rule table. */
  readonly op: string;
  /** How the callee is spelled in the user's source (an import alias), for calls. */
  readonly callee?: string;
  /** For a call of a function tsgrad does not inline: its rule comes from here (see `ruleOf`). */
  readonly custom?: CustomCall;
  readonly args: readonly Atom[];
  readonly out: number;
  readonly loc: SourceLoc;
}

/**
 * A call kept as a call in the emitted code: a function with a user-written backward
 * (`@gradient`), or a function whose source tsgrad cannot read (from a package), which may
 * only see values that are not differentiated (`backward` null).
 */
export interface CustomCall {
  /** The local name the generated module calls the function by. */
  readonly forward: string;
  /** The local name of its backward function, or null for a call with no gradient. */
  readonly backward: string | null;
  /**
   * The local name of its hand-written forward derivative (`@tangent fTangent`), called in
   * forward mode as `fTangent(...inputs, out, ...tangents of the differentiated inputs)`.
   */
  readonly tangent?: string;
  /** Per parameter: its type as written and as tsgrad sees it, and whether it gets a gradient (number, number[], Float64Array, Tensor). */
  readonly params: readonly { readonly type: ValueType; readonly typeText?: string; readonly differentiable: boolean }[];
  readonly result: ValueType;
  /** Where a function without a backward comes from (a package), for messages. */
  readonly module?: string;
}

/** A two-way branch; `outs` merge the values the branches computed (phi nodes). */
export interface IfStmt {
  readonly kind: "if";
  readonly cond: Atom;
  readonly then: Stmt[];
  readonly else: Stmt[];
  readonly outs: readonly { readonly out: number; readonly then: Atom; readonly else: Atom }[];
  readonly loc: SourceLoc;
}

/**
 * A loop, `while (cond) body`: `cond` is recomputed before every iteration from the
 * statements in `test`. Variables the body reassigns are `carried`: `phi` is the value at
 * the start of an iteration (and after the loop), `init` the value entering the loop,
 * `next` the value at the end of an iteration. A loop always has an iteration counter
 * among them: the user's own (`for (let i = lo; i < hi; i++)`, `counted`) or one tsgrad
 * adds (`steps`), so the backward pass knows how many iterations to undo.
 */
export interface LoopStmt {
  readonly kind: "loop";
  readonly test: Stmt[];
  readonly cond: Atom;
  readonly body: Stmt[];
  readonly carried: readonly { readonly phi: number; readonly init: Atom; readonly next: Atom }[];
  /** The phi counting iterations from 0 (a tsgrad counter) or, for a counted `for`, the user's index. */
  readonly counter: number;
  /** For `for (let i = lo; i < hi; i++)` (or `<=`): the bounds, so the loop runs backward as `for (let i = hi - 1; i >= lo; i--)`. */
  readonly counted: { readonly lo: Atom; readonly hi: Atom; readonly inclusive: boolean } | null;
  readonly loc: SourceLoc;
}

export type Stmt = OpStmt | IfStmt | LoopStmt;

export interface Param {
  readonly name: string;
  /** The declared type as written, copied into the emitted signature. */
  readonly typeText: string;
  readonly type: ValueType;
  readonly value: number;
  readonly wrt: boolean;
  /**
   * For a leaf of a record or tuple parameter (parse/shapes.ts): the parameter it belongs to
   * and the fields or indices that lead to it (`params.w`: "params", ["w"]).
   */
  readonly leafOf?: { readonly input: string; readonly path: readonly (string | number)[] };
  /** A default value as written (a literal): `n: number = 3`. */
  readonly init?: string;
}

/** A parameter as the user's signature has it (a record or a tuple is one, of several leaf `Param`s). */
export interface Input {
  readonly name: string;
  /** The type as the generated signature writes it (a record spelled out). */
  readonly typeText: string;
  /** A default value as written (a literal): `n: number = 3`. */
  readonly init?: string;
}

export interface Import {
  readonly local: string;
  readonly imported: string;
  readonly module: string;
  /** Imported for its type only (`import type { Tensor }`). */
  readonly typeOnly?: boolean;
}

export interface FunctionIR {
  readonly name: string;
  readonly params: readonly Param[];
  /** The user's parameters, when some are records or tuples flattened into leaves (else the params themselves). */
  readonly inputs?: readonly Input[];
  readonly values: readonly Value[];
  readonly body: Stmt[];
  readonly result: Atom;
  readonly resultType: ValueType;
  /** A tuple or record result's type as written (`[number, number]`, `{ y: number; z: number[] }`), which `dout` then has. */
  readonly resultText?: string;
  /**
   * A record (or tuple) result the function builds of several values (`return { y, z }`):
   * each leaf by its path. `result` is then the first leaf's atom; use `resultAtoms`.
   */
  readonly resultLeaves?: readonly ResultLeaf[];
  /** The runtime module tensor operations come from, for the helpers the backward pass calls. */
  readonly runtimeModule: string | null;
  readonly returnLoc: SourceLoc;
  readonly loc: SourceLoc;
  /** Imports of the user's module that the function's calls resolve to. */
  readonly imports: readonly Import[];
  /** `@into`: the gradient may write array parameters' gradients into arrays the caller passes. */
  readonly into: boolean;
  /** `@jvp`: the generated module also has the forward-mode derivative `f_jvp` (transforms/forward.ts). */
  readonly jvp?: boolean;
  /** `@hvp`: the generated module also has the Hessian-vector product `f_hvp`, forward over reverse (transforms/hvp.ts). */
  readonly hvp?: boolean;
  /**
   * `@checkpoint` (`@checkpoint k`): the function's counted top-level loops keep the
   * loop-carried state every `every` steps (null: ⌈√T⌉ for T steps, chosen at run time)
   * instead of every step, and recompute each segment in the backward pass
   * (transforms/checkpoint.ts).
   */
  readonly checkpoint?: { readonly every: number | null; readonly loc: SourceLoc };
  /**
   * The array parameters the function writes into (parse/writes.ts): the function changes
   * its caller's arrays, its companions work on copies made where they start and leave them
   * as they were; derivatives are with respect to the values on entry.
   */
  readonly copied?: readonly string[];
}

/** One leaf of a record result: `["z"]`, its value, its type and how the type is written (`number[]`). */
export interface ResultLeaf {
  readonly path: readonly (string | number)[];
  readonly atom: Atom;
  readonly type: ValueType;
  readonly typeText: string;
}

/** The atoms a function returns: its result, or each leaf of a record result. */
export const resultAtoms = (fn: FunctionIR): readonly Atom[] => fn.resultLeaves?.map((l) => l.atom) ?? [fn.result];

export const valueAtom = (id: number): Atom => ({ kind: "value", id });
export const constAtom = (value: number | boolean | string, text?: string): Atom => ({ kind: "const", value, text });

/**
 * The names a companion of `fn` (its `_grad` or its `_jvp`) keeps as the user wrote them:
 * the function's own, its parameters, its top-level variables (an inlined function's are
 * renamed where they clash; the caller's are kept), its imports, and `Math`. Sorted, so
 * the names picked around them are deterministic.
 */
export function reservedNames(fn: FunctionIR): string[] {
  return [...new Set<string>([
    fn.name, "Math",
    ...fn.params.map((p) => p.name),
    ...(fn.inputs ?? []).map((p) => p.name),
    ...fn.values.flatMap((v) => (v.name && v.scope === 0 ? [v.name] : [])),
    ...fn.imports.map((i) => i.local),
  ])].sort();
}
