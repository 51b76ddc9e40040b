/**
 * How the picture writes things: numbers (three significant digits, as the notes round
 * them), values of arrays and tensors (shapes, and the numbers when there are few), and the
 * label of each gate, as the notes draw it (`+`, `*`, `max`, `σ`, `exp`, `*-1`, `1/x`),
 * with a constant input folded into its gate (`+1`, `*2`).
 */
import { isTensor } from "../../runtime/tensor.ts";
import type { OpStmt } from "../ir/ir.ts";
import { isNumberArray } from "./values.ts";

/** A number as the picture shows it: 3, -0.5, 1.55, 0.0180, 2.1e-7. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  if (Object.is(v, -0) || v === 0) return "0";
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

/** How many numbers an array or tensor may have and still be written out in full. */
const SMALL = 6;

/** A value on a wire: a number, `[1, -2, 0.5]`, `number[12]`, `2×3 [[1, 2, 3], [4, 5, 6]]`, `true`. */
export function formatValue(v: unknown): string {
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return String(v);
  if (isTensor(v)) {
    const shape = v.shape.length === 0 ? "scalar" : v.shape.join("×");
    if (v.data.length > 4) return shape;
    return `${shape} ${nested(Array.from(v.data), v.shape)}`;
  }
  if (isNumberArray(v)) {
    if (v.length > SMALL) return Array.isArray(v) ? `number[${v.length}]` : `${kindOf(v)}(${v.length})`;
    return `[${Array.from(v, formatNumber).join(", ")}]`;
  }
  return String(v);
}

/** `Float64Array`, `Int32Array`, ...: a typed array's kind, as its length is written after it. */
function kindOf(v: ArrayLike<number>): string {
  return (v.constructor as { name: string }).name;
}

function nested(data: number[], shape: readonly number[]): string {
  if (shape.length <= 1) return `[${data.map(formatNumber).join(", ")}]`;
  const step = data.length / shape[0]!;
  const rows = Array.from({ length: shape[0]! }, (_, i) => nested(data.slice(i * step, (i + 1) * step), shape.slice(1)));
  return `[${rows.join(", ")}]`;
}

const CALLS: Readonly<Record<string, string>> = {
  sigmoid: "σ", "tensor.sigmoid": "σ", "Math.sqrt": "√", "Math.abs": "|x|", "Math.cbrt": "∛",
  "Math.hypot": "hypot", "array.of": "[ ]", "array.copy": "slice", "tensor.matmul": "matmul",
};

/**
 * The label of a gate. `folded` holds, per input, the text of an input drawn inside the
 * gate (a constant, an index) or null for an input drawn as a wire.
 */
export function gateLabel(s: OpStmt, folded: readonly (string | null)[]): string {
  const wires = folded.filter((f) => f === null).length;
  const [a, b] = folded;
  if (s.custom) return s.custom.forward;
  switch (s.op) {
    case "+": case "*": {
      const sign = s.op === "+" ? "+" : "*";
      if (wires === 1) return `${sign}${a ?? b}`;
      return sign;
    }
    case "-":
      if (wires === 1) return a === null ? `-${b}` : `${a}-x`;
      return "-";
    case "/":
      if (wires === 1) return a === null ? `/${b}` : `${a}/x`;
      return "/";
    case "%":
      return wires === 1 && a === null ? `%${b}` : "%";
    case "**": case "Math.pow":
      if (wires === 1 && a === null) return b === "2" ? "x²" : b === "3" ? "x³" : `x^${b}`;
      return wires === 1 ? `${a}^x` : "pow";
    case "neg": case "tensor.neg":
      return "*-1";
    case "id":
      return "=";
    case "index":
      return `[${b ?? "i"}]`;
    case "store": return `[${b ?? "i"}] =`;
    case "storeAdd": return `[${b ?? "i"}] +=`;
    case "storeSub": return `[${b ?? "i"}] -=`;
    case "push": return "push";
    case "array.zeros": return `zeros(${a ?? "n"})`;
  }
  const name = CALLS[s.op] ?? s.op.replace(/^(Math|tensor)\./, "");
  const extra = folded.filter((f): f is string => f !== null);
  // a tensor op's static inputs (an axis, keepdims) and a call's constants are shown as its arguments
  return extra.length > 0 && wires > 0 ? `${name}(${folded.map((f) => f ?? "·").join(", ")})` : name;
}
