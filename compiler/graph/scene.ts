/**
 * What the picture shows, before any layout: the function's inputs, one node per gate that
 * the result depends on (through differentiable operations), the boxes of containers.ts,
 * and the wires between them, each with the value it carries and the gradient flowing back
 * along it, all read from an evaluation (evaluate.ts). A value read in several places goes
 * to a fork: the wire into the fork carries its whole gradient, the sum of the gradients
 * coming back along its branches.
 *
 * Values that steer rather than flow (indices, lengths, conditions) are not wires: an index
 * or a constant is written inside its gate (`[2]`, `+1`).
 */
import type { OpStmt } from "../ir/ir.ts";
import { ruleOf } from "../rules/rules.ts";
import { containersOf, type Container, type ContainerOptions } from "./containers.ts";
import type { Evaluation } from "./evaluate.ts";
import { formatValue, gateLabel } from "./labels.ts";
import { addGrad, type Grad } from "./values.ts";

export type NodeKind = "input" | "gate" | "const" | "fork" | "box" | "output";

export interface SceneNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly label: string;
  /** For a box: the source lines it stands for. */
  readonly lines?: readonly string[];
  /** Shown on hover: where the node comes from. */
  readonly title: string;
  /** The box it is drawn in, or null. */
  readonly cluster: string | null;
}

