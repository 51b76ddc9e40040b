// Newton's method with conjugate-gradient steps against gradient descent on Rosenbrock's
// function of n = 1000 variables, both given the same budget of evaluations. Run it from
// the repository root:
//
//   npm run example:newton
//   npx tsx examples/newton/main.ts [--n N] [--budget B] [--cg K] [--start S] [--out path.svg]
//
// The gradient and the Hessian-vector product are the code tsgrad generated from model.ts
// into model.grad.ts (`npx tsx compiler/cli.ts examples/newton/model.ts`). It prints each
// method's iterations, evaluations and final value, and writes the loss against evaluations
// (log scale) as an SVG picture. How evaluations are counted: see optimize.ts.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { COST, type Run, gradientDescent, newtonCg, startingPoint } from "./optimize.ts";
import { writeLogPlotSvg } from "./plot.ts";

const usage = `usage: npx tsx examples/newton/main.ts [--n N] [--budget B] [--cg K] [--start S] [--out FILE]
  --n N        number of variables (default 1000)
  --budget B   evaluations each method may spend, a gradient counting ${COST.grad} and an H·v ${COST.hvp} (default 2000)
  --cg K       at most K Hessian-vector products per Newton step (default 20)
  --start S    tutorial (default: 1.3, 0.7, 0.8, 1.9, 1.2 repeated) or classic (-1.2, 1 repeated)
  --out FILE   where to write the plot (default examples/newton/loss.svg)`;

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        n: { type: "string", default: "1000" },
        budget: { type: "string", default: "2000" },
        cg: { type: "string", default: "20" },
        start: { type: "string", default: "tutorial" },
        out: { type: "string", default: fileURLToPath(new URL("./loss.svg", import.meta.url)) },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
}

const args = parseCommandLine();
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const positive = (name: string, text: string, least: number) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) {
    console.error(`--${name} must be an integer of at least ${least}, got "${text}"\n${usage}`);
    process.exit(2);
  }
  return value;
};
const n = positive("n", args.n, 2);
const budget = positive("budget", args.budget, 1);
const maxCg = positive("cg", args.cg, 1);
if (args.start !== "tutorial" && args.start !== "classic") {
  console.error(`--start must be tutorial or classic, got "${args.start}"\n${usage}`);
  process.exit(2);
}

const x0 = startingPoint(n, args.start);
const runs = [newtonCg(x0, { budget, maxCg }), gradientDescent(x0, { budget })];

console.log(`Rosenbrock, n = ${n}, from the ${args.start} start (f = ${runs[0]!.trace.values[0]!.toPrecision(6)}); minimum 0 at (1, ..., 1)`);
console.log(`budget ${budget} evaluations each: one rosenbrock_grad counts ${COST.grad}, one rosenbrock_hvp (H·v) ${COST.hvp}\n`);
const header = ["method", "iterations", "evaluations", "gradients", "H·v products", "final value", "|gradient|"];
const rows = [header, ...runs.map((r: Run) => [
  r.method, `${r.iterations}`, `${r.evaluations}`, `${r.gradEvaluations}`, `${r.hvpEvaluations}`, r.value.toExponential(3), r.gradNorm.toExponential(2),
])];
const widths = header.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
const [newton, descent] = runs as [Run, Run];
console.log(`\nNewton-CG ${newton.value < descent.value ? "reaches a lower" : "does NOT reach a lower"} value than gradient descent in the same budget`);

writeLogPlotSvg(
  args.out,
  runs.map((r, k) => ({ name: `${r.method} (${r.iterations} iterations)`, xs: r.trace.evaluations, ys: r.trace.values, color: ["#d62728", "#1f77b4"][k]! })),
  { title: `Rosenbrock, n = ${n}: value against evaluations (gradient = ${COST.grad}, H·v = ${COST.hvp})`, xLabel: "evaluations", yLabel: "f(x), log scale" },
);
console.log(`wrote ${args.out}`);
