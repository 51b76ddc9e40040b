/**
 * Activity analysis: a value is *varied* when it depends on a differentiated parameter
 * through differentiable operations, *useful* when the result depends on it that way, and
 * *active* when both. Only active values get adjoint code. A loop feeds its values back to
 * its start, so both sweeps repeat until nothing changes.
 */
import { CompileError } from "../diagnostics.ts";
import { resultAtoms, type Atom, type FunctionIR, type OpStmt, type Stmt } from "../ir/ir.ts";
import { ruleOf } from "../rules/rules.ts";

export interface Activity {
  readonly varied: ReadonlySet<number>;
  readonly useful: ReadonlySet<number>;
  isActive(id: number): boolean;
}

export function analyseActivity(fn: FunctionIR): Activity {
  const varied = new Set<number>(fn.params.filter((p) => p.wrt).map((p) => p.value));
  const useful = new Set<number>();
  for (const r of resultAtoms(fn)) if (r.kind === "value") useful.add(r.id);
  let changed = true;
  const mark = (set: Set<number>, id: number) => {
    if (!set.has(id)) {
      set.add(id);
      changed = true;
    }
  };
  const isVaried = (a: Atom) => a.kind === "value" && varied.has(a.id);
  const markUseful = (a: Atom) => {
    if (a.kind === "value") mark(useful, a.id);
  };

  const forward = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "op") {
        if (ruleOf(s).vjp && s.args.some(isVaried)) mark(varied, s.out);
      } else if (s.kind === "if") {
        forward(s.then);
        forward(s.else);
        for (const o of s.outs) if (isVaried(o.then) || isVaried(o.else)) mark(varied, o.out);
      } else {
        for (const c of s.carried) if (isVaried(c.init)) mark(varied, c.phi);
        forward(s.test);
        forward(s.body);
        for (const c of s.carried) if (isVaried(c.next)) mark(varied, c.phi);
      }
    }
  };
  const backward = (stmts: readonly Stmt[]) => {
    for (const s of [...stmts].reverse()) {
      if (s.kind === "op") {
        if (useful.has(s.out) && ruleOf(s).vjp) s.args.forEach(markUseful);
      } else if (s.kind === "if") {
        for (const o of s.outs) {
          if (!useful.has(o.out)) continue;
          markUseful(o.then);
          markUseful(o.else);
        }
        backward(s.then);
        backward(s.else);
      } else {
        for (const c of s.carried) if (useful.has(c.phi)) markUseful(c.next);
        backward(s.body);
        backward(s.test);
        for (const c of s.carried) if (useful.has(c.phi)) markUseful(c.init);
      }
    }
  };
  for (changed = true; changed; ) {
    changed = false;
    forward(fn.body);
  }
  for (changed = true; changed; ) {
    changed = false;
    backward(fn.body);
  }
  return { varied, useful, isActive: (id) => varied.has(id) && useful.has(id) };
}

/**
 * A call tsgrad keeps without a gradient (a package's function, whose source it cannot
 * read) is fine on values that are not differentiated, and an error where the gradient
 * would have to pass through it: an input depends on a differentiated parameter and the
 * result matters to the function's value.
 */
export function checkCallsWithoutGradient(fn: FunctionIR, activity: Activity): void {
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === "op" && s.custom && !s.custom.backward) check(s);
      else if (s.kind === "if") { visit(s.then); visit(s.else); }
      else if (s.kind === "loop") { visit(s.test); visit(s.body); }
    }
  };
  const check = (s: OpStmt) => {
    const varied = s.args.some((a) => a.kind === "value" && activity.varied.has(a.id));
    if (!varied || !activity.useful.has(s.out)) return;
    const name = s.custom!.forward;
    throw new CompileError({
      line: s.loc.line, col: s.loc.col, length: Math.max(1, s.loc.text.length), ...(s.loc.file ? { file: s.loc.file } : {}),
      message: `\`${name}\` comes from the package '${s.custom!.module}', whose source tsgrad cannot read, and here it is called on a differentiated value: ` +
        `give it a custom gradient (an exported function of yours that calls it, tagged \`@gradient ${name}Backward\`, see the README), or pass it only values that are not differentiated`,
    });
  };
  visit(fn.body);
}
