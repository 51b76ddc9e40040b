/**
 * One pass, every error: the statement-list walker (walk.ts) lowers each statement in an
 * `attempt`, so a statement tsgrad cannot lower is reported and the next one is lowered
 * all the same, as tsc reports every error of a module in one run. The names the failed
 * statement declared are poisoned: a later statement that reads or writes one is dropped
 * without a report of its own (its problem is the first one), so one mistake gives one
 * error, not a cascade of "`x` is not a parameter or local variable".
 *
 * The diagnostics of one function are collected here and thrown together at its end
 * (`CompileErrors`); the function then gives no IR, and the module no output.
 */
import type { Statement } from "ts-morph";
import { Node } from "ts-morph";
import { CompileError, type LocalDiagnostic } from "../diagnostics.ts";
import type { Frame } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { assignedBy } from "./syntax.ts";

/** Thrown for a statement that an earlier error explains (it reads a poisoned name): nothing more to report. */
export class Abandoned extends Error {
  constructor() {
    super("abandoned after an earlier error");
  }
}

/** Every error of one function: the first is `diagnostic`, as for a single error. */
export class CompileErrors extends CompileError {
  constructor(readonly diagnostics: readonly LocalDiagnostic[]) {
    super(diagnostics[0]!);
  }
}

interface Recovery {
  readonly errors: LocalDiagnostic[];
  /** Per function body (an inlined call's is its own): the names whose declaration failed. */
  readonly poisoned: WeakMap<Frame, Set<string>>;
}

const recoveries = new WeakMap<Lowerer, Recovery>();

function recovery(cx: Lowerer): Recovery {
  let r = recoveries.get(cx);
  if (!r) recoveries.set(cx, (r = { errors: [], poisoned: new WeakMap() }));
  return r;
}

/**
 * Runs `lower`; should it fail with a located error, records the error, puts the lowering
 * state back as it was before (the frame, its variables and loop depth, the block), and
 * returns `failed()`. An `Abandoned` statement is put back the same way, unreported.
 */
export function attempt<R>(cx: Lowerer, lower: () => R, failed: () => R): R {
  const frame = cx.frame;
  const { env, loopDepth, returnVars } = frame;
  const block = cx.block;
  try {
    return lower();
  } catch (e) {
    if (!(e instanceof CompileError) && !(e instanceof Abandoned)) throw e;
    report(cx, e);
    cx.frame = frame;
    frame.env = env;
    frame.loopDepth = loopDepth;
    frame.returnVars = returnVars;
    cx.block = block;
    return failed();
  }
}

/** Records a located error (all of a function's errors, for `CompileErrors`); an `Abandoned` one is not reported. */
export function report(cx: Lowerer, e: CompileError | Abandoned): void {
  if (e instanceof CompileErrors) recovery(cx).errors.push(...e.diagnostics);
  else if (e instanceof CompileError) recovery(cx).errors.push(e.diagnostic);
}

/**
 * One statement, lowered in an `attempt`: on failure, the names it declares are poisoned,
 * and so are those it assigns that had no value yet (`let y: number;`, then `y = <error>`).
 */
export function lowerStatement(cx: Lowerer, stmt: Statement, lower: () => void): void {
  attempt(cx, lower, () => {
    for (const name of declaredNames(stmt)) if (!cx.env.has(name)) poison(cx, name);
    for (const n of [stmt, ...stmt.getDescendants()]) {
      const target = assignedBy(n);
      if (target && Node.isIdentifier(target) && cx.env.get(target.getText())?.unset) poison(cx, target.getText());
    }
  });
}

export function poison(cx: Lowerer, name: string): void {
  const { poisoned } = recovery(cx);
  let names = poisoned.get(cx.frame);
  if (!names) poisoned.set(cx.frame, (names = new Set()));
  names.add(name);
}

/**
 * Where a name is not found: if its declaration failed, the statement is abandoned
 * (the error is already reported); otherwise the caller reports the unknown name.
 */
export function checkPoisoned(cx: Lowerer, name: string): void {
  if (recovery(cx).poisoned.get(cx.frame)?.has(name)) throw new Abandoned();
}

/** The errors recorded for the function being lowered, in the order found. */
export function recordedErrors(cx: Lowerer): readonly LocalDiagnostic[] {
  return recovery(cx).errors;
}

/** The names a statement declares in its list's scope (`const a = ..., { b, c } = ...`). */
function declaredNames(stmt: Statement): string[] {
  if (!Node.isVariableStatement(stmt)) return [];
  const names: string[] = [];
  const visit = (n: Node) => {
    if (Node.isIdentifier(n)) names.push(n.getText());
    else if (Node.isObjectBindingPattern(n) || Node.isArrayBindingPattern(n)) {
      for (const el of n.getElements()) if (Node.isBindingElement(el)) visit(el.getNameNode());
    }
  };
  for (const d of stmt.getDeclarations()) visit(d.getNameNode());
  return names;
}
