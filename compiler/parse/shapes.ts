/**
 * Shapes of declared types beyond the IR's scalar types: records (`{ w: number[]; b: number }`,
 * a `type` alias or an `interface` of the module), tuples (`[number, number]`), arrays of
 * those or of arrays (`Point[]`, read as constant data; `number[][]`, differentiated row by
 * row, or constant data when `@wrt` leaves it out), and every other type
 * (`string`, `"relu" | "tanh"`, an enum), which carries no gradient and is passed through.
 * A record or tuple parameter is flattened into one IR parameter per leaf (function.ts);
 * the generated code takes and returns the shape as written (transforms/boundary.ts).
 */
import { Node, SyntaxKind, type ClassDeclaration, type ParameterDeclaration, type PropertyDeclaration, type SourceFile } from "ts-morph";
import type { ValueType } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import { isStringLiterals, type Lowerer } from "./lowerer.ts";
import { ARRAY_TYPE } from "./syntax.ts";

export type Shape =
  /** number, boolean, Tensor, an array of numbers: one IR value. */
  | { readonly k: "leaf"; readonly type: ValueType; readonly text: string }
  | { readonly k: "record"; readonly text: string; readonly fields: readonly (readonly [string, Shape])[] }
  | { readonly k: "tuple"; readonly text: string; readonly items: readonly Shape[] }
  /** An array of records, tuples or arrays: constant data, read element by element. */
  | { readonly k: "list"; readonly text: string; readonly elem: Shape }
  /** Any other type: a constant the function may compare or pass on, never differentiate. */
  | { readonly k: "opaque"; readonly text: string };

const oneLine = (t: string) => t.replace(/\s+/g, " ").trim();

/** The shape of a declared type; types tsgrad does not know become `opaque` constants. */
export function shapeOf(cx: Lowerer, typeNode: Node, what: string, seen: ReadonlySet<string> = new Set()): Shape {
  const text = oneLine(typeNode.getText());
  if (Node.isParenthesizedTypeNode(typeNode)) return shapeOf(cx, typeNode.getTypeNode(), what, seen);
  if (text === "number" || text === "boolean" || ARRAY_TYPE.test(text)) return { k: "leaf", type: cx.valueType(typeNode, what), text };
  // a string (`kind: "relu" | "tanh"`): a constant compared with `===` or by a `switch`
  if (text === "string" || isStringLiterals(typeNode)) return { k: "leaf", type: "string", text };
  if (Node.isTypeLiteral(typeNode)) return recordOf(cx, typeNode.getMembers(), what, seen) ?? { k: "opaque", text };
  if (Node.isTupleTypeNode(typeNode)) {
    const elements = typeNode.getElements();
    if (elements.some((e) => Node.isNamedTupleMember(e) || Node.isRestTypeNode(e) || Node.isOptionalTypeNode(e))) return { k: "opaque", text };
    const items = elements.map((e) => shapeOf(cx, e, what, seen));
    return { k: "tuple", text: `[${items.map(shapeText).join(", ")}]`, items };
  }
  if (Node.isArrayTypeNode(typeNode)) {
    const elem = shapeOf(cx, typeNode.getElementTypeNode(), what, seen);
    if (elem.k === "opaque") return { k: "opaque", text };
    return { k: "list", text: `${wrapElem(shapeText(elem))}[]`, elem };
  }
  if (Node.isTypeReference(typeNode)) {
    const name = typeNode.getTypeName().getText();
    const declared = localType(typeNode.getSourceFile(), name);
    if (declared && !seen.has(name) && typeNode.getTypeArguments().length === 0) {
      const inner = new Set([...seen, name]);
      const shape = Node.isClassDeclaration(declared) ? classRecord(cx, declared, what, inner)
        : Node.isInterfaceDeclaration(declared)
        ? (declared.getExtends().length === 0 && declared.getTypeParameters().length === 0 ? recordOf(cx, declared.getMembers(), what, inner) : null)
        : declared.getTypeParameters().length === 0 ? shapeOf(cx, declared.getTypeNodeOrThrow(), what, inner) : null;
      return shape ?? { k: "opaque", text };
    }
    // Tensor (and a Tensor not imported from the runtime, whose error says what to import)
    if (name === "Tensor") return { k: "leaf", type: cx.valueType(typeNode, what), text };
    const imported = cx.modules.importsOf(typeNode.getSourceFile()).get(name)?.import;
    if (imported?.imported === "Tensor") return { k: "leaf", type: cx.valueType(typeNode, what), text };
    return { k: "opaque", text: namedType(cx, typeNode, name, what) };
  }
  return { k: "opaque", text };
}

function wrapElem(t: string): string {
  return /^[\w$]+(\[\])*$|^\{.*\}$|^\[.*\]$/.test(t) ? t : `(${t})`;
}

/** A `type` alias, an `interface` or a class of the module. */
function localType(file: SourceFile, name: string) {
  return file.getTypeAlias(name) ?? file.getInterface(name) ?? file.getClass(name);
}

/**
 * A class read as the record of its public instance fields (`x: number;`, or constructor
 * parameter properties, `constructor(readonly x: number)`): its methods stay out of
 * differentiable code (calls.ts says what to write instead), an instance is passed where
 * the generated code takes the record. Null (an opaque constant) for a class with private
 * or optional fields, a base class or type parameters.
 */
