/**
 * Declarations as tsgrad reads them: what no lowered function may be (async, a generator,
 * generic), a function's parameters and their types, and a custom gradient's annotation
 * (`@gradient fBackward`): its checks and the call it becomes.
 */
import { Node, SyntaxKind, type FunctionDeclaration, type SourceFile } from "ts-morph";
import type { CustomCall, ValueType } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import type { Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { carriesGradient, shapeOf, type Shape } from "./shapes.ts";
import { DIFFERENTIABLE_ARRAY, gradientTag, tangentTag } from "./syntax.ts";

export const TYPE_NAMES: Readonly<Record<ValueType, string>> = { number: "a number", boolean: "a boolean", tensor: "a Tensor", array: "an array", string: "a string", data: "a constant" };

/** What no function tsgrad lowers may be: async, a generator, generic. */
export function checkDeclaration(fn: FunctionDeclaration): void {
  const nameNode = fn.getNameNode() ?? fn;
  if (fn.isAsync()) throw errorAt(fn.getModifiers().find((m) => m.getKind() === SyntaxKind.AsyncKeyword) ?? nameNode, "an `async` function is not supported here: differentiate the synchronous computation");
  if (fn.isGenerator()) throw errorAt(nameNode, "a generator function is not supported here");
  if (fn.getTypeParameters().length > 0) throw errorAt(fn.getTypeParameters()[0]!, "generic functions are not supported yet");
}

/** A function's parameters: plain names with declared types tsgrad knows. */
export function signature(cx: Lowerer, decl: FunctionDeclaration) {
  return decl.getParameters().map((p) => {
    const nameNode = p.getNameNode();
    if (!Node.isIdentifier(nameNode)) throw errorAt(nameNode, "destructured parameters are not supported yet");
    if (p.isRestParameter()) throw errorAt(p, "rest parameters are not supported yet");
    if (p.hasQuestionToken()) throw errorAt(p, "an optional parameter `p?: T` is not supported: give it a default value (`p: number = 1`)");
    const init = p.getInitializer();
    if (init && !isLiteral(init)) throw errorAt(init, "a default value is a literal here (`n: number = 3`, `kind: \"relu\" | \"tanh\" = \"relu\"`)");
    const name = nameNode.getText();
    const typeNode = p.getTypeNode();
    // `dout = 1`, as tsgrad's own output writes it: the literal gives the type
    const literal = !typeNode && init ? literalShape(init) : null;
    if (!typeNode && !literal) throw errorAt(p, `parameter \`${name}\` needs a type annotation (\`number\`, \`boolean\`, \`Tensor\` or an array type)`);
    const shape = literal ?? shapeOf(cx, typeNode!, `parameter \`${name}\``);
    const typeText = shape.k === "leaf" && shape.type !== "string" && typeNode ? typeNode.getText() : shape.text;
    const type: ValueType = shape.k === "leaf" ? shape.type : shape.k === "list" ? "array" : "data";
    const differentiable = carriesGradient(shape, (text, t) => t === "number" || t === "tensor" || (t === "array" && DIFFERENTIABLE_ARRAY.test(text)));
    return { name, type, typeText, differentiable, shape, typeNode: typeNode ?? p, init };
  });
}

/** The type a default value gives a parameter declared without one (`dout = 1`). */
function literalShape(init: Node): Shape | null {
  if (Node.isStringLiteral(init)) return { k: "leaf", type: "string", text: "string" };
  if (Node.isTrueLiteral(init) || Node.isFalseLiteral(init)) return { k: "leaf", type: "boolean", text: "boolean" };
  return isLiteral(init) ? { k: "leaf", type: "number", text: "number" } : null;
}

/** A number, string or boolean literal, or a negated number: what a default value may be. */
function isLiteral(e: Node): boolean {
  if (Node.isPrefixUnaryExpression(e) && e.getOperatorToken() === SyntaxKind.MinusToken) return Node.isNumericLiteral(e.getOperand());
  return Node.isNumericLiteral(e) || Node.isStringLiteral(e) || Node.isTrueLiteral(e) || Node.isFalseLiteral(e);
}

/**
 * A call of a function with a custom gradient (`@gradient fBackward`): kept as a call,
 * `f(x)` in the forward code and `fBackward(x, out, dout)` in the backward code, both
 * imported from the module that defines them; with `@tangent fTangent` too, forward mode
 * calls `fTangent(x, out, x_dot)`.
 */
export function customCall(cx: Lowerer, decl: FunctionDeclaration, file: SourceFile, args: Typed[], node: Node, target?: Target): Typed {
  const { backward, params, result } = customGradient(cx, decl, file);
  const tangent = customTangent(decl, file, params, result);
  const module = cx.modules.specifierOf(file);
  const name = decl.getName()!;
  const forward = cx.useImport({ local: name, imported: name, module }, null);
  const custom: CustomCall = {
    forward,
    backward: cx.useImport({ local: backward, imported: backward, module }, null),
    ...(tangent ? { tangent: cx.useImport({ local: tangent, imported: tangent, module }, null) } : {}),
    params: params.map((p) => ({ type: p.type, typeText: p.typeText, differentiable: p.differentiable })),
    result,
  };
  return cx.op(`custom.${name}`, args, node, target, forward, custom);
}

/**
 * Checks a `@tangent` annotation, the forward-mode twin of `@gradient`: the function it
 * names is exported and takes the parameters, the result, then one tangent per
 * differentiated parameter; it returns the result's tangent.
 */
function customTangent(decl: FunctionDeclaration, file: SourceFile, params: ReturnType<typeof signature>, result: ValueType): string | null {
  const tag = tangentTag(decl);
  if (!tag) return null;
  const name = decl.getName()!;
  const tangentName = (tag.getCommentText() ?? "").trim().split(/\s+/)[0] ?? "";
  if (!/^[A-Za-z_$][\w$]*$/.test(tangentName)) throw errorAt(tag, `@tangent needs the name of the forward derivative: \`@tangent ${name}Tangent\``);
  const tangent = file.getFunctions().find((f) => f.getName() === tangentName && f.hasBody()) ?? file.getFunction(tangentName);
  if (!tangent) throw errorAt(tag, `@tangent names \`${tangentName}\`, which is not a function declared in this module`);
  const tangentNode = tangent.getNameNode() ?? tangent;
  if (!tangent.isExported()) throw errorAt(tangentNode, `\`${tangentName}\` is the forward derivative of \`${name}\`, which the generated code calls: export it (\`export function ${tangentName}\`)`);
  const dots = params.filter((p) => p.differentiable).map((p) => `${p.name}_dot`);
  const wanted = params.length + 1 + dots.length;
  if (tangent.getParameters().length !== wanted) {
    const list = [...params.map((p) => p.name), "out", ...dots].join(", ");
    throw errorAt(tangentNode, `\`${tangentName}\`, the forward derivative of \`${name}\`, takes its parameters, the result, then the tangent of each differentiated parameter: (${list}), ${wanted} parameters, not ${tangent.getParameters().length}`);
  }
  const returns = tangent.getReturnTypeNode();
  if (!returns) throw errorAt(tangentNode, `\`${tangentName}\` returns the tangent of \`${name}\`'s result: declare its result type (\`${result === "tensor" ? "Tensor" : "number"}\`)`);
  return tangentName;
}

/** Checks a `@gradient` annotation: both functions exported, the backward's parameters and result fit. */
function customGradient(cx: Lowerer, decl: FunctionDeclaration, file: SourceFile) {
  const tag = gradientTag(decl)!;
  const name = decl.getName()!;
  const nameNode = decl.getNameNode() ?? decl;
  const backwardName = (tag.getCommentText() ?? "").trim().split(/\s+/)[0] ?? "";
  if (!/^[A-Za-z_$][\w$]*$/.test(backwardName)) throw errorAt(tag, `@gradient needs the name of the backward function: \`@gradient ${name}Backward\``);
  if (!decl.isExported()) throw errorAt(nameNode, `\`${name}\` has a custom gradient, so the generated code calls it: export it (\`export function ${name}\`)`);
  checkDeclaration(decl);
  const params = signature(cx, decl);
  for (const p of params) {
    if (p.shape.k !== "leaf") throw errorAt(p.typeNode, `a function with a custom gradient takes numbers, arrays of numbers and Tensors; \`${p.name}\` is a \`${p.typeText}\``);
  }
  const returnType = decl.getReturnTypeNode();
  if (!returnType) throw errorAt(nameNode, `\`${name}\` has a custom gradient: declare its result type (\`number\` or \`Tensor\`)`);
  const result = cx.valueType(returnType, `the result of \`${name}\``);
  if (result !== "number" && result !== "tensor") throw errorAt(returnType, `a function with a custom gradient returns a \`number\` or a \`Tensor\`, not a \`${returnType.getText()}\``);

  const backward = file.getFunctions().find((f) => f.getName() === backwardName && f.hasBody()) ?? file.getFunction(backwardName);
  if (!backward) throw errorAt(tag, `@gradient names \`${backwardName}\`, which is not a function declared in this module`);
  const backwardNode = backward.getNameNode() ?? backward;
  if (!backward.isExported()) throw errorAt(backwardNode, `\`${backwardName}\` is the backward of \`${name}\`, which the generated code calls: export it (\`export function ${backwardName}\`)`);
  const wanted = params.length + 2;
  if (backward.getParameters().length !== wanted) {
    const inputs = params.length > 0 ? `its parameters (${params.map((p) => p.name).join(", ")}), then ` : "";
    throw errorAt(backwardNode, `\`${backwardName}\`, the backward of \`${name}\`, takes ${inputs}the result and the upstream gradient: ${wanted} parameters, not ${backward.getParameters().length}`);
  }
  if (params.length > 1) {
    const tuple = backward.getReturnTypeNode();
    if (!tuple || !Node.isTupleTypeNode(tuple) || tuple.getElements().length !== params.length) {
      const shape = `[${params.map((p) => (p.differentiable ? p.typeText : "null")).join(", ")}]`;
      throw errorAt(tuple ?? backwardNode, `\`${backwardName}\` returns one gradient per parameter of \`${name}\`: declare its result as a tuple, \`${shape}\` (entries for parameters that get no gradient are ignored)`);
    }
  }
  return { backward: backwardName, params, result };
}
