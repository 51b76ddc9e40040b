/**
 * The models of fixtures/models/, written as a new user would, beyond their gradcheck in
 * fixtures.test.ts: what their gradients mean.
 */
import { describe, expect, it } from "vitest";
import { loadFile } from "./helpers/load.ts";

describe("Black–Scholes (fixtures/models/black_scholes.ts)", () => {
  const modules = new Map();
  const model = loadFile("fixtures/models/black_scholes.ts", modules) as Record<string, (...a: number[]) => number>;
  const generated = loadFile("fixtures/models/black_scholes.grad.ts", modules) as Record<string, (...a: number[]) => { value: number; grad: Record<string, number> }>;

  it("gives the Greeks: delta is N(d1), vega S φ(d1) √T, rho K T e^(-rT) N(d2)", () => {
    for (const [S, K, T, r, sigma] of [[100, 100, 1, 0.05, 0.2], [80, 110, 0.5, 0.01, 0.35], [130, 90, 2, 0.08, 0.15]]) {
      const { value, grad } = generated.callPrice_grad!(S!, K!, T!, r!, sigma!);
      expect(value).toBe(model.callPrice!(S!, K!, T!, r!, sigma!));
      const d1 = (Math.log(S! / K!) + (r! + 0.5 * sigma! * sigma!) * T!) / (sigma! * Math.sqrt(T!));
      const d2 = d1 - sigma! * Math.sqrt(T!);
      // the normal distribution is approximated (error < 7.5e-8); the slope of the approximation is off by up to ~1e-5
      const close = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
      close(grad.S!, model.normCdf!(d1));
      close(grad.sigma!, S! * model.normPdf!(d1) * Math.sqrt(T!));
      close(grad.r!, K! * T! * Math.exp(-r! * T!) * model.normCdf!(d2));
    }
  });
});
