/**
 * A readable dump of the graph IR, for `--dump-ir` and for tests:
 *
 *   function staged(x: number wrt, y: number wrt)
 *     %2 sigy = sigmoid(y)                     line 5   active
 */
import { formatNumber } from "./expr.ts";
import type { Atom, FunctionIR, Stmt } from "./ir.ts";

export interface Annotations {
  /** Extra words printed after a value's definition (e.g. its activity). */
  describe?(id: number): string;
}

export function printIR(fn: FunctionIR, notes: Annotations = {}): string {
  const name = (id: number) => {
    const v = fn.values[id]!;
    return v.name === null ? `%${id}` : v.version === 1 ? v.name : `${v.name}.${v.version}`;
  };
  const atom = (a: Atom) => (a.kind === "value" ? name(a.id) : typeof a.value === "number" ? formatNumber(a.value) : typeof a.value === "string" ? JSON.stringify(a.value) : String(a.value));
  const note = (id: number) => {
    const extra = notes.describe?.(id) ?? "";
    return extra ? `  ${extra}` : "";
  };
  const lines: string[] = [];
  const params = fn.params.map((p) => `${p.name}: ${p.typeText}${p.wrt ? " wrt" : ""}${note(p.value)}`);
  lines.push(`function ${fn.name}(${params.join(", ")})`);
  const block = (stmts: readonly Stmt[], indent: string) => {
    for (const s of stmts) {
      if (s.kind === "op") {
        const head = `${indent}${name(s.out)} = ${s.op}(${s.args.map(atom).join(", ")})`;
        lines.push(`${head.padEnd(44)} line ${s.loc.line}${note(s.out)}`);
      } else if (s.kind === "loop") {
        for (const c of s.carried) lines.push(`${indent}${name(c.phi)} = loop-phi(${atom(c.init)}, ${c.next.kind === "value" ? name(c.next.id) : atom(c.next)})`.padEnd(45) + note(c.phi).trim());
        const counted = s.counted ? `  counted ${name(s.counter)} in [${atom(s.counted.lo)}, ${atom(s.counted.hi)}${s.counted.inclusive ? "]" : ")"}` : `  counter ${name(s.counter)}`;
        lines.push(`${indent}loop${counted}`.padEnd(45) + `line ${s.loc.line}`);
        block(s.test, indent + "  ");
        lines.push(`${indent}  while ${atom(s.cond)}`);
        block(s.body, indent + "  ");
        lines.push(`${indent}end loop`);
      } else {
        lines.push(`${indent}if ${atom(s.cond)}`.padEnd(45) + `line ${s.loc.line}`);
        block(s.then, indent + "  ");
        lines.push(`${indent}else`);
        block(s.else, indent + "  ");
        for (const o of s.outs) lines.push(`${indent}${name(o.out)} = phi(${atom(o.then)}, ${atom(o.else)})`.padEnd(45) + note(o.out).trim());
      }
    }
  };
  block(fn.body, "  ");
  lines.push(`  return ${fn.resultLeaves ? `{ ${fn.resultLeaves.map((l) => `${l.path.join(".")}: ${atom(l.atom)}`).join(", ")} }` : atom(fn.result)}`);
  return lines.map((l) => l.trimEnd()).join("\n");
}
