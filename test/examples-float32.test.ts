/**
 * The spiral example in float32: the generated gradient computed on float32 tensors agrees
 * with the float64 one to float32's precision, and training in float32 works as well.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loss_grad } from "../examples/spiral/model.grad.ts";
import { spiral } from "../examples/spiral/data.ts";
import { sgd } from "../runtime/optim.ts";
import { astype, dtypeOf, randn, scale, setTensorBackend, type Tensor } from "../runtime/tensor.ts";

const PARAMS = ["W1", "b1", "W2", "b2"] as const;
type Params = Record<(typeof PARAMS)[number], Tensor>;

/** The largest difference between two tensors, relative to the largest magnitude in `ref`. */
function relativeError(t: Tensor, ref: Tensor): number {
  let diff = 0;
  let scaleOf = 0;
  for (let i = 0; i < ref.data.length; i++) {
    diff = Math.max(diff, Math.abs(t.data[i]! - ref.data[i]!));
    scaleOf = Math.max(scaleOf, Math.abs(ref.data[i]!));
  }
  return diff / scaleOf;
}

/** The spiral problem of examples/spiral/train.ts, with the weights after `steps` float64 steps. */
function problem(steps: number) {
  const { X, y } = spiral({ classes: 3, pointsPerClass: 100, seed: 42 });
  let params: Params = {
    W1: scale(randn([2, 100], 43), 0.01),
    b1: scale(randn([100], 44), 0.01),
    W2: scale(randn([100, 3], 45), 0.01),
    b2: scale(randn([3], 46), 0.01),
  };
  for (let s = 0; s < steps; s++) params = sgd(params, loss_grad(params.W1, params.b1, params.W2, params.b2, X, y, 1e-3).grad, 1);
  return { X, y, params };
}

describe("examples/spiral in float32", () => {
  for (const backend of ["wasm", "js"] as const) {
    it(`gives the float64 gradient to float32 precision (${backend} ops), at the start and after training`, () => {
      setTensorBackend(backend);
      try {
        for (const steps of [0, 300]) {
          const { X, y, params } = problem(steps);
          const p32 = Object.fromEntries(PARAMS.map((k) => [k, astype(params[k], "float32")])) as Params;
          const g64 = loss_grad(params.W1, params.b1, params.W2, params.b2, X, y, 1e-3);
          const g32 = loss_grad(p32.W1, p32.b1, p32.W2, p32.b2, astype(X, "float32"), y, 1e-3);
          expect(Math.abs(g32.value - g64.value) / g64.value).toBeLessThan(1e-6);
          for (const k of PARAMS) {
            expect(dtypeOf(g32.grad[k])).toBe("float32");
            const error = relativeError(g32.grad[k], g64.grad[k]);
            // float32 rounds to 6e-8; sums over 300 points add up to ~1e-6 of the largest
            // component, and b2's gradient at the start, a sum of 300 terms that nearly cancel
            // (softmax ≈ 1/3 minus one-hot), keeps 3e-5: the bound leaves room for that
            expect(error, k).toBeLessThan(1e-4);
            expect(error, `${k} is really computed in float32`).toBeGreaterThan(0);
          }
        }
      } finally {
        setTensorBackend("wasm");
      }
    });
  }

  it("trains past 90 % training accuracy with --dtype float32", () => {
    const out = join(mkdtempSync(join(tmpdir(), "tsgrad-spiral-")), "loss.svg");
    const args = ["--import", "tsx", "examples/spiral/train.ts", "--steps", "1500", "--dtype", "float32", "--out", out];
    const log = execFileSync(process.execPath, args, { encoding: "utf8" });
    expect(log).toContain("in float32");
    expect(Number(/training accuracy ([\d.]+)%/.exec(log)?.[1])).toBeGreaterThan(90);
  }, 60_000);
});
