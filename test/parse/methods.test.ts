/**
 * Array methods and spread (compiler/parse/methods.ts): the uses fixtures/array_methods.ts
 * does not cover, each compiled in memory, its value compared with the original's and its
 * gradient with finite differences; and what stays out, each a located error that names
 * the loop to write.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { load } from "../helpers/load.ts";

type Fn = (...args: any[]) => any;

async function build(source: string): Promise<{ f: Fn; fGrad: Fn; output: string }> {
  const result = await compile(source, "model.ts");
  if (result.output === null) throw new Error(result.diagnostics.map((d) => formatDiagnostic(d, source)).join("\n"));
  const original = load(source, {}) as Record<string, Fn>;
  const generated = load(result.output, {}) as Record<string, Fn>;
  return { f: original.f!, fGrad: generated.f_grad!, output: result.output };
}

const wave = (n: number, k: number, scale = 1.5) => Array.from({ length: n }, (_, i) => scale * Math.sin(3.1 * i + 1.7 * k + 0.4));

/** The value equals the original's, and the gradient matches finite differences, at a few points (lengths 0 to 5). */
async function checks(source: string, args: (k: number) => unknown[]) {
  const { f, fGrad, output } = await build(source);
  for (let k = 0; k < 6; k++) {
    const a = args(k);
    expect(fGrad(...a).value, output).toEqual(f(...a));
    const result = gradcheck(f, fGrad, a as number[]);
    expect(result.ok, `${result.report}\n${output}`).toBe(true);
  }
  return output;
}

describe("array methods lowered to loops", () => {
  it("`.forEach` writes into the array it runs over, reading each element as it is then", async () => {
    const output = await checks(`/** @differentiable */
export function f(xs: number[], c: number): number {
  const y = xs.slice();
  y.forEach((v, i) => {
    y[i] = c * v * v;
    if (i + 1 < y.length) y[i + 1] += v;
  });
  return y.reduce((s, v) => s + v, 0);
}
`, (k) => [wave(k, k), 0.5 + k / 4]);
    expect(output).toMatch(/for \(let i = 0; i < y\.length; i\+\+\)/);
  });

  it("`.forEach` adds into a variable outside it, nested in another `.forEach`", async () => {
    await checks(`/** @differentiable */
export function f(xs: number[], ys: number[]): number {
  let total = 0;
  xs.forEach((v) => {
    ys.forEach((w, j) => {
      total += v * w * j;
    });
  });
  return total;
}
`, (k) => [wave(k, k), wave(3, k + 1)]);
  });

  it("a `.reduce` callback that assigns its own accumulator carries it", async () => {
    await checks(`/** @differentiable */
export function f(xs: number[]): number {
  const r = xs.reduce((s, v) => {
    s = s * 0.5;
    s += Math.sin(v);
    return s;
  }, 1);
  return r;
}
`, (k) => [wave(k, k)]);
  });

  it("`.map` over a Float64Array gives a Float64Array, `.slice(-2)` counts from the end", async () => {
    const output = await checks(`/** @differentiable */
export function f(x: Float64Array): number {
  const y = x.map((v) => Math.exp(0.5 * v));
  const last = y.slice(-2);
  let s = 0;
  for (let i = 0; i < last.length; i++) s += last[i] * (i + 1);
  return s;
}
`, (k) => [Float64Array.from(wave(k, k))]);
    expect(output).toMatch(/const y = new Float64Array\(x\.length\)/);
  });

  it("`.slice(a, b)` with an end past the array stops at it, a start past it gives []", async () => {
    await checks(`/** @differentiable */
export function f(x: number[]): number {
  const a = x.slice(1, 10);
  const b = x.slice(7);
  const c = x.slice(-10, -1);
  return a.reduce((s, v) => s + v * v, 0) + b.length + c.reduce((s, v) => s + v, 0);
}
`, (k) => [wave(k, k)]);
  });

  it("`.slice(a, b)` with bounds that vary reads them as JavaScript does: made whole, negative from the end", async () => {
    // away from whole numbers, where a bound jumps (finite differences would cross the jump)
    const bounds = [[1.5, 3.5], [-2.5, 10.5], [0.7, -1.2], [-9.3, 2.5], [4.2, 1.7]];
    await checks(`/** @differentiable */
export function f(x: number[], a: number, b: number): number {
  const part = x.slice(a, b);
  const rest = x.slice(b);
  return part.reduce((s, v, i) => s + v * v * (i + 1), 0) + rest.reduce((s, v) => s + Math.sin(v), 0);
}
`, (k) => [wave(k, k), ...(bounds[k % bounds.length] as [number, number])]);
  });

  it("`Math.max` folds plain arguments and spreads in order; `[...a]` copies", async () => {
    await checks(`/** @differentiable */
export function f(a: number[], t: number): number {
  const copy = [...a];
  return Math.max(t, ...copy, -t) + Math.min(...a.map((v) => v * t));
}
`, (k) => [wave(k + 1, k), 0.3 + k / 5]);
  });

  it("a callback with a block body gives its value by `return`, on each path", async () => {
    await checks(`/** @differentiable */
export function f(xs: number[], w: number): number {
  const ys = xs.map((v) => {
    if (v > 0) return w * v;
    return v * v;
  });
  return ys.reduce((s, v) => s + v, 0);
}
`, (k) => [wave(k, k), 0.7]);
  });

  it("`new Array<number>(n)` is filled later by a loop; `.fill(c)` gives every element c's gradient", async () => {
    await checks(`/** @differentiable */
export function f(xs: number[], c: number): number {
  const out = new Array<number>(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i] * c;
  const ones = new Float64Array(xs.length).fill(c * c);
  let s = 0;
  out.forEach((v, i) => {
    s += v * ones[i];
  });
  return s;
}
`, (k) => [wave(k, k), 0.5 + k / 3]);
  });

  it("methods inside an inlined helper, and `a.fill(c)` inside a loop, which carries the array", async () => {
    await checks(`function sumsq(xs: readonly number[]): number {
  return xs.reduce((s, v) => s + v * v, 0);
}
function scaled(xs: number[], c: number): number[] {
  return xs.map((v) => v * c);
}
/** @differentiable */
export function f(xs: number[], c: number): number {
  const a = new Array<number>(xs.length).fill(0);
  let t = 0;
  for (let k = 0; k < 3; k++) {
    a.fill(c * k);
    t += sumsq(a) + sumsq(scaled(xs, c));
  }
  return t;
}
`, (k) => [wave(k, k), 0.4 + k / 7]);
  });

  // found by the property test: the spread's loop in an `if` condition left the variables in
  // a new map, and the arms were merged from the old one (an internal error)
  it("`Math.max(...xs)` in the condition of an `if`, of an early `return`, of a `while`", async () => {
    await checks(`/** @differentiable */
export function f(xs: number[], x: number): number {
  let y = x;
  if (x > Math.max(...xs)) {
    y = 2 * x;
  }
  if (y < Math.min(0, ...xs)) return y * y;
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i]! * x > Math.max(...xs)) continue;
    s += xs[i]! * y;
  }
  while (s < Math.max(...xs) - 1) s += 1;
  for (let i = 0; i < xs.reduce((a, v) => a + v * v, 0); i++) s += x * i;
  return s;
}
`, (k) => [wave(k + 1, k), 0.3 + k / 5]);
  });

  // found by the property test: the search for jumps (parse/syntax.ts) stopped at the first
  // callback, so this `continue` was "outside a loop" and the `break` not the loop's own
  it("a callback before a `continue` or `break` in a loop body: `if (x > xs.reduce(...)) continue;`, `.forEach` then `break`", async () => {
    await checks(`/** @differentiable */
export function f(xs: number[], x: number): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i]! * x > xs.reduce((a, v) => a + v, 0)) continue;
    s += xs[i]! * x;
  }
  for (let i = 0; i < xs.length; i++) {
    xs.forEach((v) => {
      s += v * x;
    });
    if (s > 2) break;
  }
  return s;
}
`, (k) => [wave(k + 1, k), 0.3 + k / 5]);
  });
});

