/**
 * `@checkpoint` (transforms/checkpoint.ts): a checkpointed loop's gradient is bitwise the
 * plain one's, for every length against every segment length (the last segment shorter,
 * one segment, none); loops it cannot checkpoint are located errors saying what to write.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";
import { compileAndLoad, loadFile } from "../helpers/load.ts";
import { rand, randn } from "../../runtime/index.ts";

const uniform = (n: number, seed: number, lo = -1, hi = 1) => Array.from(rand([n], seed).data, (u) => lo + (hi - lo) * u);
const fixture = readFileSync("fixtures/checkpoint.ts", "utf8");
/** The fixture module without its `@checkpoint` tags, or with another segment length. */
const withTag = (tag: string) => fixture.replace(/@checkpoint( \d+)?/g, tag);

describe("@checkpoint gradients", () => {
  const checkpointed = loadFile("fixtures/checkpoint.grad.ts");
  const plain = loadFile("fixtures/loops.grad.ts");

  it("gives the recurrence the plain gradient bit for bit, at lengths 0 to 10^4 (√T segments, the last one shorter)", () => {
    for (const [n, seed] of [[0, 1], [1, 2], [2, 3], [3, 4], [5, 5], [17, 6], [100, 7], [101, 8], [10_000, 9]] as const) {
      const x = Float64Array.from(uniform(n, seed, -2, 2));
      const [w, u, b] = uniform(3, seed + 100);
      const want = plain.recurrence_grad!(w, u, b, x, 0.7);
      const got = checkpointed.recurrence_grad!(w, u, b, x, 0.7);
      expect(got).toEqual(want);
      expect(Object.is(got.grad.w, want.grad.w) && Object.is(got.value, want.value)).toBe(true);
    }
  });

  it("gives the oscillator (two carried variables, two arrays) the plain gradient bit for bit, for segment lengths 1, 4, 7 and one longer than the loop", async () => {
    const { grad: reference } = await compileAndLoad(withTag(""), "checkpoint.ts");
    for (const tag of ["@checkpoint 1", "@checkpoint 4", "@checkpoint 7", "@checkpoint 1000", "@checkpoint"]) {
      const { grad, output } = await compileAndLoad(withTag(tag), "checkpoint.ts");
      expect(output).toContain("segmentLength");
      for (const n of [0, 1, 3, 4, 5, 8, 9, 50]) {
        const args = [uniform(n, n + 1, 0.5, 2), uniform(n, n + 2), 0.25, 0.1];
        expect(grad.oscillator_grad!(...args)).toEqual(reference.oscillator_grad!(...args));
      }
    }
  });

  it("checkpoints a loop around an inner loop (whose stacks each segment's recomputation fills) and leaves a loop that fusion runs in one sweep (its tape goes) as it is", async () => {
    const source = (tag: string) => `
/**
 * @differentiable
 * ${tag}
 */
export function nested(w: number, x: number[]): number {
  let h = 0.5;
  for (let t = 0; t < x.length; t++) {
    let g = h;
    for (let j = 0; j < 3; j++) {
      g = Math.sin(w * g + x[t]);
    }
    h = Math.tanh(g + h * x[t]);
  }
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    s += Math.exp(x[i] * w);
  }
  return h + s;
}
`;
    const plainModule = await compileAndLoad(source(""), "nested.ts");
    const { grad, output } = await compileAndLoad(source("@checkpoint 3"), "nested.ts");
    expect(output.match(/segmentLength = 3/g)).toHaveLength(1);
    // the sum's `exp`s would be saved, but its backward body runs in its forward loop
    for (const out of [plainModule.output, output]) {
      expect(out).not.toMatch(/exps/);
      expect(out).toMatch(/s \+= exp; \/\/ line \d+\n\n\s+const dprod = exp \* ds;/);
    }
    for (const n of [0, 1, 2, 3, 7, 10]) {
      const x = uniform(n, n + 11);
      expect(grad.nested_grad!(0.8, x)).toEqual(plainModule.grad.nested_grad!(0.8, x));
    }
  });

  it("checkpoints a loop from 1 to an inclusive bound, and one from a computed start", async () => {
    const source = (tag: string) => `
/**
 * @differentiable
 * ${tag}
 */
export function offsets(w: number, x: number[]): number {
  let h = 0.25;
  for (let t = 1; t <= x.length - 1; t++) {
    h = Math.tanh(w * h + x[t] - x[t - 1]);
  }
  let g = h;
  for (let t = Math.floor(x.length / 3); t < x.length; t++) {
    g = Math.sin(g * x[t] + w);
  }
  return g;
}
`;
    const plainModule = await compileAndLoad(source(""), "offsets.ts");
    const { grad, output } = await compileAndLoad(source("@checkpoint 2"), "offsets.ts");
    expect(output.match(/segmentLength(_1)? = 2;/g)).toHaveLength(2);
    for (const n of [0, 1, 2, 3, 4, 7, 10]) {
      const x = uniform(n, n + 5);
      expect(grad.offsets_grad!(0.7, x)).toEqual(plainModule.grad.offsets_grad!(0.7, x));
    }
  });

  it("checkpoints a Tensor state (tensor_loops.ts's deepTanh): the same gradient", async () => {
    const source = readFileSync("fixtures/tensor_loops.ts", "utf8");
    const plainModule = await compileAndLoad(source, "fixtures/tensor_loops.ts");
    const { grad, output } = await compileAndLoad(source.replace("@differentiable @hvp\n * @wrt W x", "@differentiable @hvp\n * @checkpoint 2\n * @wrt W x"), "fixtures/tensor_loops.ts");
    expect(output).toContain("new Array<Tensor>(segments)");
    const [W, x] = [randn([4, 4], 1), randn([3, 4], 2)];
    for (const layers of [0, 1, 2, 3, 5]) expect(grad.deepTanh_grad!(W, x, layers)).toEqual(plainModule.grad.deepTanh_grad!(W, x, layers));
  });
});

