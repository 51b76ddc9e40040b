/**
 * The boundary of a generated function whose source takes records or tuples (parse/records.ts
 * flattened them into leaf parameters): its signature takes the parameters as written,
 * its first lines name the leaves it reads (`const params_w = params.w;`), and its gradient
 * (or, in forward mode, its tangents) has each record's shape: `grad.params.w`, as JAX's
 * pytrees. Without records or tuples every parameter is its own leaf and nothing changes.
 */
import { list, object, prop, ref, tupleIndex, type Ex, type Sym } from "../ir/expr.ts";
import type { CodeStmt } from "../ir/code.ts";
import type { Atom, FunctionIR, Param } from "../ir/ir.ts";
import { forEachSym } from "../ir/expr.ts";
import { forEachExpr } from "../ir/code.ts";
import { forEachAssign } from "../analyses/uses.ts";
import type { TransformContext } from "./context.ts";

export interface Boundary {
  /** The generated function's parameters, as the source declares them. */
  readonly params: readonly { readonly sym: Sym; readonly type: string; readonly init?: string }[];
  /** Declarations of the leaves `body` reads, to go before it. */
  prologue(body: readonly CodeStmt[]): CodeStmt[];
  /** Where a parameter's entry goes in the result's `grad`: its input's name and the path inside it. */
  key(p: Param): { readonly name: string; readonly path: readonly (string | number)[] };
}

export function boundary(cx: TransformContext, fn: FunctionIR): Boundary {
  const inputs = fn.inputs ?? fn.params.map((p) => ({ name: p.name, typeText: p.typeText, ...(p.init === undefined ? {} : { init: p.init }) }));
  const roots = new Map<string, Sym>();
  for (const input of inputs) {
    const own = fn.params.find((p) => !p.leafOf && p.name === input.name);
    roots.set(input.name, own ? cx.valueSym(own.value) : cx.fresh(input.name, true));
  }
  const leaves = fn.params.filter((p) => p.leafOf);
  return {
    params: inputs.map((i) => ({ sym: roots.get(i.name)!, type: i.typeText, ...(i.init === undefined ? {} : { init: i.init }) })),
    prologue(body) {
      if (leaves.length === 0) return [];
      const read = new Set<Sym>();
      forEachExpr(body, (e) => forEachSym(e, (s) => read.add(s)));
      const assigned = new Set<Sym>();
      forEachAssign(body, (a) => { if (!a.index) assigned.add(a.sym); });
      return leaves.flatMap((p): CodeStmt[] => {
        const sym = cx.valueSym(p.value);
        if (!read.has(sym) && !assigned.has(sym)) return [];
        return [{ k: "decl", mutable: assigned.has(sym), sym, init: pathEx(ref(roots.get(p.leafOf!.input)!), p.leafOf!.path), role: "forward" }];
      });
    },
    key: keyOf,
  };
}

/** Where a parameter's entry goes in `grad` (and `tangents`, `v`, `hvp`): its input's name and the path inside it. */
export function keyOf(p: Param): { readonly name: string; readonly path: readonly (string | number)[] } {
  return p.leafOf ? { name: p.leafOf.input, path: p.leafOf.path } : { name: p.name, path: [] };
}

/** `root.w.b`, `root[0]`; `optional` reads each step after the first with `?.` (a tangent the caller may leave out). */
export function pathEx(root: Ex, path: readonly (string | number)[], optional = false): Ex {
  return path.reduce<Ex>((e, key, i) => {
    const step = typeof key === "number" ? tupleIndex(e, key) : prop(e, key);
    return optional && i > 0 ? { ...step, optional: true } as Ex : step;
  }, root);
}

/**
 * What the generated function returns as `value` (or, given `leaf` of forward mode, as
 * `tangent`): the result, or a record result rebuilt from its leaves (`{ y, z: zs }`).
 */
export function resultEx(fn: FunctionIR, leaf: (atom: Atom) => Ex): Ex {
  if (!fn.resultLeaves) return leaf(fn.result);
  interface Tree { ex?: Ex; readonly fields: Map<string | number, Tree> }
  const top: Tree = { fields: new Map() };
  for (const l of fn.resultLeaves) {
    let t = top;
    for (const k of l.path) {
      let next = t.fields.get(k);
      if (!next) t.fields.set(k, (next = { fields: new Map() }));
      t = next;
    }
    t.ex = leaf(l.atom);
  }
  const build = (t: Tree): Ex => {
    if (t.ex) return t.ex;
    const entries = [...t.fields];
    return entries.every(([k]) => typeof k === "number") ? list(...entries.map(([, c]) => build(c))) : object(entries.map(([k, c]) => [String(k), build(c)] as const));
  };
  return build(top);
}

/** The type of a record of `entries` (paths to leaf types), every key optional: `{ params?: { w?: number[] } }`. */
export function optionalRecordType(entries: readonly { readonly path: readonly (string | number)[]; readonly type: string }[]): string {
  interface Node { type?: string; fields: Map<string | number, Node> }
  const top: Node = { fields: new Map() };
  for (const e of entries) {
    let n = top;
    for (const key of e.path) {
      let next = n.fields.get(key);
      if (!next) n.fields.set(key, (next = { fields: new Map() }));
      n = next;
    }
    n.type = e.type;
  }
  const print = (n: Node): string => n.type ?? `{ ${[...n.fields].map(([k, c]) => `${typeof k === "number" ? `${k}` : k}?: ${print(c)}`).join("; ")} }`;
  return print(top);
}
