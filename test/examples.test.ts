/**
 * The spiral example end to end, as a newcomer runs it: the generated gradient must be
 * the one in the repository, and training must pass 90 % and write its loss curve.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../compiler/index.ts";

describe("examples/spiral", () => {
  it("has its gradient module up to date with the compiler", async () => {
    const source = readFileSync("examples/spiral/model.ts", "utf8");
    const { output } = await compile(source, "examples/spiral/model.ts");
    expect(output).toBe(readFileSync("examples/spiral/model.grad.ts", "utf8"));
  });

  it("trains the two-layer net past 90 % training accuracy and writes the loss curve", () => {
    const out = join(mkdtempSync(join(tmpdir(), "tsgrad-spiral-")), "loss.svg");
    const log = execFileSync(process.execPath, ["--import", "tsx", "examples/spiral/train.ts", "--steps", "1500", "--out", out], { encoding: "utf8" });
    const accuracy = Number(/training accuracy ([\d.]+)%/.exec(log)?.[1]);
    expect(accuracy).toBeGreaterThan(90);
    const svg = readFileSync(out, "utf8");
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("<polyline");
  }, 60_000);
});

describe("bench/chain.ts", () => {
  it("has its gradient module up to date with the compiler, and nested calls give the flat code's gradient", async () => {
    const source = readFileSync("bench/chain.ts", "utf8");
    const { output } = await compile(source, "bench/chain.ts");
    expect(output).toBe(readFileSync("bench/chain.grad.ts", "utf8"));
    const { nested_grad, flat_grad } = await import("../bench/chain.grad.ts");
    for (const [x, w] of [[0.3, 0.9], [-1.2, 0.4], [2, -0.7]] as const) expect(nested_grad(x, w)).toEqual(flat_grad(x, w));
  });
});
