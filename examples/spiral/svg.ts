// A loss curve as a standalone SVG file: axes, tick labels, a polyline, a title. No
// dependencies; open the file in any browser.

import { writeFileSync } from "node:fs";

export interface CurveOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Size of the picture in pixels. Default 640 × 400. */
  readonly width?: number;
  readonly height?: number;
}

/** About `count` round tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  if (!(hi > lo)) {
    // A flat curve (or a single point): open a small range around it.
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const rough = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = Math.floor(lo / step); i <= Math.ceil(hi / step); i++) ticks.push(i * step);
  return { ticks, step };
}

/** A tick label with just enough decimals for the tick spacing (no 0.30000000000000004). */
function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

/** [min, max] of `values`, or [emptyLo, emptyHi] when there are none. */
function extent(values: readonly number[], emptyLo: number, emptyHi: number): [number, number] {
  if (values.length === 0) return [emptyLo, emptyHi];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * SVG text of a line chart of `ys` against `xs` (e.g. loss against training step).
 * Points that are not finite numbers (a diverged loss) are left out.
 */
export function curveSvg(xs: readonly number[], ys: readonly number[], options: CurveOptions = {}): string {
  const { title = "", xLabel = "", yLabel = "", width = 640, height = 400 } = options;
  const points = xs.map((x, i) => [x, ys[i]] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));

  // Plot area inside the margins, in pixels.
  const margin = { left: 70, right: 20, top: 40, bottom: 55 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  // Data ranges rounded out to whole ticks.
  const [xLo, xHi] = extent(points.map(([x]) => x), 0, 1);
  const [yLo, yHi] = extent(points.map(([, y]) => y), 0, 1);
  const xt = niceTicks(Math.min(xLo, 0), xHi); // the step axis starts at 0
  const yt = niceTicks(yLo, yHi);
  const [x0, x1] = [xt.ticks[0], xt.ticks[xt.ticks.length - 1]];
  const [y0, y1] = [yt.ticks[0], yt.ticks[yt.ticks.length - 1]];
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  );
  if (title) {
    out.push(`<text x="${f(width / 2)}" y="24" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`);
  }
  // Grid lines and tick labels.
  for (const x of xt.ticks) {
    out.push(
      `<line x1="${f(px(x))}" y1="${margin.top}" x2="${f(px(x))}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${f(px(x))}" y="${margin.top + plotH + 18}" text-anchor="middle">${formatTick(x, xt.step)}</text>`,
    );
  }
  for (const y of yt.ticks) {
    out.push(
      `<line x1="${margin.left}" y1="${f(py(y))}" x2="${margin.left + plotW}" y2="${f(py(y))}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${f(py(y) + 4)}" text-anchor="end">${formatTick(y, yt.step)}</text>`,
    );
  }
  // Axes.
  out.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="black"/>`,
  );
  if (xLabel) {
    out.push(`<text x="${f(margin.left + plotW / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  }
  if (yLabel) {
    const cy = f(margin.top + plotH / 2);
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(yLabel)}</text>`);
  }
  // The curve itself.
  const coords = points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(" ");
  out.push(`<polyline points="${coords}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Writes the chart of `ys` against `xs` to `path` as an SVG file. */
export function writeCurveSvg(path: string, xs: readonly number[], ys: readonly number[], options: CurveOptions = {}): void {
  writeFileSync(path, curveSvg(xs, ys, options));
}
