/**
 * Activity analysis: a value is *varied* when it depends on a differentiated parameter
 * through differentiable operations, *useful* when the result depends on it that way, and
 * *active* when both. Only active values get adjoint code.
 */
import { type FunctionIR, type Stmt } from "../ir/ir.ts";
import { RULES } from "../rules/rules.ts";

export interface Activity {
  readonly varied: ReadonlySet<number>;
  readonly useful: ReadonlySet<number>;
  isActive(id: number): boolean;
}

export function analyseActivity(fn: FunctionIR): Activity {
  const varied = new Set<number>(fn.params.filter((p) => p.wrt).map((p) => p.value));
  const useful = new Set<number>();
  if (fn.result.kind === "value") useful.add(fn.result.id);

  const forward = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "op") {
        if (RULES[s.op]!.vjp && s.args.some((a) => a.kind === "value" && varied.has(a.id))) varied.add(s.out);
      } else {
        forward(s.then);
        forward(s.else);
        for (const o of s.outs) {
          if ([o.then, o.else].some((a) => a.kind === "value" && varied.has(a.id))) varied.add(o.out);
        }
      }
    }
  };
  const backward = (stmts: readonly Stmt[]) => {
    for (const s of [...stmts].reverse()) {
      if (s.kind === "op") {
        if (!useful.has(s.out) || !RULES[s.op]!.vjp) continue;
        for (const a of s.args) if (a.kind === "value") useful.add(a.id);
      } else {
        for (const o of s.outs) {
          if (!useful.has(o.out)) continue;
          for (const a of [o.then, o.else]) if (a.kind === "value") useful.add(a.id);
        }
        backward(s.then);
        backward(s.else);
      }
    }
  };
  forward(fn.body);
  backward(fn.body);
  return { varied, useful, isActive: (id) => varied.has(id) && useful.has(id) };
}
