/**
 * Loop fusion (compiler/transforms/fuse.ts): which loops run their backward body inside the
 * forward loop, and that doing so changes no gradient beyond the order of its sums. Each
 * case is compiled with and without fusion; both are checked against finite differences
 * and against each other.
 */
import { describe, expect, it } from "vitest";
import { bothWays, ROSENBROCK, uniform } from "../helpers/both.ts";

/** The code without its comments. */
const code = (output: string) => output.replace(/\/\/.*$/gm, "");
const loops = (output: string) => code(output).match(/\bfor \(/g)?.length ?? 0;

/** Compiles `source` fused and not; checks both; returns both outputs. */
async function both(source: string, name: string, args: (seed: number) => unknown[]) {
  const { on, off } = await bothWays(source, name, args, { fuse: false });
  return { fused: on, apart: off };
}

/** `s`, summed over the rows of W·x (`y`, each row's sum) of `term`, a function of `y`. */
const rowSums = (params: string, term: string) => `/** @differentiable */
export function f(${params}): number {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let y = 0;
    for (let j = 0; j < n; j++) {
      y += W[i * n + j] * x[j];
    }
    s += ${term};
  }
  return s;
}
`;

describe("loop fusion", () => {
  it("fuses a sum over an array, takes the forward body's values instead of recomputing them, and drops the tape", async () => {
    const { fused, apart } = await both(`/** @differentiable */
export function f(w: number, xs: number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    const p = Math.sin(w * xs[i]);
    s += p * p;
  }
  return 0.5 * s;
}
`, "f", (seed) => [uniform(1, seed)[0]!, uniform(6, seed + 10)]);
    expect(loops(apart)).toBe(2);
    expect(apart).toContain("const ps = new Float64Array(xs.length)");
    expect(loops(fused)).toBe(1);
    expect(fused).not.toContain("ps[i]");
    // the adjoint of the sum is known before the loop, and is a constant
    expect(fused).toMatch(/const ds = 0\.5 \* dout;[^\n]*\n[\s\S]*for \(let i = 0; i < xs\.length; i\+\+\)/);
    // one sine per iteration: the backward part reads the forward part's `p`
    expect(code(fused).match(/Math\.sin\(/g)?.length).toBe(1);
  });

  it("shares the backward body's recomputed values with the forward expression (Rosenbrock)", async () => {
    const { fused } = await both(ROSENBROCK, "rosenbrock", (seed) => [uniform(7, seed, -1.5, 1.5)]);
    expect(fused).toContain("s += 100 * diff ** 2 + diff_1 ** 2;");
    expect(code(fused).match(/x\[i\]! \*\* 2/g)?.length).toBe(1);
  });

  it("fuses a loop holding a nested loop, whose variable it reads at the end of the iteration", async () => {
    const { fused } = await both(`/**
 * @differentiable
 * @wrt a
 */
export function f(a: Float64Array, rows: number): number {
  const cols = a.length / rows;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < cols; c++) {
      acc += Math.tanh(a[r * cols + c]);
    }
    total += acc * acc;
  }
  return total;
}
`, "f", (seed) => [Float64Array.from(uniform(12, seed)), 3]);
    expect(loops(fused)).toBe(3);
    expect(fused).not.toContain("accs");
  });

  it("starts a gradient at zero above the loop when its first value needs the loop's result (w * sum)", async () => {
    const { fused } = await both(`/** @differentiable */
export function f(w: number, xs: number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += Math.sin(w * xs[i]);
  }
  return w * s;
}
`, "f", (seed) => [uniform(1, seed)[0]!, uniform(5, seed + 4)]);
    expect(loops(fused)).toBe(1);
    expect(code(fused)).toMatch(/let dw = 0;[\s\S]*for \([\s\S]*dw \+= xs\[i\]! \* dprod;[\s\S]*\}[\s\S]*dw \+= s \* dout;/);
  });

  it("fuses a nested loop's pair too, inside the fused outer loop (a weighted sum of a matrix times a vector)", async () => {
    const { fused, apart } = await both(rowSums("W: number[], x: number[], w: number[]", "w[i] * y"), "f", (seed) => [uniform(9, seed), uniform(3, seed + 20), uniform(3, seed + 40)]);
    expect(loops(apart)).toBe(4);
    expect(loops(fused)).toBe(2);
    // no loop runs backwards: each backward body runs inside its forward loop, and the
    // inner one's gradient, known before it starts, is computed above it
    expect(code(fused)).not.toMatch(/--\)/);
    expect(code(fused)).toMatch(/const dy = w\[i\]! \* ds; *\n\s+for \(let j = 0; j < n; j\+\+\) \{\n\s+y \+= W\[i \* n \+ j\]! \* x\[j\]!; *\n\n\s+dx\[j\]! \+=/);
  });

  it("keeps the inner loop's two loops when its gradient needs the inner result (the sine of a row sum)", async () => {
    const { fused } = await both(rowSums("W: number[], x: number[]", "Math.sin(y)"), "f", (seed) => [uniform(9, seed), uniform(3, seed + 20)]);
    expect(loops(fused)).toBe(3);
    expect(code(fused)).toMatch(/for \(let j = n - 1; j >= 0; j--\)/);
  });

  it("keeps two loops when the sum's gradient depends on the sum (log of a sum)", async () => {
    const { fused } = await both(`/** @differentiable */
export function f(xs: number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += Math.exp(xs[i]);
  }
  return Math.log(s);
}
`, "f", (seed) => [uniform(5, seed)]);
    expect(loops(fused)).toBe(2);
  });

  it("keeps two loops when the backward body changes a carried gradient (a recurrence, a product)", async () => {
    const recurrence = await both(`/** @differentiable */
export function f(w: number, xs: number[]): number {
  let h = 0;
  for (let t = 0; t < xs.length; t++) {
    h = Math.tanh(w * h + xs[t]);
  }
  return h;
}
`, "f", (seed) => [uniform(1, seed)[0]!, uniform(5, seed + 3)]);
    expect(loops(recurrence.fused)).toBe(2);
    const product = await both(`/** @differentiable */
export function f(xs: number[]): number {
  let p = 1;
  for (let i = 0; i < xs.length; i++) {
    p = p * xs[i];
  }
  return p;
}
`, "f", (seed) => [uniform(5, seed, 0.5, 1.5)]);
    expect(loops(product.fused)).toBe(2);
  });

  it("keeps two loops when the loop writes an array the backward body reads, or code between them resets a gradient", async () => {
    const writes = await both(`/** @differentiable */
export function f(xs: number[]): number {
  const y = xs.slice();
  let s = 0;
  for (let i = 1; i < y.length; i++) {
    y[i] = y[i] * y[i - 1];
    s += y[i];
  }
  return s;
}
`, "f", (seed) => [uniform(5, seed, 0.5, 1.2)]);
    expect(loops(writes.fused)).toBe(2);
    const reset = await both(`/** @differentiable */
export function f(x: number, xs: number[]): number {
  const b = new Array<number>(xs.length).fill(0);
  for (let j = 0; j < xs.length; j++) {
    b[j] = x * xs[j];
  }
  let v = 0;
  for (let i = 0; i < xs.length; i++) {
    v += b[1] * xs[i];
  }
  b[1] = x * 3;
  return v + b[1];
}
`, "f", (seed) => [uniform(1, seed)[0]!, uniform(4, seed + 7)]);
    // the reset db[1] = 0 between the loops must come before the sum's contributions to db[1]
    expect(reset.fused).toContain("db[1] = 0");
    expect(loops(reset.fused)).toBe(loops(reset.apart));
  });

  it("fuses two sums one after the other, each with its own loop", async () => {
    const { fused, apart } = await both(`/** @differentiable */
export function f(a: number, xs: number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) {
    s += a * xs[i] * xs[i];
  }
  let t = 0;
  for (let i = 0; i < xs.length; i++) {
    t += Math.cos(xs[i] + a);
  }
  return s - 2 * t;
}
`, "f", (seed) => [uniform(1, seed)[0]!, uniform(5, seed + 2)]);
    expect(loops(apart)).toBe(4);
    expect(loops(fused)).toBe(2);
  });
});
