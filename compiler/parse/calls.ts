/**
 * Calls: of a Math function or a runtime helper (one operation of the rule table), of a
 * function whose source tsgrad reads (inlined: its body is walked in a frame of its own),
 * of a function with a custom gradient (signatures.ts), or of a package's function (kept
 * as a call with no gradient).
 */
import { Node, type Block, type CallExpression, type Expression, type FunctionDeclaration, type SourceFile } from "ts-morph";
import { CompileError } from "../diagnostics.ts";
import type { CustomCall } from "../ir/ir.ts";
import { findOp, isCarried } from "../ir/search.ts";
import { RULES, RUNTIME_FUNCTIONS } from "../rules/rules.ts";
import { errorAt } from "./locate.ts";
import { exportedFunction, isRelative, type ImportBinding } from "./modules.ts";
import { expr } from "./expressions.ts";
import { memberOf } from "./records.ts";
import { builtOf, recordLiteralOf } from "./built.ts";
import { newFrame, type Binding, type Frame, type Member, type Target, type Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { spreadExtreme } from "./arrays.ts";
import { checkDeclaration, customCall, signature, TYPE_NAMES } from "./signatures.ts";
import { shapeOf } from "./shapes.ts";
import { gradientTag, RUNTIME_MODULE, runtimeKey } from "./syntax.ts";
import { functionLevel, walk } from "./walk.ts";
import { closureAt, closureCall } from "./closures.ts";
import { argumentBinding, checkWrittenArguments, writeBack, writtenArguments } from "./writes.ts";

/** Inlining stops here: a call tree this big is a mistake, not a model. */
const MAX_VALUES = 200_000;

type Callee =
  | { readonly kind: "rule"; readonly key: string; readonly local: string }
  | { readonly kind: "function"; readonly decl: FunctionDeclaration; readonly file: SourceFile }
  | { readonly kind: "package"; readonly binding: ImportBinding };

export function call(cx: Lowerer, node: Node & { getExpression(): Expression; getArguments(): Node[] }, target?: Target): Typed {
  const callee = node.getExpression();
  const args = node.getArguments();
  const spread = args.find((a) => Node.isSpreadElement(a));
  const lowered = () => args.map((a) => expr(cx, a as Expression));
  if (Node.isPropertyAccessExpression(callee) && callee.getExpression().getText() === "Math") {
    const key = `Math.${callee.getName()}`;
    if (spread && (key === "Math.max" || key === "Math.min") && Node.isCallExpression(node)) return spreadExtreme(cx, node, key, target);
    if (spread) throw errorAt(spread, `spread arguments are supported in \`Math.max\` and \`Math.min\`; \`${key}\` takes its arguments one by one`);
    if (key === "Math.random") throw errorAt(node, "`Math.random()` is not supported here: randomness belongs in a parameter (draw the numbers outside and pass them in)");
    if (!RULES[key]) throw errorAt(callee, `\`${key}\` is not supported yet`);
    return cx.op(key, lowered(), node, target, callee.getText());
  }
  if (spread) throw errorAt(spread, "spread arguments are supported in `Math.max(...xs)` and `Math.min(...xs)`: pass the arguments one by one");
  const receiver = Node.isPropertyAccessExpression(callee) ? callee.getExpression() : null;
  if (receiver && Node.isPropertyAccessExpression(callee) && (Node.isThisExpression(receiver) || memberOf(cx, receiver) !== null || (Node.isIdentifier(receiver) && cx.env.get(receiver.getText())?.type === "data"))) {
    throw errorAt(callee, `calling \`${callee.getText()}\` is not supported: methods and \`this\` stay out of differentiable code, write a plain function taking the record (\`${callee.getName()}(${callee.getExpression().getText()})\`)`);
  }
  const closure = Node.isIdentifier(callee) ? closureAt(callee, callee.getText()) : null;
  if (closure) return closureCall(cx, node as CallExpression, closure, target)!;
  if (!Node.isIdentifier(callee)) {
    throw errorAt(callee, `calling \`${callee.getText()}\` is not supported: call a function by its name (Math functions, the runtime's helpers, and functions of your modules)`);
  }
  const resolved = resolveCallee(cx, callee);
  switch (resolved.kind) {
    case "rule": return cx.op(resolved.key, lowered(), node, target, resolved.local);
    case "package": return packageCall(cx, resolved.binding, lowered(), node, target);
    case "function": {
      if (!gradientTag(resolved.decl)) return inline(cx, resolved.decl, resolved.file, args, node, target)!;
      return customCall(cx, resolved.decl, resolved.file, callArguments(cx, resolved.decl, args, node).args, node, target);
    }
  }
}

function noBody(callee: Node, name: string): CompileError {
  return errorAt(callee, `\`${name}\` has no body tsgrad can read (it is only declared), so it cannot be differentiated: give it a body, or give a function that calls it a custom gradient (\`@gradient\`, see the README)`);
}

/**
 * What a called name is: a primitive of the rule table (a runtime helper), a function
 * whose source tsgrad reads (this module, or a relative import), or a package's function.
 */
export function resolveCallee(cx: Lowerer, callee: Node, file: SourceFile = cx.frame.file): Callee {
  const name = callee.getText();
  if (name === "eval") throw errorAt(callee, "`eval` is not supported here");
  const binding = cx.modules.importsOf(file).get(name);
  if (binding) {
    const imported = binding.import;
    const key = runtimeKey(imported);
    if (key) {
      if (key.startsWith("tensor.")) cx.runtimeModule ??= cx.modules.rebase(file, imported.module);
      return { kind: "rule", key, local: cx.useImport(imported, file) };
    }
    if (RUNTIME_MODULE.test(imported.module)) {
      throw errorAt(callee, `\`${name}\` is imported from tsgrad's runtime '${imported.module}' but has no derivative rule (the runtime's differentiable functions: ${[...RUNTIME_FUNCTIONS].join(", ")} and the tensor operations)`);
    }
    if (!isRelative(imported.module)) return { kind: "package", binding };
    const module = cx.modules.load(binding);
    const decl = exportedFunction(module, imported.imported);
    if (!decl) throw errorAt(callee, `'${imported.module}' has no exported function \`${imported.imported}\` that tsgrad can read (it follows \`export function\` declarations)`);
    if (!decl.hasBody()) throw noBody(callee, name);
    return { kind: "function", decl, file: module };
  }
  const local = file.getFunctions().find((f) => f.getName() === name && f.hasBody()) ?? file.getFunction(name);
  if (local && !local.hasBody()) throw noBody(callee, name);
  if (local) return { kind: "function", decl: local, file };
  throw errorAt(callee, `\`${name}\` is not defined here (import \`sigmoid\` or \`relu\` from tsgrad's runtime, or use a Math function)`);
}

/**
 * A call of a function whose source tsgrad reads: its body is lowered right here, in a
 * frame of its own, with its parameters bound to the arguments, and its `return` gives
 * the call's value. The caller's graph then holds the callee's operations, so the
 * gradient recomputes nothing; the code grows with the call tree.
 */
function inline(cx: Lowerer, decl: FunctionDeclaration, file: SourceFile, argNodes: readonly Node[], node: Node, target?: Target, returned?: { member?: Member }, statement = false): Typed | null {
  const name = decl.getName()!;
  const open: FunctionDeclaration[] = [];
  for (let f: Frame | null = cx.frame; f; f = f.caller) open.unshift(f.fn);
  if (open.includes(decl)) {
    const cycle = [...open.slice(open.indexOf(decl)), decl].map((f) => f.getName()).join(" → ");
    throw errorAt(node, `\`${name}\` is called recursively (${cycle}): recursion is not supported, because tsgrad inlines every call and a function cannot contain itself; write it as a loop`);
  }
  if (cx.values.length > MAX_VALUES) {
    throw errorAt(node, `inlining \`${name}\` here makes \`${cx.fn.getName()}\` larger than ${MAX_VALUES} values (every call is inlined): give a function that is called many times a custom gradient (\`@gradient\`), which keeps it a call`);
  }
  checkDeclaration(decl);
  checkWrittenArguments(cx, decl, argNodes);
  const before = cx.values.length;
  const argStart = cx.block.length;
  const { args, params, members } = callArguments(cx, decl, argNodes, node);
  const returnType = decl.getReturnTypeNode();
  const declared = returnType && !returned && !(statement && returnType.getText() === "void") ? cx.valueType(returnType, `the result of \`${name}\``) : null;

  // a callee's loops and returns are its own: a `return` in its loop leaves the callee
  const caller = cx.frame;
  const first = cx.values.length;
  const start = cx.block.length;
  const env = new Map(params.flatMap((p, i): [string, Binding][] => (members[i] && members[i]!.k !== "data" ? [] : [[p.name, argumentBinding(cx, args[i]!, argNodes[i])]])));
  const frame = newFrame(decl, file, ++cx.scopes, caller, env, new Map(params.map((p) => [p.name, 1])));
  members.forEach((m, i) => { if (m) frame.aggregates.set(params[i]!.name, m); });
  frame.declaredResult = declared;
  if (returned) frame.returned = returned;
  // an argument computed for this call is named for the parameter it binds: `const v = a - b` (not an element read, `xs[i]`, which stays as it is)
  args.forEach((a, i) => {
    if (a.atom.kind !== "value" || a.atom.id < before || cx.values[a.atom.id]!.name !== null) return;
    const def = findOp(cx.block.slice(argStart), a.atom.id);
    if (!def || def.op === "index" || def.op === "length") return;
    cx.values[a.atom.id] = { ...cx.values[a.atom.id]!, name: params[i]!.name, version: 1, hint: params[i]!.name, scope: frame.scope };
  });
  cx.frame = frame;
  let result: Typed | null;
  try {
    result = walk(cx, (decl.getBody() as Block).getStatements(), functionLevel(cx, declared, name));
  } finally {
    cx.frame = caller;
  }
  // an array it wrote into is its caller's (writes.ts)
  writeBack(cx, frame.env, decl, argNodes);
  if (!result && statement) return null;
  if (!result) throw errorAt(decl.getNameNode() ?? decl, `\`${name}\` must end with \`return <expression>\``);
  return adopt(cx, result, first, start, target);
}

/**
 * A call as a statement, `scale(y, x, 2);`: of a helper or a nested function, for what it
 * writes into the arrays it is given (or the variables a closure assigns); its value, if
 * any, is discarded.
 */
export function callStatement(cx: Lowerer, node: CallExpression): void {
  const callee = node.getExpression();
  const closure = Node.isIdentifier(callee) ? closureAt(callee, callee.getText()) : null;
  if (closure) {
    closureCall(cx, node, closure, undefined, true);
    return;
  }
  const resolved = Node.isIdentifier(callee) ? resolveCallee(cx, callee) : null;
  if (resolved?.kind !== "function" || gradientTag(resolved.decl) || writtenArguments(cx, node).size === 0) {
    throw errorAt(node, `the value of \`${node.getText()}\` would be discarded: a call is a statement when the function it calls writes into an array it is given; otherwise give its value a name, \`const r = ${node.getText()}\``);
  }
  inline(cx, resolved.decl, resolved.file, node.getArguments(), node, undefined, undefined, true);
}

/**
 * `const r = f(...)` where `f` ends with `return { value, grad: { x: dx } }` (a record, as
 * tsgrad's own `f_grad` returns): the call inlined, and the record of the values its
 * `return` names (parse/records.ts). Null, with nothing lowered, for any other call.
 */
export function recordCall(cx: Lowerer, node: CallExpression): Member | null {
  const callee = node.getExpression();
  if (!Node.isIdentifier(callee) || node.getArguments().some((a) => Node.isSpreadElement(a))) return null;
  // a nested function is inlined where it is called (closures.ts), never a record's source
  if (closureAt(callee, callee.getText())) return null;
  const resolved = resolveCallee(cx, callee);
  if (resolved.kind !== "function" || gradientTag(resolved.decl) || !returnsRecord(cx, resolved.decl)) return null;
  const returned: { member?: Member } = {};
  const value = inline(cx, resolved.decl, resolved.file, node.getArguments(), node, undefined, returned);
  if (!returned.member) throw errorAt(node, `\`${callee.getText()}\` is declared to return a record but returns a ${value?.type ?? "nothing"}`);
  return returned.member;
}

/** Whether a function is declared to return a record (`: { y: number; z: number }`), or its body ends with `return { ... }`. */
function returnsRecord(cx: Lowerer, decl: FunctionDeclaration): boolean {
  const returnType = decl.getReturnTypeNode();
  if (returnType) return shapeOf(cx, returnType, `the result of \`${decl.getName()}\``).k === "record";
  const last = decl.getBody()?.getChildSyntaxList()?.getChildren().at(-1);
  const e = last && Node.isReturnStatement(last) ? last.getExpression() : undefined;
  return e !== undefined && recordLiteralOf(e) !== null;
}

/**
 * The caller's name for an inlined call's value: `const a = sq(x)` makes the callee's
 * last value `a` itself rather than a copy of it, when the callee computed it (not a
 * value passed in, nor a loop variable, whose name its loop shares).
 */
function adopt(cx: Lowerer, result: Typed, first: number, start: number, target?: Target): Typed {
  const { atom } = result;
  if (!target || atom.kind !== "value" || atom.id < first || isCarried(cx.block.slice(start), atom.id)) return result;
  const v = cx.values[atom.id]!;
  cx.values[atom.id] = { ...v, name: target.name, version: target.version, hint: target.hint, scope: cx.frame.scope };
  return result;
}

/** A call's arguments, lowered and checked against the callee's parameters: their number and types. */
function callArguments(cx: Lowerer, decl: FunctionDeclaration, argNodes: readonly Node[], node: Node) {
  const name = decl.getName()!;
  const params = signature(cx, decl);
  const required = params.filter((p) => !p.init).length;
  if (argNodes.length < required || argNodes.length > params.length) {
    const list = params.length > 0 ? ` (${params.map((p) => p.name).join(", ")})` : "";
    const count = required === params.length ? `${params.length}` : `${required} to ${params.length}`;
    throw errorAt(node, `\`${name}\` takes ${count} argument${params.length === 1 ? "" : "s"}${list}, got ${argNodes.length}`);
  }
  // a record, tuple or constant data argument is passed as what it stands for (its leaves), not as a value
  const members = params.map((p, i) => (p.shape.k === "record" || p.shape.k === "tuple" ? (argNodes[i] ? builtOf(cx, argNodes[i]!) : null) : p.shape.k === "list" && argNodes[i] ? memberOf(cx, argNodes[i]!) : null));
  // a parameter left out takes its default value (a literal)
  const args = params.map((p, i): Typed => {
    const a = argNodes[i] ?? p.init!;
    const m = members[i];
    if (params[i]!.shape.k === "record" || params[i]!.shape.k === "tuple") {
      if (!m) throw errorAt(a, `argument ${i + 1} of \`${name}\` is a \`${params[i]!.typeText}\`: pass a record or tuple parameter or variable (\`${params[i]!.name}\`)`);
      return { atom: { kind: "const", value: 0 }, type: "data" };
    }
    return m && m.k === "data" ? { ...m.base, type: "array" } : expr(cx, a as Expression);
  });
  args.forEach((a, i) => {
    const p = params[i]!;
    if (members[i] && p.shape.k !== "list") return;
    if (a.type !== p.type) {
      throw errorAt(argNodes[i] ?? node, `argument ${i + 1} of \`${name}\` is ${TYPE_NAMES[a.type]}, but its parameter \`${p.name}\` is a \`${p.typeText}\``);
    }
  });
  return { args, params, members };
}

/**
 * A function from a package: tsgrad cannot read it, so it is kept as a call with no
 * gradient, which is right only where no differentiated value flows through it (an index
 * helper); the activity analysis rejects the other uses. Its result is taken to be a number.
 */
function packageCall(cx: Lowerer, binding: ImportBinding, args: Typed[], node: Node, target?: Target): Typed {
  const imported = binding.import;
  const forward = cx.useImport(imported, binding.decl.getSourceFile());
  const custom: CustomCall = {
    forward, backward: null, module: imported.module,
    params: args.map((a) => ({ type: a.type, differentiable: false })), result: "number",
  };
  return cx.op(`opaque.${imported.imported}`, args, node, target, forward, custom);
}
