// Loss curves on a logarithmic value axis, as a standalone SVG file: several named series
// against one linear axis (evaluations), decade ticks, a legend. No dependencies.

import { writeFileSync } from "node:fs";

export interface Series {
  readonly name: string;
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly color: string;
}

export interface PlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Values below this are drawn at it (a minimum of exactly 0 has no logarithm). */
  readonly floor?: number;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Round ticks (1, 2 or 5 × 10^k) from 0 to at least `hi`. */
function linearTicks(hi: number): number[] {
  const rough = Math.max(hi, 1) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  const ticks: number[] = [];
  for (let t = 0; t < hi + step; t += step) ticks.push(t);
  return ticks;
}

/** SVG text of the series, x linear from 0, y on a log scale spanning whole decades. */
export function logPlotSvg(series: readonly Series[], options: PlotOptions = {}): string {
  const { title = "", xLabel = "", yLabel = "", floor = 1e-30 } = options;
  const [width, height] = [720, 440];
  const margin = { left: 78, right: 24, top: 44, bottom: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const clamp = (y: number) => Math.max(y, floor);
  const finite = series.flatMap((s) => s.ys.filter(Number.isFinite).map(clamp));
  const decadeLo = Math.floor(Math.log10(Math.min(...finite)));
  const decadeHi = Math.max(decadeLo + 1, Math.ceil(Math.log10(Math.max(...finite))));
  const xTicks = linearTicks(Math.max(...series.flatMap((s) => s.xs)));
  const xHi = xTicks[xTicks.length - 1]!;
  const px = (x: number) => margin.left + (x / xHi) * plotW;
  const py = (y: number) => margin.top + plotH - ((Math.log10(clamp(y)) - decadeLo) / (decadeHi - decadeLo)) * plotH;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title) out.push(`<text x="${f(width / 2)}" y="26" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  for (const x of xTicks) {
    out.push(
      `<line x1="${f(px(x))}" y1="${margin.top}" x2="${f(px(x))}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${f(px(x))}" y="${margin.top + plotH + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  // a labelled line every few decades, so that 50 decades still read
  const every = Math.max(1, Math.ceil((decadeHi - decadeLo) / 10));
  for (let d = decadeLo; d <= decadeHi; d++) {
    if ((d - decadeLo) % every !== 0) continue;
    const y = f(py(10 ** d));
    out.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${f(py(10 ** d) + 4)}" text-anchor="end">1e${d}</text>`,
    );
  }
  out.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="black"/>`,
  );
  if (xLabel) out.push(`<text x="${f(margin.left + plotW / 2)}" y="${height - 14}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  if (yLabel) {
    const cy = f(margin.top + plotH / 2);
    out.push(`<text x="18" y="${cy}" text-anchor="middle" transform="rotate(-90 18 ${cy})">${escapeXml(yLabel)}</text>`);
  }
  series.forEach((s, k) => {
    const points = s.xs.map((x, i) => [x, s.ys[i]!] as const).filter(([, y]) => Number.isFinite(y));
    out.push(`<polyline points="${points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`);
    // the legend in the lower right corner, where falling curves leave room
    const ly = margin.top + plotH - 14 - 18 * (series.length - 1 - k);
    const lx = margin.left + plotW - 250;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"/>`,
      `<text x="${lx + 30}" y="${ly}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

export function writeLogPlotSvg(path: string, series: readonly Series[], options: PlotOptions = {}): void {
  writeFileSync(path, logPlotSvg(series, options));
}
