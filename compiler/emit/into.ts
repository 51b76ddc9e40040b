/**
 * `@into`'s guard. An `f_grad` that takes `into` starts by checking the buffers it was
 * given, before anything writes to them:
 *
 *   if (into) checkInto("rosenbrock_grad", into, { x });
 *
 * and the generated module defines `checkInto` once, after its functions. Each buffer must
 * be a `Float64Array` (the type of every array's gradient, a `number[]`'s too, so that
 * `grad.x` has one type whether or not a buffer was given) of its parameter's length, and none of
 * the arguments or other buffers: `f_grad(x, 1, { x })` would otherwise zero the caller's
 * `x`, then read it. A bad buffer throws a TypeError naming it. The check is a few
 * comparisons per call, nothing next to the loop it guards (see the bench).
 */
import type { Sym } from "../ir/expr.ts";
import type { CodeFunction } from "../ir/code.ts";
import { Namer } from "./names.ts";

/** Array types (of parameters that get no buffer) that a buffer could still be the same object as. */
const ARRAY_TYPE = /^(readonly\s+)?(number\[\]|(Readonly)?Array<number>|(Float64|Float32|Int32|Uint32|Int16|Uint16|Int8|Uint8)Array)$/;

/** The guard's statement at the top of `fn`'s body; none without `@into`. */
export function intoGuard(fn: CodeFunction, name: (s: Sym) => string, helper: string): string[] {
  if (!fn.into) return [];
  const given = new Set(fn.into.arrays.map((a) => a.name));
  const params = fn.params.map((p) => ({ name: name(p.sym), type: p.type }));
  const buffers = params.filter((p) => given.has(p.name)).map((p) => p.name);
  const others = params.filter((p) => !given.has(p.name) && ARRAY_TYPE.test(p.type)).map((p) => p.name);
  const into = name(fn.into.sym);
  return [`  if (${into}) ${helper}(${JSON.stringify(fn.name)}, ${into}, { ${buffers.join(", ")} }${others.length > 0 ? `, [${others.join(", ")}]` : ""});`];
}

/** The helper's name in a module whose names are `taken`: `checkInto`, numbered on a clash. */
export function intoHelperName(taken: readonly string[]): string {
  return new Namer(taken).pick("checkInto");
}

/** The helper, once per module that has an `@into` function. */
export function intoHelper(helper: string): string {
  return `/**
 * Throws unless each buffer in \`into\` can receive its parameter's gradient: a Float64Array
 * of the parameter's length that is none of the arguments (\`params\`, \`others\`) and no
 * other buffer, which writing the gradient into it would overwrite.
 */
function ${helper}(fn: string, into: object, params: Record<string, ArrayLike<number>>, others: readonly unknown[] = []): void {
  const buffers = into as Record<string, unknown>;
  for (const name in params) {
    const param = params[name]!;
    const buffer = buffers[name] as ArrayLike<number> | null | undefined;
    if (buffer === undefined || buffer === null) continue;
    let problem = "";
    if (!(buffer instanceof Float64Array)) {
      problem = \`it is \${Array.isArray(buffer) ? "a number[]" : typeof buffer === "object" ? \`a \${(buffer as object).constructor?.name ?? "object"}\` : \`a \${typeof buffer}\`}\`;
    } else if (buffer.length !== param.length) {
      problem = \`its length is \${buffer.length}\`;
    } else {
      for (const other in params) if (params[other] === buffer || (other !== name && buffers[other] === buffer)) problem = "it is also an argument or another buffer, which the gradient would overwrite";
      if (others.includes(buffer)) problem = "it is also an argument, which the gradient would overwrite";
    }
    if (problem) {
      throw new TypeError(\`\${fn}: into.\${name} must be a Float64Array of length \${param.length} (\${name}.length): \${problem}\`);
    }
  }
}
`;
}
