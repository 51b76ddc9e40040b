/**
 * Loops inside loops and branches inside loops: the shapes where a backward loop reads
 * what an outer iteration computed, and where a branch reassigns several loop variables.
 * Each is compiled, its value compared with the original, and its gradient with finite
 * differences.
 */
import { describe, expect, it } from "vitest";
import { gradcheck } from "../../runtime/gradcheck.ts";
import { rand } from "../../runtime/index.ts";
import { ref } from "../../compiler/ir/expr.ts";
import { inSequence } from "../../compiler/transforms/sequence.ts";
import { compileAndLoad } from "../helpers/load.ts";
import { typeErrors } from "../helpers/typecheck.ts";

const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);

/**
 * Compiles `source` with loop fusion and without, checks both, and returns the unfused
 * output: these cases are about what the backward loops save and restore.
 */
async function check(source: string, name: string, args: (seed: number) => unknown[]) {
  let twoLoops = "";
  for (const fuse of [false, true]) {
    const { original, grad, output } = await compileAndLoad(source, "model.ts", { fuse });
    expect(typeErrors(output), output).toEqual([]);
    const params = /\(([^)]*)\)/.exec(source.slice(source.indexOf(`function ${name}(`)))![1]!.split(",").map((p) => p.split(":")[0]!.trim());
    for (let seed = 1; seed <= 10; seed++) {
      const a = args(seed);
      expect(grad[`${name}_grad`]!(...a).value, output).toBe(original[name]!(...a));
      const result = gradcheck(original[name]!, grad[`${name}_grad`]!, a as number[], { names: params });
      expect(result.ok, `${result.report}\n${output}`).toBe(true);
    }
    if (!fuse) twoLoops = output;
  }
  return twoLoops;
}

const matrix = (seed: number) => [Float64Array.from(uniform(12, seed, 0, 1)), 0.5 + uniform(1, seed + 50, 0, 1)[0]!, 3];

describe("nested loops", () => {
  it("save an inner while loop's iteration count per outer iteration", async () => {
    const output = await check(`/**
 * @differentiable
 * @wrt a w
 */
export function f(a: Float64Array, w: number, rows: number): number {
  const cols = a.length / rows;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    let c = 0;
    while (c < cols && acc < 1) {
      acc += w * a[r * cols + c];
      c++;
    }
    total += acc * acc;
  }
  return total;
}
`, "f", matrix);
    expect(output).toMatch(/stepCounts\[r\] = steps;/);
  });

  it("save an inner counted loop's bound when an outer iteration computes it", async () => {
    await check(`/**
 * @differentiable
 * @wrt a w
 */
export function f(a: Float64Array, w: number, rows: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const n = Math.floor(a.length / (r + 1));
    let acc = 0;
    for (let c = 0; c < n; c++) {
      acc += Math.sin(w * a[c]);
    }
    total += acc * acc;
  }
  return total;
}
`, "f", matrix);
  });

  it("restore an outer iteration's value that an inner backward loop recomputes from", async () => {
    const output = await check(`/**
 * @differentiable
 * @wrt x
 */
export function f(x: number, xs: number[]): number {
  let i0 = 0;
  while (i0 < xs.length) {
    for (let i1 = 0; i1 < xs.length; i1++) {
      x = x + x / (1 + (xs[i0] / (1 + xs[i0] * xs[i0])) * (xs[i0] / (1 + xs[i0] * xs[i0])));
    }
    i0 += 1;
  }
  return x;
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(3, seed)]);
    expect(output).toMatch(/const i0 = i0s\.pop\(\)!;/);
  });

  it("keep an inner loop's exit value, which the outer iteration then overwrites, for the backward pass", async () => {
    await check(`/**
 * @differentiable
 * @wrt z a
 */
export function f(z: number, a: number[]): number {
  let s = 0;
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < a.length; c++) {
      z = Math.sin(z + a[c]);
    }
    s += z;
    z = z * z + 0.5;
  }
  return s;
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(3, seed)]);
  });

  it("sum what an inner loop adds to an outer iteration's value across the inner iterations", async () => {
    const output = await check(`/**
 * @differentiable
 * @wrt x
 */
export function f(x: number, y: number, xs: number[]): number {
  for (let i0 = 0; i0 < xs.length; i0++) {
    for (let i1 = 0; i1 < xs.length; i1++) {
      y = Math.sin(x);
    }
    x = Math.sin(y);
  }
  return x;
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(1, seed + 60)[0], uniform(3, seed)]);
    expect(output).toMatch(/let dx_1 = 0;\n\s+for \(let i1/);
  });

  it("carry one adjoint through both loops when an inner loop last assigns an outer loop's variable", async () => {
    await check(`/**
 * @differentiable
 * @wrt a w
 */
export function f(a: Float64Array, w: number, rows: number): number {
  const cols = a.length / rows;
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      acc = Math.tanh(acc * w + a[r * cols + c]);
    }
  }
  return acc;
}
`, "f", matrix);
  });
});

describe("loops inside loops that leave early", () => {
  it("restore only what the outer backward body reads, and type a flag an inner loop carries on", async () => {
    const output = await check(`/**
 * @differentiable
 * @wrt a w
 */
export function f(a: Float64Array, w: number, rows: number): number {
  const cols = a.length / rows;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    while (c < cols) {
      const v = Math.sin(w * a[r * cols + c]);
      if (v > 0.9) return total * v;
      total += v;
      c++;
    }
    total *= 0.5;
  }
  return total;
}
`, "f", (seed) => [Float64Array.from(uniform(12, seed)), 0.5 + uniform(1, seed + 50, 0, 1)[0]!, 3]);
    expect(output).toContain("let returned_2: boolean = returned;");
  });
});

describe("a counted loop inside a branch", () => {
  it("declares its index in its own header only (the rest of a function after a loop that returns)", async () => {
    const output = await check(`/** @differentiable */
