/**
 * Table-driven tests of the derivative rules: every entry of RULES is tested from its own
 * description (`kind`, `arity`, `domain`, `vjp`), so a new entry arrives already tested.
 *
 * - every rule with a `vjp` returns one contribution per input, reading only its inputs,
 *   its output and dout;
 * - every rule with a `vjp`, applied to parameters in a tiny module, compiles to a gradient
 *   that matches central finite differences at ~20 seeded points of its domain;
 * - every rule's `jvp`, compiled in forward mode (`f_jvp`), matches central finite differences
 *   along random tangents and its own vjp by the dot-product test ⟨t, vjp(c)⟩ = ⟨jvp(t), c⟩;
 * - "zero" rules (floor, round, ...) give a zero gradient and a zero tangent;
 * - "logic" rules compile inside a ternary's condition and pick the right branch.
 */
import { mulberry32 } from "../runtime/random.ts";
import { describe, expect, it } from "vitest";
import { forEachSym, ref, type Ex, type Sym } from "../compiler/ir/expr.ts";
import { RULES, RUNTIME_FUNCTIONS, type Rule } from "../compiler/rules/rules.ts";
import { gradcheck, jvpcheck } from "../runtime/gradcheck.ts";
import { compileAndLoad } from "./helpers/load.ts";

const POINTS = 20;
/** Points this close to zero or to a tie between two inputs are skipped (kinks of abs, max, relu, ...). */
const KINK_MARGIN = 1e-3;
const PARAMS = ["a", "b", "c"] as const;
const OPERATORS = new Set(["+", "-", "*", "/", "%", "**", "<", "<=", ">", ">=", "===", "!==", "&&", "||"]);
/** Logic rules whose operands are booleans rather than numbers. */
const BOOLEAN_OPERANDS = new Set(["&&", "||", "!"]);

/**
 * Scalar rules; the tensor rules (`tensor.*`) are swept by tensor-rules.test.ts, array reads,
 * local arrays and element writes by the array fixtures and property tests.
 */
const entries = (Object.entries(RULES) as [string, Rule][]).filter(([op, rule]) => !op.startsWith("tensor.") && !rule.signature?.includes("array") && rule.result !== "array");

/** How the primitive `op` is written in source, applied to the given operand texts. */
function spell(op: string, args: readonly string[]): string {
  if (op === "neg") return `-${args[0]}`;
  if (op === "id") return args[0]!;
  if (op === "!") return `!(${args[0]})`;
  if (OPERATORS.has(op)) return `${args[0]} ${op} ${args[1]}`;
  if (op.startsWith("Math.") || RUNTIME_FUNCTIONS.has(op)) return `${op}(${args.join(", ")})`;
  throw new Error(`test/rules.test.ts does not know how to write the primitive '${op}' in source: teach spell() about it`);
}

/** Input counts to test: the arity, or 2 and 3 for a variadic rule. */
const aritiesOf = (rule: Rule): number[] => (rule.arity === "variadic" ? [2, 3] : [rule.arity]);

const importsFor = (op: string) => (RUNTIME_FUNCTIONS.has(op) ? `import { ${op} } from "../runtime/index.ts";\n\n` : "");

/** A module with one differentiable function applying `op` to its `n` parameters. */
function moduleFor(op: string, n: number): string {
  const params = PARAMS.slice(0, n);
  // `id` is the copy `const y = a`; everything else is returned directly
  const body = op === "id" ? `const y = ${params[0]};\n  return y;` : `return ${spell(op, params)};`;
  return `${importsFor(op)}/** @differentiable */
export function f(${params.map((p) => `${p}: number`).join(", ")}): number {
  ${body}
}
`;
}


