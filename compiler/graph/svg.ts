/**
 * Writes a laid-out scene as SVG: gates as circles (or rounded boxes for long names),
 * inputs and the result as labelled boxes, each wire's value above it in green and its
 * gradient below it in red (the notes' colours), forks as dots, calls, loops and branches
 * as shaded boxes. Each wire's group carries its exact numbers (`data-value`, `data-grad`)
 * for tests and tools. The same scene always gives the same bytes.
 */
import { FONT_SIZE, LINE, layout, type Box, type PlacedWire } from "./layout.ts";
import type { Scene, SceneNode } from "./scene.ts";
import { numbersOf } from "./values.ts";

const VALUE = "#1b7f2a";
const GRAD = "#c62828";
const INK = "#222";
const CLUSTER_FILL: Readonly<Record<string, string>> = { call: "#eef3fb", loop: "#fdf4e3", iteration: "#fffaf0", if: "#f1f1f1" };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (x: number) => String(Math.round(x * 10) / 10);

/**
 * A path through every point, level at each one (the layout runs left to right): a straight
 * run under each label, and between points a curve that leaves and arrives horizontally.
 */
function path(points: readonly { x: number; y: number }[]): string {
  const at = (x: number, y: number) => `${n(x)},${n(y)}`;
  let d = `M${at(points[0]!.x, points[0]!.y)}`;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!, b = points[i]!;
    if (Math.abs(a.y - b.y) < 0.5) d += `L${at(b.x, b.y)}`;
    else {
      const mid = (b.x - a.x) / 2;
      d += `C${at(a.x + mid, a.y)} ${at(b.x - mid, b.y)} ${at(b.x, b.y)}`;
    }
  }
  return d;
}

function text(x: number, y: number, s: string, cls: string, anchor = "middle"): string {
  return `<text x="${n(x)}" y="${n(y)}" class="${cls}" text-anchor="${anchor}">${esc(s)}</text>`;
}

function node(nd: SceneNode, b: Box): string {
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  const title = `<title>${esc(nd.title)}</title>`;
  const base = FONT_SIZE * 0.35;
  switch (nd.kind) {
    case "fork":
      return `<g class="fork">${title}<circle cx="${n(cx)}" cy="${n(cy)}" r="3.5"/></g>`;
    case "gate": {
      const shape = b.width === b.height
        ? `<circle cx="${n(cx)}" cy="${n(cy)}" r="${n(b.width / 2)}"/>`
        : `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" rx="14"/>`;
      return `<g class="gate">${title}${shape}${text(cx, cy + base, nd.label, "op")}</g>`;
    }
    case "box": {
      const lines = (nd.lines ?? []).map((l, i) => text(b.x + 12, b.y + 38 + i * LINE, l, "src", "start"));
      return `<g class="box">${title}<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" rx="6"/>${text(b.x + 12, b.y + 19, nd.label, "boxname", "start")}${lines.join("")}</g>`;
    }
    default: {
      const cls = nd.kind === "output" ? "output" : nd.kind === "const" ? "const" : "input";
      return `<g class="${cls}">${title}<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" rx="5"/>${text(cx, cy + base, nd.label, "name")}</g>`;
    }
  }
}

function wire(w: PlacedWire): string {
  const { wire: sw } = w;
  const data = [
    `data-instance="${sw.instance}"`,
    `data-role="${sw.role}"`,
    `data-from="${esc(sw.from)}"`,
    `data-to="${esc(sw.to)}"`,
    sw.name ? `data-name="${esc(sw.name)}"` : "",
    `data-value="${esc(JSON.stringify(numbersOf(sw.value)))}"`,
    sw.grad === undefined ? "" : `data-grad="${esc(JSON.stringify(numbersOf(sw.grad)))}"`,
  ].filter(Boolean).join(" ");
  const parts = [`<path d="${path(w.points)}" marker-end="url(#arrow)"/>`];
  if (w.top) {
    const name = sw.name && w.top.startsWith(`${sw.name} = `) ? sw.name : null;
    const value = name ? w.top.slice(name.length + 3) : w.top;
    parts.push(`<text x="${n(w.label.x)}" y="${n(w.label.y - 5)}" text-anchor="middle" xml:space="preserve">${name ? `<tspan class="var">${esc(name)}</tspan><tspan> = </tspan>` : ""}<tspan class="val">${esc(value)}</tspan></text>`);
  }
  if (w.bottom) parts.push(text(w.label.x, w.label.y + 14, w.bottom, "grad"));
  return `<g class="wire" ${data}>${parts.join("")}</g>`;
}

export interface SvgOptions {
  /** A line above the picture (the function and the point). */
  readonly caption?: string;
}

export function renderSvg(scene: Scene, options: SvgOptions = {}): string {
  const placed = layout(scene);
  const top = 30;
  const legend = 26;
  const width = Math.max(placed.width, 960);
  const height = placed.height + top + legend;
  const clusters = scene.clusters.map((c) => {
    const b = placed.clusters.get(c.id)!;
    return `<g class="cluster ${c.kind}"><rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" rx="8" fill="${CLUSTER_FILL[c.kind]}"/>${text(b.x + 8, b.y + 13, c.label, "boxname", "start")}</g>`;
  });
  const nodes = scene.nodes.map((nd) => node(nd, placed.nodes.get(nd.id)!));
  const wires = placed.wires.map(wire);
  const style = [
    `text{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:${FONT_SIZE}px;fill:${INK}}`,
    `.wire path{fill:none;stroke:#555;stroke-width:1.3}text tspan{white-space:pre}`,
    `.val{fill:${VALUE}}.grad{fill:${GRAD}}.var{fill:${INK};font-weight:bold}`,
    `.gate circle,.gate rect{fill:#fff;stroke:${INK};stroke-width:1.4}.op{font-weight:bold;font-size:${FONT_SIZE + 1}px}`,
    `.input rect{fill:#fff;stroke:#888}.const rect{fill:#f6f6f6;stroke:#bbb}.output rect{fill:#fff;stroke:${INK};stroke-width:1.6}`,
    `.name{font-weight:bold}.fork circle{fill:#555}`,
    `.box rect{fill:#fdf4e3;stroke:#c9a64b}.cluster rect{stroke:#c8c8c8}.boxname{font-size:11px;fill:#555}.src{font-size:11px;fill:#444}`,
    `.caption{font-size:13px}.legend{font-size:11px}`,
  ].join("");
  const legendY = height - 9;
  const key = [
    `<text x="16" y="${n(legendY)}" class="legend val">green: value (forward pass)</text>`,
    `<text x="${n(16 + 30 * 6.7)}" y="${n(legendY)}" class="legend grad">red: gradient of the result (backward pass)</text>`,
    `<circle cx="${n(16 + 76 * 6.7)}" cy="${n(legendY - 4)}" r="3.5" fill="#555"/>`,
    `<text x="${n(24 + 76 * 6.7)}" y="${n(legendY)}" class="legend">a value used twice or more: its gradient is the sum of its uses</text>`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}">`,
    `<style>${style}</style>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,1L9,5L0,9z" fill="#555"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    options.caption ? text(16, 20, options.caption, "caption", "start") : "",
    `<g transform="translate(0,${top})">`,
    ...clusters,
    ...wires,
    ...nodes,
    `</g>`,
    ...key,
    `</svg>`,
    "",
  ].filter(Boolean).join("\n");
}

