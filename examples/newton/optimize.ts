// The two minimisers the Newton example compares, over the same budget of evaluations:
// truncated Newton (Newton–CG in a trust region) using only Hessian-vector products from `rosenbrock_hvp`, and
// gradient descent using `rosenbrock_grad`, both with a backtracking (Armijo) line search.
//
// How evaluations are counted: one call of `rosenbrock_grad` (value and gradient) is 1; one
// call of `rosenbrock_hvp` (H·v, with the value and gradient it also returns) is 2, about
// what it costs (forward over reverse: each statement of the gradient code beside its
// tangent; `npm run bench` measures hvp/gradient). Line-search trials are gradient calls, and
// the accepted trial's gradient is the next step's, so no evaluation is thrown away.

import { rosenbrock_grad, rosenbrock_hvp } from "./model.grad.ts";

/** What each kind of call costs, in evaluations. */
export const COST = { grad: 1, hvp: 2 } as const;

/** One minimiser's run: how far it got, and the value after each of its iterations. */
export interface Run {
  readonly method: string;
  readonly iterations: number;
  readonly evaluations: number;
  readonly gradEvaluations: number;
  readonly hvpEvaluations: number;
  readonly value: number;
  readonly gradNorm: number;
  /** (evaluations spent so far, value) after the start and after each iteration. */
  readonly trace: { readonly evaluations: number[]; readonly values: number[] };
}

/** Counts every call against the budget; a minimiser asks `canAfford` before each one. */
class Oracle {
  gradCalls = 0;
  hvpCalls = 0;
  constructor(readonly budget: number) {}

  get spent(): number {
    return this.gradCalls * COST.grad + this.hvpCalls * COST.hvp;
  }

  canAfford(cost: number): boolean {
    return this.spent + cost <= this.budget;
  }

  grad(x: Float64Array): { value: number; grad: Float64Array } {
    this.gradCalls++;
    const r = rosenbrock_grad(x);
    return { value: r.value, grad: r.grad.x };
  }

