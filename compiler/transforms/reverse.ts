/**
 * Reverse mode (`f_grad`), as the stages compiler/index.ts lists (MODES): each a function
 * from what the stage before it left to what the next one reads.
 *
 *   startGradient   the function's context (./context.ts) and its `dout` parameter
 *   checkpoint      under `@checkpoint`: which loops fusion runs in one sweep (index.ts)
 *   adjoints        the backward statements, last operation first (./adjoints.ts, ./resolve.ts)
 *   tape            what the forward half keeps, and how each loop keeps it (./tape.ts)
 *   primal          the forward half (./primal.ts)
 *   assembleGradient  the backward loops' headers and tapes, the boundary, the return
 *
 * (then fuse and combine, on the code IR: ./fuse.ts, ./combine.ts, ./carry.ts)
 */
import { num, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeFunction, CodeStmt } from "../ir/code.ts";
import { reservedNames, type FunctionIR, type LoopStmt } from "../ir/ir.ts";
import type { Activity } from "../analyses/activity.ts";
import { TransformContext } from "./context.ts";
import { primal } from "./primal.ts";
import { boundary, resultEx } from "./boundary.ts";
import { Reverser } from "./adjoints.ts";
import { backwardLoop, planTapes, type TapePlan } from "./tape.ts";

/** A function on its way through reverse mode. */
export interface Gradient {
  readonly fn: FunctionIR;
  readonly activity: Activity;
  readonly cx: TransformContext;
  /** The emitted function's name (`f_grad`). */
  readonly name: string;
  /** The upstream gradient, the parameter after the function's own. */
  readonly dout: Sym;
  /** Whether `@checkpoint` applies: false for the plain gradient the checkpoint stage looks at. */
  readonly checkpointing: boolean;
  /** Under `@checkpoint`, the loops left as they are (fusion runs them in one sweep); null: checkpoint nothing. */
  readonly fused: ReadonlySet<LoopStmt> | null;
}

/** The backward statements: loops still without their headers and tapes (assembleGradient writes them). */
export interface Adjoints {
  readonly backward: CodeStmt[];
  /** How the backward pass reads the adjoint of a value. */
  readonly adjointEx: (id: number) => Ex;
  /** The values some contribution went to. */
  readonly contributed: ReadonlySet<number>;
}

export function startGradient(fn: FunctionIR, activity: Activity, name: string): Gradient {
  const cx = new TransformContext(fn, activity);
  return { fn, activity, cx, name, dout: cx.fresh("dout"), checkpointing: !!fn.checkpoint, fused: null };
}

/** The `adjoints` stage: the graph IR walked from the last operation to the first. */
export function adjoints<G extends Gradient>(g: G): G & { readonly adjoints: Adjoints } {
  return { ...g, adjoints: new Reverser(g.cx, g.dout).run() };
}

/** The `tape` stage: what the forward half keeps for the backward statements. */
export function tape<G extends Gradient & { readonly adjoints: Adjoints }>(g: G): G & { readonly tape: TapePlan } {
  return { ...g, tape: planTapes(g.cx, g.adjoints.backward, g.fused) };
}

/** The `primal` stage: the forward half, keeping exactly the values the backward half reads. */
export function primalHalf<G extends Gradient & { readonly tape: TapePlan }>(g: G): G & { readonly primal: CodeStmt[] } {
  g.cx.emittingPrimal = true;
  const forward = primal(g.cx, g.tape.needed, g.tape.plans);
  g.cx.emittingPrimal = false;
  return { ...g, primal: forward };
}

/** The `reverse` stage: the gradient function, its backward loops written as their plans say. */
export function assembleGradient(g: Gradient & { readonly adjoints: Adjoints; readonly tape: TapePlan; readonly primal: CodeStmt[] }): CodeFunction {
  const { fn, cx, dout } = g;
  const { backward, adjointEx, contributed } = g.adjoints;
  const finish = (stmts: readonly CodeStmt[]): CodeStmt[] => stmts.flatMap((s) => {
    if (s.k === "if") return [{ ...s, then: finish(s.then), else: finish(s.else) }];
    if (s.k === "loop" && s.source) return backwardLoop(cx, g.tape.plans.get(s.source)!, finish(s.body), s.origin!);
    return [s];
  });

  const edge = boundary(cx, fn);
  const grad = fn.params
    .filter((p) => p.wrt)
    .map((p) => [edge.key(p).name, contributed.has(p.value) ? adjointEx(p.value) : cx.zeroFor(p.value), edge.key(p).path] as const);
  const code: CodeStmt[] = [
    ...g.primal,
    ...(backward.length > 0 ? [{ k: "blank" } as const, ...finish(backward)] : []),
    { k: "return", value: resultEx(fn, (a) => cx.atomEx(a)), grad },
  ];
  const body = [...edge.prologue(code), ...code];
  return {
    name: g.name,
    source: fn.name,
    ...(fn.copied ? { copied: fn.copied } : {}),
    params: edge.params,
    dout: fn.resultLeaves || fn.resultType === "tensor" || fn.resultType === "array"
      ? { sym: dout, init: null, type: fn.resultText ?? (fn.resultType === "array" ? "ArrayLike<number>" : fn.result.kind === "value" ? cx.typeText(fn.result.id) : "number") }
      : { sym: dout, init: num(1) },
    into: cx.into === null ? null : {
      sym: cx.into,
      arrays: fn.params.filter((p) => cx.intoParam(p.value) !== null).map((p) => ({ name: p.name, type: "Float64Array" })),
    },
    runtimeModule: fn.runtimeModule,
    body,
    imports: fn.imports,
    reserved: reservedNames(fn),
  };
}