function seedOf(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** True when a point is near zero or near a tie between two inputs: where abs, max, min, relu, hypot, comparisons kink. */
function nearKink(xs: readonly number[]): boolean {
  return xs.some((x, i) => Math.abs(x) < KINK_MARGIN || xs.some((y, j) => j > i && Math.abs(x - y) < KINK_MARGIN));
}

/** `count` seeded points of `domain` (one range per input), away from kinks and from `reject`. */
function samplePoints(
  name: string,
  domain: readonly (readonly [number, number])[],
  n: number,
  count = POINTS,
  reject: (xs: number[]) => boolean = () => false,
): number[][] {
  if (domain.length < n) throw new Error(`the rule '${name}' has a domain for ${domain.length} inputs but is tested with ${n}`);
  const random = mulberry32(seedOf(`${name}/${n}`));
  const points: number[][] = [];
  for (let tries = 0; points.length < count; tries++) {
    if (tries > 100 * count) throw new Error(`could not draw ${count} points for '${name}' from its domain away from kinks`);
    const xs = domain.slice(0, n).map(([lo, hi]) => lo + (hi - lo) * random());
    if (!nearKink(xs) && !reject(xs)) points.push(xs);
  }
  return points;
}

const named = (xs: readonly number[]) => xs.map((x, i) => `${PARAMS[i]}=${x}`).join(", ");

describe("the rule table", () => {
  for (const [op, rule] of entries) it(`rule ${op} has a vjp exactly when its kind (${rule.kind}) carries a gradient`, () => {
    const gradientFree = rule.kind === "zero" || rule.kind === "logic";
    expect(rule.vjp === undefined).toBe(gradientFree);
    expect(rule.result).toBe(rule.kind === "logic" ? "boolean" : "number");
    for (const n of aritiesOf(rule)) expect(rule.domain.length).toBeGreaterThanOrEqual(n);
    for (const [lo, hi] of rule.domain) expect(lo).toBeLessThan(hi);
  });
});

/** A test title naming the op: `Math.atan2`, `sigmoid`, `the * operator (a * b)`. */
function title(op: string, n: number, variadic: boolean): string {
  const params = PARAMS.slice(0, n);
  const name = op.startsWith("Math.") || RUNTIME_FUNCTIONS.has(op)
    ? op
    : op === "id" ? "a copy (const y = a)" : op === "neg" ? "unary minus (-a)" : `the ${op} operator (${spell(op, params)})`;
  return variadic ? `${name} with ${n} inputs` : name;
}

const withVjp = entries.flatMap(([op, rule]) =>
  rule.vjp ? aritiesOf(rule).map((n) => ({ op, rule, n, name: title(op, n, rule.arity === "variadic") })) : [],
);

describe("vjp shape", () => {
  for (const { rule, n, name } of withVjp) it(`${name} returns one contribution per input`, () => {
    const sym = (id: number, hint: string): Sym => ({ id, hint, user: false });
    const inputs = Array.from({ length: n }, (_, i) => sym(i, PARAMS[i]!));
    const out = sym(100, "out");
    const dout = sym(101, "dout");
    const contributions = rule.vjp!({ args: inputs.map(ref), out: ref(out), dout: ref(dout), types: inputs.map(() => "number") });
    expect(contributions).toHaveLength(n);
    const allowed = new Set<Sym>([...inputs, out, dout]);
    for (const c of contributions) {
      if (c === null) continue;
      expect(typeof (c as Ex).k).toBe("string");
      forEachSym(c as Ex, (s) => expect(allowed.has(s), `the contribution reads '${s.hint}', which is not an input, the output or dout`).toBe(true));
    }
  });
});

describe("gradients of the primitives", () => {
  for (const { op, rule, n, name } of withVjp) it(`${name} gradient matches finite differences`, async () => {
    const source = moduleFor(op, n);
    const { original, grad, output } = await compileAndLoad(source);
    const f = original.f!;
    const fGrad = grad.f_grad!;
    const points = samplePoints(op, rule.domain, n);
    for (const [k, xs] of points.entries()) {
      // every other point uses a non-unit upstream gradient, so the rule must scale by dout
      const dout = k % 2 === 0 ? 1 : -1.75;
      const result = gradcheck(f, fGrad, xs, { dout });
      const context = `${op} at ${named(xs)} (dout=${dout})\n${result.report}\n--- source ---\n${source}--- generated ---\n${output}`;
      expect(result.ok, context).toBe(true);
      expect(Object.keys(fGrad(...xs).grad).sort(), context).toEqual(PARAMS.slice(0, n));
      expect(fGrad(...xs, dout).value, context).toBe(f(...xs));
    }
  });
});

describe("tangents of the primitives", () => {
  for (const { op, rule, n, name } of withVjp) it(`${name} tangent matches finite differences and its vjp (dot-product test)`, async () => {
    expect(rule.jvp, `rule ${op} has a vjp but no jvp`).toBeDefined();
    const source = moduleFor(op, n);
    const { original, grad, output } = await compileAndLoad(source, "model.ts", { jvp: true });
    const f = original.f!;
    const random = mulberry32(seedOf(`${op}/${n}/jvp`));
    for (const [k, xs] of samplePoints(op, rule.domain, n).entries()) {
      // a random direction, leaving out one input every third point (a missing key is a zero tangent)
      const tangents: Record<string, number> = {};
      PARAMS.slice(0, n).forEach((p, i) => {
        if (n === 1 || (k % 3 !== 2 || i !== k % n)) tangents[p] = 2 * random() - 1;
      });
      const dout = k % 2 === 0 ? 1 : -1.75;
      const result = jvpcheck(f, grad.f_jvp!, xs, tangents, { names: [...PARAMS.slice(0, n)], grad: { fGrad: grad.f_grad!, dout } });
      expect(result.ok, `${op} at ${named(xs)} along ${JSON.stringify(tangents)}\n${result.report}\n--- generated ---\n${output}`).toBe(true);
    }
  });
});

const zeroRules = entries.filter(([, rule]) => rule.kind === "zero");

describe("piecewise-constant primitives", () => {
  for (const [op, rule] of zeroRules) it(`${op} has a zero gradient`, async () => {
    if (rule.arity !== 1) throw new Error(`test/rules.test.ts only knows unary "zero" rules; '${op}' has arity ${rule.arity}`);
    // `piece` is the primitive alone; `f` mixes it with a smooth part so the zero must be summed right
    const source = `/** @differentiable */
export function piece(a: number): number {
  return ${spell(op, ["a"])};
}

/** @differentiable */
export function f(a: number, b: number): number {
  const p = ${spell(op, ["a"])};
  return p * b + a;
}
`;
    const { original, grad, output } = await compileAndLoad(source, "model.ts", { jvp: true });
    const piece = original.piece!;
    // stay away from the jumps: the primitive must be constant on [a - 1e-3, a + 1e-3]
    const points = samplePoints(op, [rule.domain[0]!, [-3, 3]], 2, POINTS, ([a]) => piece(a! - KINK_MARGIN) !== piece(a! + KINK_MARGIN));
    for (const xs of points) {
      const context = `${op} at ${named(xs)}\n--- generated ---\n${output}`;
      const alone = grad.piece_grad!(xs[0]);
      expect(alone.value, context).toBe(piece(xs[0]));
      expect(alone.grad.a === 0, `${context}\ngradient of ${op} alone is ${alone.grad.a}, not 0`).toBe(true);
      expect(grad.piece_jvp!(xs[0], { a: 1 }).tangent === 0, `${context}\ntangent of ${op} alone is not 0`).toBe(true);
      const mixed = gradcheck(original.f!, grad.f_grad!, xs);
      expect(mixed.ok, `${context}\n${mixed.report}`).toBe(true);
      expect(mixed.rows.find((r) => r.name === "a")!.analytic, context).toBe(1);
    }
  });
});

const logicRules = entries.filter(([, rule]) => rule.kind === "logic");

describe("comparisons and logic", () => {
  for (const [op, rule] of logicRules) {
    const arity = rule.arity === "variadic" ? 2 : rule.arity;
    const operands = BOOLEAN_OPERANDS.has(op) ? ["a > 0", "b > 0"].slice(0, arity) : ["a", "b"].slice(0, arity);
    const condition = spell(op, operands);
    it(`the ${op} operator (${condition}) compiles inside a ternary's condition and picks the right branch`, async () => {
      // `test` is the condition alone (not differentiated), to know which branch should be taken
      const source = `export function test(a: number, b: number): boolean {
  return ${condition};
}

/** @differentiable */
export function f(a: number, b: number): number {
  return ${condition} ? a * b : a - b;
}
`;
      const { original, grad, output } = await compileAndLoad(source);
      const test = original.test!;
      const f = original.f!;
      const fGrad = grad.f_grad!;
      const random = samplePoints(op, [[-3, 3], [-3, 3]], 2);
      // ties and zeros, where the condition flips: no finite differences there, but the branch must be right
      const edges = [[1.5, 1.5], [0, 0], [-0.5, -0.5], [0, 2], [2, 0], [-1, 1]];
      const taken = new Set<boolean>();
      for (const xs of [...random, ...edges]) {
        const [a, b] = xs as [number, number];
        const context = `${op} at ${named(xs)}\n--- source ---\n${source}--- generated ---\n${output}`;
        const c = test(a, b) as unknown as boolean;
        taken.add(c);
        const { value, grad: g } = fGrad(a, b);
        expect(value, context).toBe(f(a, b));
        expect(g, context).toEqual(c ? { a: b, b: a } : { a: 1, b: -1 });
      }
      for (const xs of random) {
        const result = gradcheck(f, fGrad, xs);
        expect(result.ok, `${op} at ${named(xs)}\n${result.report}\n--- generated ---\n${output}`).toBe(true);
      }
      expect([...taken].sort(), "both branches should be exercised").toEqual([false, true]);
    });
  }
});