  /** H·d at x. */
  hvp(x: Float64Array, d: Float64Array): Float64Array {
    this.hvpCalls++;
    return rosenbrock_hvp(x, { x: d }).hvp.x;
  }
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const norm = (a: Float64Array) => Math.sqrt(dot(a, a));
/** a + t·b, a new array. */
const axpy = (a: Float64Array, t: number, b: Float64Array) => a.map((ai, i) => ai + t * b[i]!);

/** Armijo's sufficient decrease: f(x + t·p) ≤ f(x) + c·t·⟨g, p⟩. */
const ARMIJO = 1e-4;

interface Point {
  x: Float64Array;
  value: number;
  grad: Float64Array;
}

/**
 * Backtracking from step `t0` along the descent direction `p`: halves the step until Armijo's
 * condition holds. Returns the accepted point and its step, or undefined when the budget ran
 * out (or the step underflowed) first.
 */
function lineSearch(oracle: Oracle, at: Point, p: Float64Array, t0: number): { point: Point; step: number } | undefined {
  const slope = dot(at.grad, p);
  for (let t = t0; t > 1e-20; t /= 2) {
    if (!oracle.canAfford(COST.grad)) return undefined;
    const x = axpy(at.x, t, p);
    const { value, grad } = oracle.grad(x);
    if (value <= at.value + ARMIJO * t * slope) return { point: { x, value, grad }, step: t };
  }
  return undefined;
}

/**
 * Steihaug's conjugate gradients: approximately minimises the model
 * m(p) = ⟨g, p⟩ + ½⟨p, H·p⟩ over |p| ≤ radius, from p = 0, using only products H·d. Stops
 * when the residual H·p + g is below `tolerance`, after `maxIterations` products, or when
 * the budget would leave no room for the trial point; a direction of nonpositive curvature,
 * or a step leaving the region, is followed to the boundary. Returns p and H·p (summed from
 * the products, for the model's predicted decrease).
 */
function steihaugCg(
  oracle: Oracle,
  x: Float64Array,
  g: Float64Array,
  radius: number,
  tolerance: number,
  maxIterations: number,
): { p: Float64Array; Hp: Float64Array } {
  const p = new Float64Array(g.length);
  const Hp = new Float64Array(g.length);
  let r = g.slice(); // residual H·p + g
  let d = r.map((ri) => -ri);
  let rr = dot(r, r);
  for (let j = 0; j < maxIterations; j++) {
    if (!oracle.canAfford(COST.hvp + COST.grad)) break;
    const Hd = oracle.hvp(x, d);
    const curvature = dot(d, Hd);
    const alpha = rr / curvature;
    if (curvature <= 0 || norm(axpy(p, alpha, d)) >= radius) {
      // to the boundary: the τ ≥ 0 with |p + τ·d| = radius
      const [dd, pd, pp] = [dot(d, d), dot(p, d), dot(p, p)];
      const tau = (-pd + Math.sqrt(pd * pd + dd * (radius * radius - pp))) / dd;
      for (let i = 0; i < p.length; i++) {
        p[i]! += tau * d[i]!;
        Hp[i]! += tau * Hd[i]!;
      }
      break;
    }
    for (let i = 0; i < p.length; i++) {
      p[i]! += alpha * d[i]!;
      Hp[i]! += alpha * Hd[i]!;
    }
    r = axpy(r, alpha, Hd);
    const rrNext = dot(r, r);
    if (Math.sqrt(rrNext) < tolerance) break;
    const beta = rrNext / rr;
    d = d.map((di, i) => -r[i]! + beta * di);
    rr = rrNext;
  }
  return { p, Hp };
}

export interface Options {
  /** Evaluations each minimiser may spend (see COST). */
  readonly budget: number;
  /** Newton–CG: at most this many Hessian-vector products per step. */
  readonly maxCg?: number;
  /** Both stop when |gradient| falls below this. */
  readonly gradTolerance?: number;
}

function finish(method: string, oracle: Oracle, iterations: number, at: Point, trace: Run["trace"]): Run {
  return {
    method,
    iterations,
    evaluations: oracle.spent,
    gradEvaluations: oracle.gradCalls,
    hvpEvaluations: oracle.hvpCalls,
    value: at.value,
    gradNorm: norm(at.grad),
    trace,
  };
}

/**
 * Truncated Newton with a trust region (Steihaug–Toint): each step minimises the quadratic
 * model roughly by CG inside a radius, to a relative residual min(0.5, √|g|)
 * (Eisenstat–Walker's forcing term: early steps are cheap, late ones nearly exact), then
 * evaluates the trial point: it is taken if f fell by at least a tenth of what the model
 * predicted, and the radius shrinks where the model was poor and grows where it was good.
 */
export function newtonCg(x0: Float64Array, options: Options): Run {
  const { budget, maxCg = 20, gradTolerance = 1e-9 } = options;
  const oracle = new Oracle(budget);
  let at: Point = { x: x0.slice(), ...oracle.grad(x0) };
  const trace = { evaluations: [oracle.spent], values: [at.value] };
  let iterations = 0;
  let radius = 1;
  while (norm(at.grad) > gradTolerance && oracle.canAfford(COST.hvp + COST.grad)) {
    const gnorm = norm(at.grad);
    const { p, Hp } = steihaugCg(oracle, at.x, at.grad, radius, Math.min(0.5, Math.sqrt(gnorm)) * gnorm, maxCg);
    if (!oracle.canAfford(COST.grad)) break;
    const x = axpy(at.x, 1, p);
    const trial = oracle.grad(x);
    const predicted = -(dot(at.grad, p) + 0.5 * dot(p, Hp));
    const rho = (at.value - trial.value) / predicted;
    const length = norm(p);
    if (!(rho >= 0.25)) radius = 0.25 * length;
    else if (rho > 0.75 && length >= 0.99 * radius) radius *= 2;
    if (rho > 0.1) {
      at = { x, ...trial };
      iterations++;
      trace.evaluations.push(oracle.spent);
      trace.values.push(at.value);
    }
  }
  return finish("Newton-CG", oracle, iterations, at, trace);
}

/**
 * Gradient descent along −g with the same line search; each step starts from twice the
 * last accepted step, so the step length adapts to the valley instead of being tuned.
 */
export function gradientDescent(x0: Float64Array, options: Options): Run {
  const { budget, gradTolerance = 1e-9 } = options;
  const oracle = new Oracle(budget);
  let at: Point = { x: x0.slice(), ...oracle.grad(x0) };
  const trace = { evaluations: [oracle.spent], values: [at.value] };
  let iterations = 0;
  let step = 1e-3;
  while (norm(at.grad) > gradTolerance && oracle.canAfford(COST.grad)) {
    const accepted = lineSearch(oracle, at, at.grad.map((gi) => -gi), 2 * step);
    if (accepted === undefined) break;
    ({ point: at, step } = accepted);
    iterations++;
    trace.evaluations.push(oracle.spent);
    trace.values.push(at.value);
  }
  return finish("gradient descent", oracle, iterations, at, trace);
}

/**
 * Where the example starts: "tutorial" repeats (1.3, 0.7, 0.8, 1.9, 1.2), the start of
 * SciPy's optimisation tutorial for this same chained function; "classic" is
 * (−1.2, 1, −1.2, 1, ...), the textbook start of the two-variable function, from which the
 * chained one first falls onto a plateau near x = 0 where every method crawls (see
 * docs/second-order.md).
 */
export function startingPoint(n: number, start: "tutorial" | "classic" = "tutorial"): Float64Array {
  const pattern = start === "tutorial" ? [1.3, 0.7, 0.8, 1.9, 1.2] : [-1.2, 1];
  return Float64Array.from({ length: n }, (_, i) => pattern[i % pattern.length]!);
}
