/**
 * The graph tools work on the IR's parameters, where a record or tuple parameter is one
 * leaf per field (parse/records.ts); the generated `f_grad` takes and returns the records.
 * These convert between the two for the tests that compare them.
 */
import type { FunctionIR } from "../../compiler/ir/ir.ts";

/** The generated function's arguments, made from one value per IR parameter. */
export function userArgs(fn: FunctionIR, leafArgs: readonly unknown[]): unknown[] {
  if (!fn.inputs) return [...leafArgs];
  return fn.inputs.map((input) => {
    const own = fn.params.findIndex((p) => !p.leafOf && p.name === input.name);
    if (own >= 0) return leafArgs[own];
    let root: any = undefined;
    fn.params.forEach((p, i) => {
      if (p.leafOf?.input !== input.name) return;
      const path = p.leafOf.path;
      root ??= typeof path[0] === "number" ? [] : {};
      let at = root;
      path.forEach((k, j) => {
        if (j === path.length - 1) at[k] = leafArgs[i];
        else at = at[k] ??= typeof path[j + 1] === "number" ? [] : {};
      });
    });
    return root;
  });
}

/** The generated gradient, keyed by IR parameter (`params_w`) as the graph evaluator keys it. */
export function leafGrad(fn: FunctionIR, grad: Record<string, unknown>): Record<string, unknown> {
  if (!fn.inputs) return grad;
  const out: Record<string, unknown> = {};
  for (const p of fn.params) {
    if (!p.wrt) continue;
    let g: any = grad[p.leafOf?.input ?? p.name];
    for (const k of p.leafOf?.path ?? []) g = g?.[k];
    if (g !== undefined) out[p.name] = g;
  }
  return out;
}
