/**
 * Places a scene with dagre (a layered layout: inputs left, the result right, few
 * crossings), sizing every node and wire label from its text in a monospace font so the
 * same scene always gets the same picture.
 */
import dagre from "@dagrejs/dagre";
import { formatNumber, formatValue } from "./labels.ts";
import type { Scene, SceneNode, SceneWire } from "./scene.ts";

export const FONT_SIZE = 12;
/** The advance of one character of DejaVu Sans Mono (and most monospace fonts) at FONT_SIZE. */
export const CHAR = 0.602 * FONT_SIZE;
export const LINE = 15;
export const textWidth = (s: string) => [...s].length * CHAR;

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedWire {
  readonly wire: SceneWire;
  readonly points: readonly { x: number; y: number }[];
  /** Where its label goes: the wire passes through this point. */
  readonly label: { x: number; y: number };
  readonly top: string;
  readonly bottom: string;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, Box>;
  readonly clusters: ReadonlyMap<string, Box>;
  readonly wires: readonly PlacedWire[];
}

export function nodeSize(n: SceneNode): { width: number; height: number } {
  switch (n.kind) {
    case "fork": return { width: 8, height: 8 };
    case "gate": {
      const w = textWidth(n.label);
      return w <= 3 * CHAR ? { width: 34, height: 34 } : { width: w + 20, height: 30 };
    }
    case "box": {
      const widest = Math.max(textWidth(n.label), ...(n.lines ?? []).map(textWidth));
      return { width: widest + 24, height: 30 + LINE * (n.lines?.length ?? 0) };
    }
    default: return { width: Math.max(30, textWidth(n.label) + 18), height: 28 };
  }
}

/** A gradient as written under its wire; a trunk's is the sum of its branches' (`2 = 1 + 1`). */
export function gradText(w: SceneWire): string {
  if (w.grad === undefined) return "";
  const total = formatValue(w.grad);
  const parts = w.parts ?? [];
  if (w.role === "trunk" && typeof w.grad === "number" && parts.length <= 6 && parts.every((p) => typeof p === "number")) {
    return `${total} = ${parts.map((p) => formatNumber(p as number)).join(" + ").replace(/\+ -/g, "- ")}`;
  }
  return w.role === "trunk" ? `${total} (sum)` : total;
}

export function valueText(w: SceneWire): string {
  if (w.role === "branch") return "";
  const value = formatValue(w.value);
  return w.name ? `${w.name} = ${value}` : value;
}

export function layout(scene: Scene): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 40, edgesep: 12, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const c of scene.clusters) g.setNode(c.id, { width: 0, height: 0 });
  for (const c of scene.clusters) if (c.parent !== null) g.setParent(c.id, c.parent);
  // an invisible source left of every input keeps the inputs in one column on the left
  g.setNode("@source", { width: 0, height: 0 });
  // dagre stacks the first-added of a column lowest; inputs go in last to first, so they read top to bottom
  const order = [...scene.nodes.filter((n) => n.kind === "input").reverse(), ...scene.nodes.filter((n) => n.kind !== "input")];
  for (const n of order) {
    g.setNode(n.id, nodeSize(n));
    if (n.cluster !== null) g.setParent(n.id, n.cluster);
    if (n.kind === "input") g.setEdge({ v: "@source", w: n.id, name: "@pin" }, { minlen: 1, weight: 50, width: 0, height: 0 });
  }
  const texts = scene.wires.map((w) => ({ top: valueText(w), bottom: gradText(w) }));
  scene.wires.forEach((w, i) => {
    const { top, bottom } = texts[i]!;
    const width = Math.max(textWidth(top), textWidth(bottom)) + 8;
    g.setEdge({ v: w.from, w: w.to, name: w.id }, { width, height: top && bottom ? 34 : 18, labelpos: "c", minlen: 1, weight: w.role === "branch" ? 1 : 2 });
  });
  dagre.layout(g);

  // everything drawn, shifted so the invisible source's column disappears
  const nodes = new Map<string, Box>();
  const clusters = new Map<string, Box>();
  const boxOf = (id: string): Box => {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    return { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  };
  for (const n of scene.nodes) nodes.set(n.id, boxOf(n.id));
  // room for each box's name above its contents, and above the names of the boxes inside it
  const inside = (id: string): number => Math.max(0, ...scene.clusters.filter((c) => c.parent === id).map((c) => 1 + inside(c.id)));
  for (const c of scene.clusters) {
    const b = boxOf(c.id);
    const room = 16 * (1 + inside(c.id));
    const side = 6 * inside(c.id);
    clusters.set(c.id, { x: b.x - side, y: b.y - room, width: b.width + 2 * side, height: b.height + room + side });
  }
  const wires = scene.wires.map((w, i): PlacedWire => {
    const e = g.edge({ v: w.from, w: w.to, name: w.id }) as { points: { x: number; y: number }[]; x: number; y: number; width: number };
    // the wire runs level under its label: the label's point becomes a straight run as wide as the label
    const half = e.width / 2;
    const points = e.points.flatMap((p) => (Math.abs(p.x - e.x) < 0.5 && Math.abs(p.y - e.y) < 0.5 ? [{ x: p.x - half, y: p.y }, { x: p.x + half, y: p.y }] : [p]));
    return { wire: w, points, label: { x: e.x, y: e.y }, ...texts[i]! };
  });
  const all: Box[] = [...nodes.values(), ...clusters.values()];
  for (const w of wires) {
    const half = Math.max(textWidth(w.top), textWidth(w.bottom)) / 2;
    all.push({ x: w.label.x - half, y: w.label.y - 17, width: 2 * half, height: 34 });
    for (const p of w.points) all.push({ x: p.x, y: p.y, width: 0, height: 0 });
  }
  const minX = Math.min(...all.map((b) => b.x)) - 16;
  const minY = Math.min(...all.map((b) => b.y)) - 16;
  const maxX = Math.max(...all.map((b) => b.x + b.width)) + 16;
  const maxY = Math.max(...all.map((b) => b.y + b.height)) + 16;
  const shift = (b: Box): Box => ({ ...b, x: b.x - minX, y: b.y - minY });
  const point = (p: { x: number; y: number }) => ({ x: p.x - minX, y: p.y - minY });
  return {
    width: maxX - minX,
    height: maxY - minY,
    nodes: new Map([...nodes].map(([k, b]) => [k, shift(b)])),
    clusters: new Map([...clusters].map(([k, b]) => [k, shift(b)])),
    wires: wires.map((w) => ({ ...w, points: w.points.map(point), label: point(w.label) })),
  };
}
