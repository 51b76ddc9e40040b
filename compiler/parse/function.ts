/**
 * One `@differentiable` function, lowered to the graph IR: its parameters (`@wrt`,
 * `@into`), its declared result, and its body walked at the function level (walk.ts), or,
 * for a function with a custom gradient, its one call (signatures.ts).
 */
import { Node, type FunctionDeclaration } from "ts-morph";
import { valueAtom, type FunctionIR, type Import, type Input, type Param } from "../ir/ir.ts";
import { flattenParam } from "./records.ts";
import { resultLeaves } from "./built.ts";
import { shapeOf } from "./shapes.ts";
import { errorAt, locOf } from "./locate.ts";
import type { Modules } from "./modules.ts";
import { Lowerer } from "./lowerer.ts";
import { checkDeclaration, customCall, signature } from "./signatures.ts";
import { DIFFERENTIABLE_ARRAY, gradientTag } from "./syntax.ts";
import { functionLevel, walk } from "./walk.ts";
import { copyWrittenParams } from "./writes.ts";
import { Abandoned, CompileErrors, recordedErrors, report } from "./recover.ts";
import { CompileError } from "../diagnostics.ts";

export function lowerFunction(modules: Modules, fn: FunctionDeclaration, moduleImports: Map<string, Import>): FunctionIR {
  const cx = new Lowerer(modules, fn, moduleImports);
  const nameNode = fn.getNameNode() ?? fn;
  const name = fn.getName() ?? "";
  checkDeclaration(fn);
  const bodyNode = fn.getBody();
  if (!bodyNode || !Node.isBlock(bodyNode)) throw errorAt(nameNode, `\`${name}\` has no body to differentiate`);

  const { params, grouped } = lowerParams(cx);
  const into = intoTag(fn, params);
  const returnType = fn.getReturnTypeNode();
  // a record result (`{ y: number; z: number[] }`) is its leaves (built.ts)
  const declaredShape = returnType ? shapeOf(cx, returnType, "the result") : null;
  const recordResult = declaredShape?.k === "record";
  const declaredResult = returnType && !recordResult ? cx.valueType(returnType, "the result") : null;
  cx.frame.returned = {};
  if (declaredResult === "boolean") {
    throw errorAt(returnType!, "a `boolean` result has no gradient: a differentiable function returns a `number`, an array of numbers or a `Tensor`");
  }
  cx.frame.declaredResult = declaredResult;
  // a parameter array the body writes into: the gradient works on a copy (writes.ts)
  const copied = gradientTag(fn) ? [] : copyWrittenParams(cx, params);

  // a function with a custom gradient is its forward call and the user's backward
  const args = params.map((p) => ({ atom: valueAtom(p.value), type: p.type }));
  const result = gradientTag(fn)
    ? { ...customCall(cx, fn, modules.main, args, nameNode, { name: null, version: 1, hint: "value" }), loc: locOf(nameNode) }
    : everyError(cx, () => walk(cx, bodyNode.getStatements(), functionLevel(cx, declaredResult, "value")));
  if (!result) throw errorAt(nameNode, `\`${name}\` must end with \`return <expression>\``);
  const returned = cx.frame.returned.member;
  if (recordResult && !returned) throw errorAt(returnType!, `\`${name}\` is declared to return a record but returns a ${result.type}`);
  const record = returned ? resultLeaves(cx, returned, declaredShape, fn.getReturnTypeNode() ?? nameNode) : null;

  return {
    name,
    params,
    ...(grouped ? { inputs: grouped } : {}),
    // a tuple result: `dout` is a tuple too
    ...(declaredResult === "array" && returnType && !/^(number\[\]|Float64Array)$/.test(returnType.getText()) ? { resultText: tupleText(returnType) } : {}),
    // a record result: `dout` is a record of its shape
    ...(record ? { resultText: record.text, resultLeaves: record.leaves } : {}),
    values: cx.values,
    body: cx.block,
    result: record ? record.leaves[0]!.atom : result.atom,
    resultType: record ? "data" : result.type,
    runtimeModule: cx.runtimeModule,
    returnLoc: result.loc,
    loc: locOf(nameNode),
    imports: [...cx.usedImports.values()],
    into,
    jvp: fn.getJsDocs().some((d) => d.getTags().some((t) => t.getTagName() === "jvp")),
    hvp: fn.getJsDocs().some((d) => d.getTags().some((t) => t.getTagName() === "hvp")),
    checkpoint: checkpointTag(fn),
    ...(copied.length > 0 ? { copied } : {}),
  };
}

/**
 * Lowers the body, going on past each statement that fails (recover.ts): what it reports
 * is thrown at the end, every error of the function together.
 */
function everyError<R>(cx: Lowerer, lower: () => R): R {
  let r: R | undefined;
  try {
    r = lower();
  } catch (e) {
    if (!(e instanceof CompileError) && !(e instanceof Abandoned)) throw e;
    report(cx, e);
  }
  const errors = recordedErrors(cx);
  if (errors.length > 0) throw new CompileErrors(errors);
  if (r === undefined) throw new Error("a statement was abandoned, but no error was reported");
  return r;
}

/**
 * `@checkpoint` or `@checkpoint k`: the segment length of checkpointed loops, a positive
 * integer, or null for ⌈√T⌉ (transforms/checkpoint.ts).
 */
