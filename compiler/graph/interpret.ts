/**
 * Runs the expressions of the rule table (../ir/expr.ts) on real values: a rule's forward
 * expression gives an operation's output, its vjp expressions the contributions to its
 * inputs. The evaluator of the graph IR (evaluate.ts) is built on this, so the numbers on
 * a drawn wire come from the same rules the emitted `f_grad` is written from.
 */
import type { Ex, Sym } from "../ir/expr.ts";
import * as scalar from "../../runtime/scalar.ts";
import * as tensor from "../../runtime/tensor.ts";

/** A function called by name from an expression: a user function with a custom gradient, or a package function. */
export type Callable = (...args: unknown[]) => unknown;

export interface Scope {
  /** The value a symbol is bound to. */
  readonly lookup: (sym: Sym) => unknown;
  /** Functions of the user's module (or its imports), by the local name the generated module uses. */
  readonly external: (name: string) => Callable | undefined;
}

const TENSOR = tensor as unknown as Record<string, Callable>;
const SCALAR = scalar as unknown as Record<string, Callable>;
const MATH = Math as unknown as Record<string, Callable>;

/** The function a call names: `Math.exp`, the runtime's `sigmoid`, a tensor op (`tensor.matmul`, or a runtime call `sumTo`), or a user's. */
function callee(e: Extract<Ex, { k: "call" }>, scope: Scope): Callable {
  const name = e.fn;
  if (name.startsWith("Math.") && typeof MATH[name.slice(5)] === "function") return MATH[name.slice(5)]!;
  if (name.startsWith("tensor.") && TENSOR[name.slice(7)]) return TENSOR[name.slice(7)]!;
  if (e.runtime && TENSOR[name]) return TENSOR[name]!;
  const user = e.runtime ? undefined : scope.external(name);
  if (user) return user;
  if (SCALAR[name]) return SCALAR[name]!;
  throw new MissingFunction(name);
}

/** A call of a function the graph was not given (a custom gradient's, a package's). */
export class MissingFunction extends Error {
  constructor(readonly name: string) {
    super(`the graph cannot run \`${name}\`: it is neither a Math function, a runtime function nor a function of the module it was given`);
  }
}

export function run(e: Ex, scope: Scope): unknown {
  const r = (x: Ex) => run(x, scope);
  switch (e.k) {
    case "num": return e.value;
    case "bool": case "str": return e.value;
    case "ref": return scope.lookup(e.sym);
    case "neg": return -(r(e.a) as number);
    case "not": return !r(e.a);
    case "nonnull": return r(e.a);
    case "cond": return r(e.c) ? r(e.a) : r(e.b);
    case "list": return e.items.map(r);
    case "object": return Object.fromEntries(e.fields.map(([k, x]) => [k, r(x)]));
    case "arrow": return (...args: unknown[]) => run(e.body, { ...scope, lookup: (sym) => { const k = e.params.indexOf(sym); return k >= 0 ? args[k] : scope.lookup(sym); } });
    case "prop": return (r(e.a) as Record<string, unknown>)[e.name];
    case "index": return (r(e.a) as ArrayLike<unknown>)[r(e.i) as number];
    case "call": return callee(e, scope)(...e.args.map(r));
    case "new": {
      const args = e.args.map(r) as number[];
      if (e.ctor === "Float64Array") return new Float64Array(args[0]!);
      if (e.ctor.startsWith("Array")) return new Array<number>(args[0]!);
      throw new Error(`the graph cannot construct \`${e.ctor}\``);
    }
    case "method": {
      const target = r(e.a) as Record<string, Callable>;
      return target[e.name]!.apply(target, e.args.map(r));
    }
    case "bin": return binary(e.op, r(e.a), () => r(e.b));
  }
}

function binary(op: Extract<Ex, { k: "bin" }>["op"], a: unknown, later: () => unknown): unknown {
  // `&&`, `||` and `??` read their right side only when they need it, as JavaScript does
  if (op === "&&") return a ? later() : a;
  if (op === "||") return a ? a : later();
  if (op === "??") return a ?? later();
  const x = a as number;
  const y = later() as number;
  switch (op) {
    case "+": return x + y;
    case "-": return x - y;
    case "*": return x * y;
    case "/": return x / y;
    case "%": return x % y;
    case "**": return x ** y;
    case "<": return x < y;
    case "<=": return x <= y;
    case ">": return x > y;
    case ">=": return x >= y;
    case "===": return x === y;
    case "!==": return x !== y;
  }
}
