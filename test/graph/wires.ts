import { gradText, valueText } from "../../compiler/graph/layout.ts";
import type { Scene } from "../../compiler/graph/scene.ts";
import { numbersOf } from "../../compiler/graph/values.ts";

/** Reads the wires back out of a graph's SVG: what each one says, in numbers and in text. */
export interface DrawnWire {
  readonly instance: number;
  readonly role: string;
  readonly from: string;
  readonly to: string;
  readonly name: string | null;
  readonly value: number[];
  readonly grad: number[] | null;
  /** The text written on it: value above, gradient below. */
  readonly text: string;
}

const attr = (tag: string, name: string) => {
  const m = new RegExp(` ${name}="([^"]*)"`).exec(tag);
  return m ? m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&") : null;
};

export function drawnWires(svg: string): DrawnWire[] {
  const wires: DrawnWire[] = [];
  for (const m of svg.matchAll(/<g class="wire"([^>]*)>(.*?)<\/g>/g)) {
    const tag = m[1]!;
    const grad = attr(tag, "data-grad");
    wires.push({
      instance: Number(attr(tag, "data-instance")),
      role: attr(tag, "data-role")!,
      from: attr(tag, "data-from")!,
      to: attr(tag, "data-to")!,
      name: attr(tag, "data-name"),
      value: JSON.parse(attr(tag, "data-value")!) as number[],
      grad: grad === null ? null : (JSON.parse(grad) as number[]),
      text: m[2]!.replace(/<[^>]+>/g, " ").replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim(),
    });
  }
  return wires;
}

/** The same, from a scene that was not laid out. */
export function sceneWires(scene: Scene): DrawnWire[] {
  return scene.wires.map((w) => ({
    instance: w.instance, role: w.role, from: w.from, to: w.to, name: w.name,
    value: numbersOf(w.value), grad: w.grad === undefined ? null : numbersOf(w.grad),
    text: `${valueText(w)} ${gradText(w)}`,
  }));
}