export function classRecord(cx: Lowerer, decl: ClassDeclaration, what: string, seen: ReadonlySet<string> = new Set()): Shape | null {
  if (decl.getExtends() || decl.getTypeParameters().length > 0) return null;
  const fields: [string, Shape][] = [];
  const field = (node: PropertyDeclaration | ParameterDeclaration): boolean => {
    const nameNode = node.getNameNode();
    const typeNode = node.getTypeNode();
    if (!Node.isIdentifier(nameNode) || !typeNode || node.hasQuestionToken() || node.hasModifier(SyntaxKind.PrivateKeyword) || node.hasModifier(SyntaxKind.ProtectedKeyword)) return false;
    fields.push([nameNode.getText(), shapeOf(cx, typeNode, `field \`${nameNode.getText()}\` of ${what}`, seen)]);
    return true;
  };
  for (const ctor of decl.getConstructors()) for (const p of ctor.getParameters()) if (p.isParameterProperty() && !field(p)) return null;
  for (const p of decl.getInstanceProperties()) {
    if (Node.isParameterDeclaration(p)) continue;
    if (!Node.isPropertyDeclaration(p) || !field(p)) return null;
  }
  if (fields.length === 0) return null;
  return { k: "record", text: `{ ${fields.map(([n, s]) => `${n}: ${shapeText(s)}`).join("; ")} }`, fields };
}

/** The fields of a type literal or an interface, or null when it has anything but plain, required properties. */
function recordOf(cx: Lowerer, members: readonly Node[], what: string, seen: ReadonlySet<string>): Shape | null {
  const fields: [string, Shape][] = [];
  for (const m of members) {
    if (!Node.isPropertySignature(m) || m.hasQuestionToken()) return null;
    const nameNode = m.getNameNode();
    const typeNode = m.getTypeNode();
    if (!Node.isIdentifier(nameNode) || !typeNode) return null;
    fields.push([nameNode.getText(), shapeOf(cx, typeNode, `field \`${nameNode.getText()}\` of ${what}`, seen)]);
  }
  if (fields.length === 0) return null;
  return { k: "record", text: `{ ${fields.map(([n, s]) => `${n}: ${shapeText(s)}`).join("; ")} }`, fields };
}

/**
 * The type as the generated code writes it: records and tuples spelled out, so the
 * generated module needs no import of the user's (possibly unexported) type names.
 */
export function shapeText(s: Shape): string {
  return s.text;
}

/** Whether anything in the shape can carry a gradient (a number, `number[]`, `Float64Array`, a Tensor). */
export function carriesGradient(s: Shape, differentiableLeaf: (text: string, type: ValueType) => boolean): boolean {
  switch (s.k) {
    case "leaf": return differentiableLeaf(s.text, s.type);
    case "record": return s.fields.some(([, f]) => carriesGradient(f, differentiableLeaf));
    case "tuple": return s.items.some((f) => carriesGradient(f, differentiableLeaf));
    // a nested array (`number[][]`): its gradient is an array of rows of the same shape
    case "list": return isNested(s) && differentiableLeaf(s.elem.text, s.elem.type);
    default: return false;
  }
}

/** A nested array, `number[][]` or `Float64Array[]`: rows of numbers, read as `W[i][j]`. */
export function isNested(s: Shape): s is Extract<Shape, { k: "list" }> & { readonly elem: Extract<Shape, { k: "leaf" }> } {
  return s.k === "list" && s.elem.k === "leaf" && s.elem.type === "array";
}

/** The shape reached by reading `key` (a field name, or a tuple's literal index) of `s`, or null. */
export function member(s: Shape, key: string | number): Shape | null {
  if (s.k === "record") return s.fields.find(([n]) => n === String(key))?.[1] ?? null;
  if (s.k === "tuple" && typeof key === "number") return s.items[key] ?? null;
  return null;
}

export function describeShape(s: Shape): string {
  return s.k === "record" ? "a record" : s.k === "tuple" ? "a tuple" : s.k === "list" ? "an array of records or arrays" : s.k === "opaque" ? `a \`${s.text}\`` : `a \`${s.text}\``;
}

export function unknownMember(node: Node, s: Shape, key: string | number): never {
  throw errorAt(node, `${describeShape(s)} has no ${typeof key === "number" ? `element ${key}` : `field \`${key}\``}`);
}

/**
 * A constant's named type (an enum, a class, an interface with methods, an imported type),
 * which the generated signature names too: imported from where the module has it. A type
 * the module declares without exporting it cannot be named there.
 */
function namedType(cx: Lowerer, typeNode: Node, name: string, what: string): string {
  const file = typeNode.getSourceFile();
  const root = name.split(".")[0]!;
  const binding = cx.modules.importsOf(file).get(root);
  if (binding) return name.replace(root, cx.useImport({ ...binding.import, typeOnly: true }, file));
  const declared = file.getEnum(root) ?? file.getClass(root) ?? file.getInterface(root) ?? file.getTypeAlias(root);
  if (!declared) return typeNode.getText();
  if (!declared.isExported()) throw errorAt(typeNode, `${what} has type \`${name}\`, which the generated code names too: export it (\`export ${declared.getKindName() === "EnumDeclaration" ? "enum" : declared.getKindName() === "ClassDeclaration" ? "class" : declared.getKindName() === "InterfaceDeclaration" ? "interface" : "type"} ${root}\`)`);
  return name.replace(root, cx.useImport({ local: root, imported: root, module: cx.modules.specifierOf(file), typeOnly: true }, null));
}