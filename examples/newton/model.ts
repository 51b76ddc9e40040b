// The model the Newton example minimises: Rosenbrock's function over a vector of n values,
// whose minimum is 0 at x = (1, ..., 1) and whose valley is long, narrow and curved, the
// classic case where gradient descent crawls. `@hvp` asks tsgrad for `rosenbrock_hvp`
// beside `rosenbrock_grad`: the Hessian times a direction, which is all Newton–CG needs.
//
//   npx tsx compiler/cli.ts examples/newton/model.ts   # (re)generate model.grad.ts

/**
 * Σ 100·(x[i+1] − x[i]²)² + (1 − x[i])² over i < n − 1.
 * @differentiable @hvp
 */
export function rosenbrock(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) {
    s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
  }
  return s;
}