function checkpointTag(fn: FunctionDeclaration): FunctionIR["checkpoint"] {
  const tag = fn.getJsDocs().flatMap((d) => d.getTags()).find((t) => t.getTagName() === "checkpoint");
  if (!tag) return undefined;
  const text = (tag.getCommentText() ?? "").trim();
  if (text === "") return { every: null, loc: locOf(tag) };
  const every = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(every >= 1 && Number.isSafeInteger(every))) {
    throw errorAt(tag, `@checkpoint takes the number of steps between checkpoints, a positive integer (\`@checkpoint 100\`), or nothing for ⌈√T⌉; not \`${text}\``);
  }
  return { every, loc: locOf(tag) };
}

/**
 * `@into`: the gradient takes a last, optional argument of arrays to write the array
 * parameters' gradients into, so that a training loop allocates nothing per step.
 */
function intoTag(fn: FunctionDeclaration, params: readonly Param[]): boolean {
  const tag = fn.getJsDocs().flatMap((d) => d.getTags()).find((t) => t.getTagName() === "into");
  if (!tag) return false;
  if (!params.some((p) => p.wrt && p.type === "array")) {
    throw errorAt(tag, `@into writes the gradients of array parameters into arrays the caller passes, but \`${fn.getName()}\` differentiates no \`number[]\` or \`Float64Array\` parameter`);
  }
  const nested = params.find((p) => p.wrt && p.type === "array" && !DIFFERENTIABLE_ARRAY.test(p.typeText));
  if (nested) throw errorAt(tag, `@into does not take nested arrays yet (\`${nested.name}: ${nested.typeText}\`): store its numbers flat (\`Float64Array\`, read as \`W[i * cols + j]\`) to write its gradient into a buffer, or leave out @into`);
  const leaf = params.find((p) => p.leafOf);
  if (leaf) throw errorAt(tag, `@into does not take record or tuple parameters yet (\`${leaf.leafOf!.input}\`): pass their arrays as parameters of their own`);
  if ((tag.getCommentText() ?? "").trim() !== "") throw errorAt(tag, "@into takes no names: it applies to every differentiated array parameter");
  return true;
}

/** The IR parameters (a record or tuple's leaves), and the user's, when some are records or tuples. */
function lowerParams(cx: Lowerer): { params: Param[]; grouped: Input[] | null } {
  const wrt = wrtNames(cx.fn);
  const params: Param[] = [];
  const inputs: Input[] = [];
  for (const { name, type, typeText, differentiable, shape, init } of signature(cx, cx.fn)) {
    const isWrt = wrt ? wrt.names.has(name) : differentiable;
    if (isWrt && !differentiable && shape.k === "list") {
      throw errorAt(wrt!.tag, `@wrt names \`${name}\`, a \`${typeText}\`: an array of records is constant data here, not differentiated; differentiate a record of arrays (\`{ x: number[]; y: number[] }\`), or rows of numbers (\`number[][]\`)`);
    }
    if (isWrt && !differentiable) throw errorAt(wrt!.tag, `@wrt names \`${name}\`, a \`${typeText}\`: only \`number\`, \`number[]\`, \`Float64Array\` and \`Tensor\` parameters can be differentiated (and records and tuples of them)`);
    inputs.push({ name, typeText, ...(init ? { init: init.getText() } : {}) });
    if (shape.k === "record" || shape.k === "tuple" || shape.k === "list") {
      const flat = flattenParam(cx, name, shape, isWrt);
      params.push(...flat.params);
      cx.frame.aggregates.set(name, flat.member);
      // constant data is also an array value: its `.length`, an argument
      if (flat.member.k === "data") cx.env.set(name, { atom: flat.member.base.atom, type: "array", mutable: false, root: flat.params[0]!.value });
      continue;
    }
    const value = cx.newValue(name, 1, name, type, true, typeText);
    cx.frame.versions.set(name, 1);
    cx.env.set(name, { atom: valueAtom(value), type, mutable: true, root: value });
    params.push({ name, typeText, type, value, wrt: isWrt, ...(init ? { init: init.getText() } : {}) });
  }
  const grouped = params.some((p) => p.leafOf) || inputs.length !== params.length ? inputs : null;
  if (wrt) {
    for (const n of wrt.names) {
      if (!params.some((p) => p.name === n) && !inputs.some((p) => p.name === n)) throw errorAt(wrt.tag, `@wrt names \`${n}\`, which is not a parameter of \`${cx.fn.getName()}\``);
    }
  }
  return { params, grouped };
}

/** The names listed by `@wrt` (spaces or commas), or null when the tag is absent. */
function wrtNames(fn: FunctionDeclaration): { names: Set<string>; tag: Node } | null {
  for (const doc of fn.getJsDocs()) {
    for (const tag of doc.getTags()) {
      if (tag.getTagName() !== "wrt") continue;
      const names = (tag.getCommentText() ?? "").split(/[\s,]+/).filter(Boolean);
      if (names.length === 0) throw errorAt(tag, "@wrt needs the names of the parameters to differentiate");
      return { names: new Set(names), tag };
    }
  }
  return null;
}

/** A tuple type as the generated code writes it (an alias spelled out: the module may not export it). */
function tupleText(typeNode: Node): string {
  const alias = Node.isTypeReference(typeNode) ? typeNode.getSourceFile().getTypeAlias(typeNode.getTypeName().getText()) : undefined;
  return (alias?.getTypeNode() ?? typeNode).getText().replace(/\s+/g, " ");
}
