/**
 * The point a graph is drawn at, as the user writes it: `x=3,y=-4`, arrays as
 * `xs=[1,2,3]`, tensors as nested arrays `W=[[1,2],[3,4]]`, booleans as `true`/`false`.
 * Each value is converted to its parameter's declared type (`Float64Array`, `Int32Array`,
 * `Tensor`, ...).
 */
import type { FunctionIR, Param } from "../ir/ir.ts";
import { tensor, type NestedArray } from "../../runtime/tensor.ts";

/** A bad point: the message says what to write instead. */
export class PointError extends Error {}

/** Splits `a=1,b=[1,2],c=[[1],[2]]` at the commas outside brackets. */
function split(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Parses one value: a number, `true`/`false`, or a (nested) array of numbers. */
export function parseValue(text: string, what: string): number | boolean | NestedArray {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  let parsed: unknown;
  try {
    parsed = JSON.parse(t.replace(/(^|[[,\s])\+/g, "$1"));
  } catch {
    parsed = undefined;
  }
  const ok = (v: unknown): boolean => (typeof v === "number" && Number.isFinite(v)) || (Array.isArray(v) && v.every(ok));
  if (!ok(parsed) || (typeof parsed !== "number" && !Array.isArray(parsed))) {
    throw new PointError(`${what}: cannot read \`${t}\` as a value: write a number (3, -0.5, 1e-3), true/false, or an array like [1, 2, 3] (nested for a tensor: [[1, 2], [3, 4]])`);
  }
  return parsed as number | NestedArray;
}

/** Reads `name=value,...` into one argument per parameter of `fn`, converted to its declared type. */
export function parsePoint(text: string, fn: FunctionIR): unknown[] {
  const given = new Map<string, string>();
  for (const part of split(text)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new PointError(`--at: expected name=value, got \`${part}\` (for example --at ${fn.params.map((p, i) => `${p.name}=${i + 1}`).join(",")})`);
    const name = part.slice(0, eq).trim();
    if (!fn.params.some((p) => p.name === name)) {
      throw new PointError(`--at: \`${fn.name}\` has no parameter \`${name}\` (its parameters: ${fn.params.map((p) => p.name).join(", ")})`);
    }
    if (given.has(name)) throw new PointError(`--at: \`${name}\` is given twice`);
    given.set(name, part.slice(eq + 1));
  }
  const missing = fn.params.filter((p) => !given.has(p.name)).map((p) => p.name);
  if (missing.length > 0) throw new PointError(`--at: give a value for ${missing.map((m) => `\`${m}\``).join(", ")} (every parameter of \`${fn.name}\` needs one)`);
  return fn.params.map((p) => (isData(p) ? dataValue(p, given.get(p.name)!) : convert(p, parseValue(given.get(p.name)!, `--at ${p.name}`))));
}

/** Constant data (an array of records or of arrays) or a constant of another type: not a flat array of numbers. */
const isData = (p: Param) => p.type === "data" || p.type === "string" || (p.type === "array" && /[\]}]\s*\[\]$|\]\s*\[\]\s*\[\]$/.test(p.typeText.replace(/\s+/g, "")));

/** Constant data as JSON: `pts=[{"x":1,"y":2}]`, `X=[[1,2],[3,4]]`, `kind="relu"`. */
function dataValue(p: Param, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PointError(`--at ${p.name}: \`${p.name}: ${p.typeText}\` is constant data, written as JSON (for example [{"x": 1, "y": 2}] or [[1, 2], [3, 4]])`);
  }
}

/** Converts a parsed value to what the parameter's type says. */
export function convert(p: Param, v: number | boolean | NestedArray): unknown {
  const type = p.typeText.replace(/\s+/g, "");
  const where = `--at ${p.name}`;
  if (p.type === "tensor") {
    if (typeof v === "boolean") throw new PointError(`${where}: a Tensor is written as a (nested) array, like [[1, 2], [3, 4]]`);
    try {
      return typeof v === "number" ? tensor([v], [1]) : tensor(v);
    } catch (e) {
      throw new PointError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (p.type === "array" || /\[\]$|Array/.test(type)) {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) throw new PointError(`${where}: \`${p.name}: ${p.typeText}\` is written as a flat array of numbers, like [1, 2, 3]`);
    const xs = v as number[];
    const typed: Record<string, (xs: number[]) => unknown> = {
      Float64Array: (a) => Float64Array.from(a), Float32Array: (a) => Float32Array.from(a),
      Int32Array: (a) => Int32Array.from(a), Uint32Array: (a) => Uint32Array.from(a),
      Int16Array: (a) => Int16Array.from(a), Uint16Array: (a) => Uint16Array.from(a),
      Int8Array: (a) => Int8Array.from(a), Uint8Array: (a) => Uint8Array.from(a),
    };
    return (typed[type] ?? ((a: number[]) => a.slice()))(xs);
  }
  if (p.type === "boolean") {
    if (typeof v !== "boolean") throw new PointError(`${where}: \`${p.name}\` is a boolean: write true or false`);
    return v;
  }
  if (typeof v !== "number") throw new PointError(`${where}: \`${p.name}\` is a number: write it like 3 or -0.5`);
  return v;
}

/** The upstream gradient as written with --dout: a number, an array, or a nested array for a Tensor result. */
export function parseDout(text: string, fn: FunctionIR): number | number[] | ReturnType<typeof tensor> {
  const v = parseValue(text, "--dout");
  if (typeof v === "boolean") throw new PointError("--dout: the upstream gradient is a number, or an array shaped like the result");
  if (fn.resultType === "tensor") return typeof v === "number" ? tensor([v], [1]) : tensor(v);
  if (typeof v === "number") return v;
  if (v.some((x) => typeof x !== "number")) throw new PointError("--dout: an array result's upstream gradient is a flat array of numbers");
  return v as number[];
}