export function f(x: number, xs: number[]): number {
  for (let i0 = 0; i0 < xs.length; i0++) {
    if (xs[i0] * x > 0.5) return x * xs[i0];
  }
  for (let i1 = 0; i1 < xs.length; i1++) {
    x -= Math.max(x, i1 * xs[i1]);
  }
  return x;
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(3, seed)]);
    expect(output).not.toMatch(/^\s*let i1 = 0;/m);
  });
});

describe("a local array made inside a branch", () => {
  // found by the property test: the rest of a function after an early return is the else
  // arm, so an array it makes is declared before the `if` (the backward pass reads it) and
  // was typed `array`, the IR's name, and left unassigned for TypeScript
  for (const [kind, make] of [["Float64Array", "new Float64Array(xs.length)"], ["number[]", "new Array<number>(xs.length).fill(0)"]]) {
    it(`is declared before it as a ${kind}, empty`, async () => {
      const output = await check(`/** @differentiable */
export function f(x: number, xs: number[]): number {
  if (x > 0.5) {
    return x * x;
  }
  const b = ${make};
  for (let j = 0; j < xs.length; j++) {
    b[j] = xs[j] * x;
  }
  return b[0] * b[1];
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(3, seed)]);
      expect(output).toContain(kind === "Float64Array" ? "let b: Float64Array = new Float64Array(0);" : "let b: number[] = [];");
    });
  }
});

describe("a branch that reassigns several loop variables", () => {
  it("writes them in an order where each reads the values from before the branch", async () => {
    const output = await check(`/** @differentiable */
export function f(x: number, xs: number[]): number {
  let i = 0;
  let s = x;
  while (i < xs.length) {
    if (xs[i] > 0) {
      s = Math.sin(s) + xs[i];
      i = i + 1;
    } else {
      i = i + 1;
    }
  }
  return s;
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(5, seed)]);
    expect(output.indexOf("s = Math.sin(s) + xs[i]")).toBeLessThan(output.indexOf("i += 1"));
  });

  it("puts one value of a cycle in a temporary (a swap)", () => {
    const a = { id: 1, hint: "a", user: true };
    const b = { id: 2, hint: "b", user: true };
    const code = inSequence(
      [
        { k: "assign", op: "=", sym: a, expr: ref(b), role: "forward" },
        { k: "assign", op: "=", sym: b, expr: ref(a), role: "forward" },
      ],
      (hint) => ({ id: 3, hint, user: false }),
    );
    expect(code.map((s) => s.k === "decl" ? `const ${s.sym.hint} = ${(s.init as { sym: { hint: string } }).sym.hint}` : s.k === "assign" ? `${s.sym.hint} = ${(s.expr as { sym: { hint: string } }).sym.hint}` : s.k))
      .toEqual(["const aNext = b", "b = a", "a = aNext"]);
  });
});

describe("local arrays", () => {
  it("undo no write that nothing reads afterwards, and no loop that only adds constants", async () => {
    const output = await check(`
/**
 * @differentiable
 * @wrt x xs
 */
export function f(x: number, xs: number[]): number {
  const b = xs.slice();
  for (let j = 0; j < xs.length; j++) {
    b[j] += -1;
  }
  const s = b[2] / (1 + x * x);
  b[2] -= s;
  return s;
}
`, "f", (seed) => [uniform(1, seed + 50)[0], uniform(4, seed)]);
    expect(output).not.toContain("db[2] -= ");
    expect(output).not.toMatch(/for \(let j = xs\.length - 1; j >= 0; j--\)/);
  });

  it("undo a write in a branch of an inner loop, which an earlier read of the outer body sees next time round", async () => {
    const output = await check(`
/** @differentiable */
export function f(x: number, xs: number[]): number {
  const b = new Array<number>(xs.length).fill(0);
  for (let j = 0; j < xs.length; j++) b[j] = 0.8 * x;
  let h = 0.5;
  for (let i = 0; i < xs.length; i++) {
    h = b[0];
    for (let k = 0; k < xs.length; k++) {
      if (h > xs[k]) {
        break;
      } else {
        b[k] += h;
      }
    }
  }
  return h;
}
`, "f", (seed) => [-0.2 - uniform(1, seed + 50, 0, 1)[0]!, uniform(3, seed, 0.5, 1)]);
    expect(output).toMatch(/dh \+= db\[k\]/);
  });
});

describe("loops in the arm an early return leaves", () => {
  it("declare a variable two loops share only once, before the branch", async () => {
    const output = await check(`
/** @differentiable */
export function f(x: number, xs: number[]): number {
  let v = x + 1;
  if (x > 10) {
    return x;
  }
  for (let i = 0; i < xs.length; i++) {
    v = 0.5 * xs[i];
    if (x > 1) break;
  }
  for (let k = 0; k < xs.length; k++) {
    if (v > x) {
      v = x;
      break;
    }
    x = 0.5 > x ? x : 0.4;
  }
  return v;
}
`, "f", (seed) => [uniform(1, seed + 50, -1, 2)[0], uniform(3, seed)]);
    expect(output.match(/let v\b/g)).toHaveLength(1);
  });
});