describe("@checkpoint errors", () => {
  const errorOf = async (body: string, tag = "@checkpoint") => {
    const source = `/**\n * @differentiable\n * ${tag}\n */\nexport function f(w: number, x: number[], y: number[]): number {\n${body}\n}\n`;
    const { output, diagnostics } = await compile(source, "model.ts");
    expect(output).toBeNull();
    expect(diagnostics).toHaveLength(1);
    return diagnostics[0]!;
  };

  it("rejects a loop that is not counted, at the loop, saying to write a counted `for`", async () => {
    const d = await errorOf("  let h = 0;\n  let i = 0;\n  while (i < x.length) {\n    h = Math.tanh(w * h + x[i]);\n    i += 2;\n  }\n  return h;");
    expect([d.line, d.col]).toEqual([8, 3]);
    expect(d.message).toMatch(/@checkpoint: this loop is not a counted loop.*`for \(let i = lo; i < hi; i\+\+\)`.*remove @checkpoint/);
  });

  it("rejects a loop with `break`, saying why", async () => {
    const d = await errorOf("  let h = 0;\n  for (let t = 0; t < x.length; t++) {\n    h = Math.tanh(w * h + x[t]);\n    if (h > 0.9) break;\n  }\n  return h;");
    expect(d.line).toBe(7);
    expect(d.message).toMatch(/leaves early \(`break` or `return`\).*compute the step count first/);
  });

  it("rejects a loop that writes an array, and one whose array is written after it", async () => {
    const writes = await errorOf("  let h = 0;\n  const hs = new Array(x.length).fill(0);\n  for (let t = 0; t < x.length; t++) {\n    h = Math.tanh(w * h + x[t]);\n    hs[t] = h;\n  }\n  return h + hs[0];");
    expect(writes.message).toMatch(/writes the array `hs`.*keep the loop's state in variables/);
    const later = await errorOf("  let h = 0;\n  const z = y.slice();\n  for (let t = 0; t < x.length; t++) {\n    h = Math.tanh(w * h + z[t]);\n  }\n  z[0] = h;\n  return h * z[0];");
    expect(later.message).toMatch(/reads the array `z`, which line 11 writes after the loop.*write into a copy/);
  });

  it("rejects a loop inside a branch, and a tag that is not a step count", async () => {
    const branch = await errorOf("  let h = 0;\n  if (w > 0) {\n    for (let t = 0; t < x.length; t++) {\n      h = Math.tanh(w * h + x[t]);\n    }\n  }\n  return h;");
    expect(branch.message).toMatch(/is inside a branch.*move it out of the `if`/);
    const tag = await errorOf("  return w;", "@checkpoint often");
    expect([tag.line, tag.message]).toEqual([3, expect.stringMatching(/@checkpoint takes the number of steps between checkpoints, a positive integer.*not `often`/)]);
  });
});