/** Whether `number[][]` parameters compile on this branch (they come with records, issue 11). */
async function nestedArrays(): Promise<boolean> {
  // differentiated: a `number[][]` that is not is constant data, which compiles already
  const probe = await compile("/**\n * @differentiable\n * @wrt W\n */\nexport function f(W: number[][]): number {\n  return W[0][0];\n}\n", "probe.ts");
  return probe.output !== null;
}

describe("array methods over nested arrays", async () => {
  const supported = await nestedArrays();
  // runs once `number[][]` exists: the softmax regression, scores by rows
  it.runIf(supported)("`W.map(row => row.reduce(...))` gives the scores row by row", async () => {
    await checks(`/** @differentiable */
export function f(W: number[][], x: number[]): number {
  const scores = W.map((row) => row.reduce((s, w, j) => s + w * x[j], 0));
  const m = Math.max(...scores);
  return m + Math.log(scores.reduce((s, z) => s + Math.exp(z - m), 0));
}
`, (k) => [[wave(3, k), wave(3, k + 1)], wave(3, k + 2)]);
  });
});

const wrap = (body: string, params = "xs: number[]") => `/** @differentiable */\nexport function f(${params}): number {\n${body}\n}\n`;

/** [what, source, message pattern, line, column] */
const CASES: [string, string, RegExp, number, number][] = [
  ["`.filter`", wrap("  const ys = xs.filter((v) => v > 0);\n  return ys[0];"), /`.filter` makes an array whose length depends on the data: push the kept elements in a loop/, 3, 17],
  ["`.sort`", wrap("  const ys = xs.sort();\n  return ys[0];"), /`.sort` is not supported: it reorders by comparisons/, 3, 17],
  ["a `.map` callback writing outside it", wrap("  let t = 0;\n  const ys = xs.map((v) => (t += v));\n  return ys[0] + t;"), /this `.map` callback writes `t`, which is outside it: a `.map` callback only computes its value. Write into it from `.forEach`, or write the loop: `for \(let i = 0; i < xs.length; i\+\+\)/, 4, 21],
  ["a `.reduce` callback writing an outside array", wrap("  const a = [0];\n  return xs.reduce((s, v) => { a[0] = v; return s + v; }, 0);"), /this `.reduce` callback writes `a`, which is outside it/, 4, 20],
  ["`.forEach` pushing onto its own array", wrap("  const y = xs.slice();\n  y.forEach((v) => { y.push(v); });\n  return y[0];"), /this callback pushes onto `y`, the array `.forEach` runs over: write the loop/, 4, 13],
  ["a method of a number", wrap("  return x.reduce((s, v) => s + v, 0);", "x: number"), /`.reduce` is a method of arrays here, and `x` is a number: write the loop/, 3, 10],
  ["a method of an unknown name", wrap("  return ys.reduce((s, v) => s + v, 0);"), /`.reduce` is called on `ys`, which is not a parameter or local variable of `f`/, 3, 10],
  ["a function passed by name", `function sq(v: number): number { return v * v; }\n${wrap("  const ys = xs.map(sq);\n  return ys[0];")}`, /`.map` takes an arrow function here, `\(v, i\) => ...`: write `\(v\) => sq\(v\)`/, 4, 21],
  ["a Math function passed by name", wrap("  const ys = xs.map(Math.exp);\n  return ys[0];"), /`.map` takes an arrow function here, `\(v, i\) => ...`: write `\(v\) => Math.exp\(v\)`/, 3, 21],
  ["the array as the callback's third parameter", wrap("  const ys = xs.map((v, i, all) => v * all[0]);\n  return ys[0];"), /the callback's parameter `all` \(the array itself\) is not supported: read `xs` by its name/, 3, 28],
  ["`.forEach` used as a value", wrap("  const r = xs.forEach((v) => {});\n  return 0;"), /`.forEach` gives no value: call it as a statement/, 3, 13],
  ["a `.map` whose value is discarded", wrap("  xs.map((v) => v * 2);\n  return 0;"), /the value of `xs.map\(...\)` would be discarded: give it a name/, 3, 3],
  ["assigning the callback's index", wrap("  let s = 0;\n  xs.forEach((v, i) => { i = i + 1; s += v; });\n  return s;"), /`i` is the index `.forEach` passes: assigning it is not supported, use another variable/, 4, 18],
  ["a callback parameter shadowing a variable", wrap("  const v = 2;\n  return xs.reduce((s, v) => s + v, 0);"), /`v` is already declared in this function: give the callback's parameter another name/, 4, 24],
  ["spread into another Math function", wrap("  return Math.hypot(...xs);"), /spread arguments are supported in `Math.max` and `Math.min`; `Math.hypot` takes its arguments one by one/, 3, 21],
  ["spread into a call of a helper", `function h(a: number, b: number): number { return a * b; }\n${wrap("  return h(...xs);")}`, /spread arguments are supported in `Math.max\(...xs\)` and `Math.min\(...xs\)`: pass the arguments one by one/, 4, 12],
  ["`.map` over an Int32Array", wrap("  const ys = xs.map((v) => v / 2);\n  return ys[0];", "xs: Int32Array"), /`.map` of a `Int32Array` makes a `Int32Array`, whose elements are rounded: write the loop/, 3, 14],
  ["a `return` inside a loop in a callback", wrap("  const ys = xs.map((v) => {\n    for (let k = 0; k < 3; k++) if (v > k) return k;\n    return v;\n  });\n  return ys[0];"), /a `return` inside a loop in a callback is not supported: set a variable in the loop and return it after/, 4, 5],
  ["a `.forEach` callback with an expression body", wrap("  let s = 0;\n  xs.forEach((v) => s += v);\n  return s;"), /a `.forEach` callback writes something: give it a block body/, 4, 21],
  ["a `.reduce` starting from an array", wrap("  return xs.reduce((s, v) => s + v, [0]);"), /`.reduce` starts from a number here, not a array/, 3, 37],
  // its loop used to be dropped from the condition, the code reading an undeclared name
  [
    "a loop condition calling a helper with a loop", `function h(a: number): number {\n  for (let i = 0; i < 2; i++) a = a * 0.5 + 1;\n  return a;\n}\n${wrap("  let s = xs[0];\n  while (h(s) < 3) s += 1;\n  return s;")}`,
    /this loop condition calls a function with a loop inside, which a condition cannot hold yet: compute it into a variable before the loop and again at the end of the body/, 8, 10,
  ],
];

describe("array methods outside the subset", () => {
  it.each(CASES)("%s gives a located error and no output", async (_what, source, message, line, col) => {
    const result = await compile(source, "model.ts");
    expect(result.output).toBeNull();
    const d = result.diagnostics[0]!;
    expect(d.message).toMatch(message);
    expect([d.line, d.col]).toEqual([line, col]);
  });
});