export interface SceneWire {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** `trunk`: into a fork (the whole gradient); `branch`: out of a fork (one use's gradient). */
  readonly role: "plain" | "trunk" | "branch";
  /** The user's variable name for the value, when it has one (not written on branches). */
  readonly name: string | null;
  readonly instance: number;
  readonly value: unknown;
  readonly grad: Grad | undefined;
  /** For a trunk: the gradients of its branches, which it is the sum of. */
  readonly parts?: readonly (Grad | undefined)[];
}

export interface SceneCluster {
  readonly id: string;
  readonly kind: Container["kind"];
  readonly label: string;
  readonly parent: string | null;
}

export interface Scene {
  readonly title: string;
  readonly nodes: readonly SceneNode[];
  readonly wires: readonly SceneWire[];
  readonly clusters: readonly SceneCluster[];
}

export type SceneOptions = ContainerOptions;

interface Use {
  readonly to: string;
  grad: Grad | undefined;
}

export function buildScene(ev: Evaluation, options: SceneOptions): Scene {
  const { fn, instances, entries } = ev;
  const boxes = containersOf(ev, options);
  const flows = (v: unknown) => typeof v !== "boolean";

  /** A value read through loop and branch merges is the value first computed. */
  const canonical = (inst: number): number | { const: number | boolean | string } => {
    let at = inst;
    for (;;) {
      const def = instances[at]!.def;
      if (def < 0 || entries[def]!.kind !== "phi") return at;
      const e = entries[def]!;
      if (e.args[0] === null) return { const: e.consts[0]! };
      at = e.args[0]!;
    }
  };
  const active = (inst: number) => ev.activity.isActive(instances[inst]!.value);
  /** Is the entry drawn as a gate of its own (not inside a collapsed box)? */
  const drawnGate = (k: number) => {
    const e = entries[k]!;
    return e.kind === "op" && active(e.out) && flows(instances[e.out]!.val) && boxes.absorbedBy[k] === null;
  };
  /**
   * The node that produces an instance: an input, a gate, a box, or a *leaf* for a value
   * that does not depend on the differentiated inputs (data read from an array, a constant
   * given a name), drawn without its computation.
   */
  const producer = (inst: number): string => {
    const def = instances[inst]!.def;
    if (def < 0) return `in:${ev.params.indexOf(inst)}`;
    const box = boxes.absorbedBy[def];
    if (box !== null && box !== undefined) return `box:${box}`;
    return drawnGate(def) ? `g:${def}` : `leaf:${inst}`;
  };
  const leaves = new Set<number>();

  const nodes: SceneNode[] = [];
  const clusterOf = (k: number): string | null => {
    const chain = boxes.chains[k]!;
    return chain.length > 0 ? chain[chain.length - 1]! : null;
  };
  fn.params.forEach((p, i) => {
    nodes.push({ id: `in:${i}`, kind: "input", label: p.name, title: `parameter ${p.name}: ${p.typeText}${p.wrt ? "" : " (not differentiated)"}`, cluster: null });
  });

  // the uses of every drawn value, in order: its readers' gates, boxes, and the output
  const uses = new Map<number, Use[]>();
  const use = (inst: number, to: string, given: Grad | undefined, merge: boolean) => {
    // no gradient flows into a value that does not depend on the differentiated inputs (a merge may start from one)
    const grad = active(inst) ? given : undefined;
    const list = uses.get(inst) ?? [];
    uses.set(inst, list);
    const same = merge ? list.find((u) => u.to === to) : undefined;
    if (same) same.grad = same.grad === undefined ? grad : grad === undefined ? same.grad : addGrad(same.grad, grad);
    else list.push({ to, grad });
  };
  const usedBoxes: string[] = [];
  const isParam = (inst: number) => instances[inst]!.def < 0;
  for (const e of entries) {
    const box = boxes.absorbedBy[e.index];
    if (box !== null && box !== undefined) {
      // what enters a box: values from outside it that carry a gradient, the parameters, and a loop's start values
      if (!usedBoxes.includes(box)) usedBoxes.push(box);
      e.args.forEach((a, i) => {
        if (a === null) return;
        const def = instances[a]!.def;
        if (def >= 0 && boxes.absorbedBy[def] === box) return;
        const c = canonical(a);
        if (typeof c !== "number" || typeof instances[c]!.val === "boolean") return;
        if (!(active(c) || isParam(c) || (e.kind === "phi" && active(e.out)))) return;
        if (producer(c).startsWith("leaf:")) leaves.add(c);
        use(c, `box:${box}`, ev.contributions[e.index]![i], true);
      });
      continue;
    }
    if (e.kind !== "op") continue;
    const stmt = e.stmt!;
    if (!drawnGate(e.index)) continue;
    const rule = ruleOf(stmt);
    const folded = e.args.map((a, i) => {
      if (a === null) return formatValue(e.consts[i]);
      const c = canonical(a);
      if (typeof c !== "number") return formatValue(c.const);
      // an index, an axis, a flag: written in the gate
      if (!active(c) && (STEERING.has(stmt.op) && i === 1 || rule.signature?.[i] === "static" || typeof instances[c]!.val === "boolean")) {
        return formatValue(instances[c]!.val);
      }
      if (producer(c).startsWith("leaf:")) leaves.add(c);
      return null;
    });
    nodes.push({ id: `g:${e.index}`, kind: "gate", label: gateLabel(stmt, folded), title: where(stmt), cluster: clusterOf(e.index) });
    e.args.forEach((a, i) => {
      if (a === null || folded[i] !== null) return;
      use(canonical(a) as number, `g:${e.index}`, ev.contributions[e.index]![i], false);
    });
  }
  for (const inst of leaves) {
    const e = entries[instances[inst]!.def]!;
    const text = e.stmt ? e.stmt.loc.text.split("\n")[0]!.trim() : "";
    const label = text.length > 28 ? `${text.slice(0, 27)}…` : text;
    nodes.push({ id: `leaf:${inst}`, kind: "const", label, title: e.stmt ? `${where(e.stmt)} (no gradient flows here: it does not depend on the differentiated inputs)` : "", cluster: clusterOf(e.index) });
  }
  for (const key of usedBoxes) {
    const c = boxes.byKey.get(key)!;
    nodes.push({ id: `box:${key}`, kind: "box", label: c.label, lines: c.lines, title: c.label, cluster: c.parent });
  }
  nodes.push({ id: "out", kind: "output", label: fn.name, title: `the result of ${fn.name}`, cluster: null });
  let resultConst: number | boolean | string | null = null;
  if (ev.result !== null) {
    const c = canonical(ev.result);
    if (typeof c === "number") use(c, "out", ev.adjoint[ev.result], false);
    else resultConst = c.const;
  } else resultConst = fn.result.kind === "const" && typeof fn.result.value !== "string" ? fn.result.value : null;
  if (resultConst !== null) {
    nodes.push({ id: "result", kind: "const", label: formatValue(resultConst), title: "a constant result", cluster: null });
    uses.set(-1, [{ to: "out", grad: undefined }]);
  }

  const wires: SceneWire[] = [];
  const nameOf = (inst: number) => {
    const v = fn.values[instances[inst]!.value]!;
    return v.name;
  };
  for (const [inst, list] of uses) {
    const from = inst < 0 ? "result" : producer(inst);
    const value = inst < 0 ? resultConst : instances[inst]!.val;
    const name = inst < 0 ? null : nameOf(inst);
    if (list.length === 1) {
      wires.push({ id: `w${wires.length}`, from, to: list[0]!.to, role: "plain", name, instance: inst, value, grad: list[0]!.grad });
      continue;
    }
    const fork = `fork:${inst}`;
    nodes.push({ id: fork, kind: "fork", label: "", title: `${name ?? "this value"} is used ${list.length} times: its gradient is the sum of the gradients of its uses`, cluster: commonCluster(nodes, from, list.map((u) => u.to)) });
    const parts = list.map((u) => u.grad);
    const defined = parts.filter((g): g is Grad => g !== undefined);
    const total = defined.length === 0 ? undefined : defined.reduce((a, b) => addGrad(a, b));
    wires.push({ id: `w${wires.length}`, from, to: fork, role: "trunk", name, instance: inst, value, grad: total, parts });
    for (const u of list) wires.push({ id: `w${wires.length}`, from: fork, to: u.to, role: "branch", name: null, instance: inst, value, grad: u.grad });
  }

  const clusters: SceneCluster[] = [];
  const shown = new Set(nodes.map((n) => n.cluster).filter((c): c is string => c !== null));
  // a box holding only boxes is still drawn; so is every box around a drawn one
  for (const key of [...shown]) for (let p = boxes.byKey.get(key)?.parent ?? null; p !== null; p = boxes.byKey.get(p)!.parent) shown.add(p);
  for (const [key, c] of boxes.byKey) {
    if (shown.has(key) && !c.collapsed) clusters.push({ id: key, kind: c.kind, label: c.label, parent: c.parent });
  }
  return { title: `${fn.name}`, nodes, wires, clusters };
}

/** Operations whose second input says where (an index), not what. */
const STEERING = new Set(["index", "store", "storeAdd", "storeSub", "push"]);

function where(s: OpStmt): string {
  const rule = ruleOf(s);
  const file = s.loc.file ? `${s.loc.file}:` : "";
  return `${file}line ${s.loc.line}${s.loc.fn ? ` (${s.loc.fn})` : ""}: ${s.loc.text}  [${rule.kind}]`;
}

/** The innermost box holding a value's producer and all its readers (where its fork is drawn). */
function commonCluster(nodes: readonly SceneNode[], from: string, to: readonly string[]): string | null {
  const clusterOf = (id: string) => nodes.find((n) => n.id === id)?.cluster ?? null;
  const from0 = clusterOf(from);
  return to.every((t) => clusterOf(t) === from0) ? from0 : null;
}
