/**
 * Records built in the function (records.ts reads the ones passed in): an object literal,
 * `const p = { w, b }` or `{ ...p, w: 2 }`, stands for the values its fields name, one per
 * leaf, as a record parameter does; reading `p.w` is that value, nothing is built at run
 * time. A record (or tuple) the compiled function returns is the list of its leaves by
 * path (`resultLeaves`), whose gradient takes `dout` of the same shape.
 */
import { Node, type Expression, type NewExpression, type ObjectLiteralExpression } from "ts-morph";
import type { CompileError } from "../diagnostics.ts";
import type { ResultLeaf } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import { expr, writtenAfter } from "./expressions.ts";
import type { Member, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { memberOf } from "./records.ts";
import { classRecord, member as shapeMember, type Shape } from "./shapes.ts";
import { recordCall } from "./calls.ts";

/** The object literal an expression is (through parentheses, `as` and `!`), or null. */
export function recordLiteralOf(e: Node): ObjectLiteralExpression | null {
  if (Node.isParenthesizedExpression(e) || Node.isAsExpression(e) || Node.isNonNullExpression(e) || Node.isSatisfiesExpression(e)) return recordLiteralOf(e.getExpression());
  return Node.isObjectLiteralExpression(e) ? e : null;
}

/**
 * The record or tuple an expression stands for, built here or not: an object literal, a
 * class instance built by `new`, a helper's record result, a record parameter or local
 * (records.ts). Null for anything else, with nothing lowered.
 */
export function builtOf(cx: Lowerer, e: Node): Member | null {
  const literal = recordLiteralOf(e);
  if (literal) return recordLiteral(cx, literal);
  if (Node.isNewExpression(e)) return newRecord(cx, e);
  if (Node.isCallExpression(e)) return recordCall(cx, e) ?? memberOf(cx, e);
  return memberOf(cx, e);
}

/**
 * `new Point(x, y)` of a class of the module read as a record (shapes.ts), whose constructor
 * only stores its parameters (parameter properties, `this.x = x;`): the record of the
 * arguments. Null for a class the module does not declare.
 */
function newRecord(cx: Lowerer, node: NewExpression): Member | null {
  const callee = node.getExpression();
  const decl = Node.isIdentifier(callee) ? cx.frame.file.getClass(callee.getText()) : undefined;
  if (!decl) return null;
  const name = decl.getName() ?? callee.getText();
  const shape = classRecord(cx, decl, `\`${name}\``);
  const literal = (fields: readonly (readonly [string, Shape])[]) => `{ ${fields.map(([f]) => f).join(", ")} }`;
  if (!shape || shape.k !== "record") throw errorAt(node, `\`${name}\` is not a record of public, required fields, so differentiable code cannot build one: pass it in as a parameter`);
  const plain = `the constructor of \`${name}\` does more than store its parameters in its fields, which differentiable code cannot follow: build the record as an object literal (\`${literal(shape.fields)}\`)`;
  const ctor = decl.getConstructors()[0];
  const params = ctor?.getParameters() ?? [];
  const args = node.getArguments();
  if (args.length !== params.length) throw errorAt(node, `\`new ${name}\` takes ${params.length} argument${params.length === 1 ? "" : "s"}, got ${args.length}`);
  const given = new Map<string, Member>();
  const argOf = (param: string) => {
    const i = params.findIndex((p) => p.getName() === param);
    return i < 0 ? null : fieldValue(cx, args[i]!, node.getEnd(), param);
  };
  for (const p of params) if (p.isParameterProperty()) given.set(p.getName(), argOf(p.getName())!);
  for (const stmt of ctor?.getBody()?.getChildSyntaxList()?.getChildren() ?? []) {
    const e = Node.isExpressionStatement(stmt) ? stmt.getExpression() : null;
    const left = e && Node.isBinaryExpression(e) && e.getOperatorToken().getText() === "=" ? e.getLeft() : null;
    const right = e && Node.isBinaryExpression(e) ? e.getRight() : null;
    if (!left || !right || !Node.isPropertyAccessExpression(left) || !Node.isThisExpression(left.getExpression()) || !Node.isIdentifier(right)) throw errorAt(node, plain);
    const value = argOf(right.getText());
    if (!value) throw errorAt(node, plain);
    given.set(left.getName(), value);
  }
  const missing = shape.fields.find(([f]) => !given.has(f));
  if (missing) throw errorAt(node, `the constructor of \`${name}\` does not set \`${missing[0]}\`: build the record as an object literal (\`${literal(shape.fields)}\`)`);
  return { k: "record", shape, fields: new Map(shape.fields.map(([f]) => [f, given.get(f)!])) };
}

/**
 * `{ w, b: 2 * b, inner: { g } }`, `{ ...p, w: 2 }`: the record of what each field names (a
 * value, a record or tuple, another literal), read by field at compile time. A spread copies
 * the fields of a record of known shape; a field after it replaces the one it copied.
 */
export function recordLiteral(cx: Lowerer, node: ObjectLiteralExpression): Member {
  const fields = new Map<string, Member>();
  const given = new Set<string>();
  for (const prop of node.getProperties()) {
    if (Node.isSpreadAssignment(prop)) {
      for (const [k, m] of spreadFields(cx, prop.getExpression())) fields.set(k, m);
      continue;
    }
    const named = Node.isShorthandPropertyAssignment(prop) ? prop.getNameNode() : Node.isPropertyAssignment(prop) ? prop.getNameNode() : null;
    if (!named || !(Node.isIdentifier(named) || Node.isStringLiteral(named))) {
      throw errorAt(prop, Node.isMethodDeclaration(prop) || Node.isGetAccessorDeclaration(prop) || Node.isSetAccessorDeclaration(prop)
        ? "a record of differentiable code holds numbers, arrays and records, not methods: write a function of its own that takes the record"
        : "a record is written with its fields by name here (`{ w, b: 2 * b }`)");
    }
    const key = Node.isStringLiteral(named) ? named.getLiteralValue() : named.getText();
    if (given.has(key)) throw errorAt(prop, `the field \`${key}\` is given twice`);
    given.add(key);
    const value = Node.isShorthandPropertyAssignment(prop) ? prop.getNameNode() : (prop as Extract<typeof prop, { getInitializerOrThrow(): Expression }>).getInitializerOrThrow();
    fields.delete(key);
    fields.set(key, fieldValue(cx, value, node.getEnd(), key));
  }
  if (fields.size === 0) throw errorAt(node, "an empty record carries nothing: give it fields (`{ w, b }`)");
  const shapes = [...fields].map(([k, m]): [string, Shape] => [k, shapeOfMember(cx, m)]);
  return { k: "record", shape: { k: "record", text: `{ ${shapes.map(([k, s]) => `${k}: ${s.text}`).join("; ")} }`, fields: shapes }, fields };
}

/** The fields `...e` copies: those of a record parameter, a record built here, or a record in constant data. */
function spreadFields(cx: Lowerer, e: Expression): [string, Member][] {
  const m = builtOf(cx, e);
  if (m?.k === "record") return [...m.fields];
  if (m?.k === "data" && m.shape.k === "record") return m.shape.fields.map(([k, s]) => [k, { ...m, shape: s, path: `${m.path}.${k}` }]);
  throw errorAt(e, `a spread copies the fields of a record whose shape tsgrad knows (a record parameter, or one built here: \`{ ...params, w }\`); \`${e.getText()}\` is ${m?.k === "tuple" ? "a tuple" : "not one"}: write its fields out`);
}

/** A field's value, given at source position `end` (where the record is built). */
function fieldValue(cx: Lowerer, e: Node, end: number, key: string): Member {
  const m = builtOf(cx, e);
  if (m) return m;
  // a value computed for the field is named after it (`{ y: x * x }`: `const y = x * x`)
  const typed = expr(cx, e as Expression, { name: null, version: 1, hint: key });
  const root = Node.isIdentifier(e) ? cx.env.get(e.getText())?.root : undefined;
  // the record holds the array as it is now: a later write to it would not be seen through the field
  if (typed.type === "array" && Node.isIdentifier(e) && writtenAfter(cx, new Set([e.getText()]), end)) {
    throw errorAt(e, `\`${e.getText()}\` is written after it is put in this record, which the record's field would not see: finish writing it first, or copy it (\`${e.getText()}.slice()\`)`);
  }
  return { k: "leaf", typed, root };
}

const LEAF_TEXT: Readonly<Record<string, string>> = { number: "number", boolean: "boolean", array: "number[]", tensor: "Tensor", string: "string" };

/** The shape a member has, as its values' types write it. */
function shapeOfMember(cx: Lowerer, m: Member): Shape {
  if (m.k !== "leaf") return m.shape;
  const { typed } = m;
  const typeText = typed.atom.kind === "value" ? cx.values[typed.atom.id]!.typeText : undefined;
  const text = typed.type === "array" && typeText && /^(number\[\]|Float64Array)$/.test(typeText) ? typeText : LEAF_TEXT[typed.type] ?? "unknown";
  return { k: "leaf", type: typed.type, text };
}

/**
 * An assignment to a record or a field of one (`p.w = 3`, `p = { ... }`): records are values
 * fixed when they are built, so the error says to build a new one. Null for anything else.
 */
export function recordWrite(cx: Lowerer, left: Node): CompileError | null {
  if (Node.isIdentifier(left) && cx.frame.aggregates.has(left.getText()) && !cx.env.has(left.getText())) {
    return errorAt(left, `\`${left.getText()}\` names a record, which is not reassigned here: name the new one (\`const q = { ...${left.getText()}, w: ... }\`)`);
  }
  if (!Node.isPropertyAccessExpression(left) && !Node.isElementAccessExpression(left)) return null;
  const base = memberOf(cx, left.getExpression());
  if (!base || base.k === "leaf" || base.k === "data") return null;
  const root = left.getExpression().getText();
  const field = Node.isPropertyAccessExpression(left) ? left.getName() : "w";
  return errorAt(left, `the fields of \`${root}\` are fixed when the record is built: build a new record (\`const q = { ...${root}, ${field}: ... }\`), or keep \`${field}\` in a \`let\` of its own`);
}

/** A member that is a record or tuple of values (not a leaf, nor a place in constant data). */
export const isBuilt = (m: Member | null): m is Extract<Member, { k: "record" | "tuple" }> => m !== null && (m.k === "record" || m.k === "tuple");

/**
 * The leaves of a record (or tuple) the compiled function returns, by path, checked against
 * the declared result type when there is one (its leaves' types then write `dout`'s).
 */
export function resultLeaves(cx: Lowerer, m: Member, declared: Shape | null, node: Node): { leaves: ResultLeaf[]; text: string } {
  const leaves: ResultLeaf[] = [];
  const visit = (m: Member, s: Shape | null, path: (string | number)[]): void => {
    const where = path.length === 0 ? "the result" : `field \`${path.join(".")}\` of the result`;
    if (m.k === "data") throw errorAt(node, `${where} is constant data (\`${m.shape.text}\`), which has no gradient: return numbers computed from it, or leave it out of the result`);
    if (s && s.k === "opaque") throw errorAt(node, `${where} is declared \`${s.text}\`, which tsgrad cannot differentiate: a result holds numbers, arrays of numbers, Tensors, and records and tuples of them`);
    if (m.k === "leaf") {
      const typed: Typed = m.typed;
      if (typed.type === "boolean" || typed.type === "string" || typed.type === "data") throw errorAt(node, `${where} is a ${typed.type === "data" ? "constant" : typed.type}, which has no gradient: a result holds numbers, arrays of numbers and Tensors`);
      if (s && s.k === "leaf" && s.type !== typed.type) throw errorAt(node, `${where} is declared \`${s.text}\` but is a ${typed.type}`);
      if (s && (s.k === "record" || s.k === "list")) throw errorAt(node, `${where} is declared \`${s.text}\` but is a ${typed.type}`);
      leaves.push({ path, atom: typed.atom, type: typed.type, typeText: s?.text ?? shapeOfMember(cx, m).text });
      return;
    }
    if (s && s.k !== m.k) throw errorAt(node, `${where} is declared \`${s.text}\` but is ${m.k === "record" ? "a record" : "a tuple"} (\`${m.shape.text}\`)`);
    const keys = m.k === "record" ? [...m.fields.keys()] : m.items.map((_, i) => i);
    if (s && s.k === "record" && m.k === "record") {
      const missing = s.fields.find(([k]) => !m.fields.has(k));
      if (missing) throw errorAt(node, `${where} has no field \`${missing[0]}\`, which its declared type \`${s.text}\` has`);
      const extra = keys.find((k) => !s.fields.some(([f]) => f === k));
      if (extra !== undefined) throw errorAt(node, `${where} has a field \`${extra}\`, which its declared type \`${s.text}\` does not`);
    }
    if (s && s.k === "tuple" && s.items.length !== keys.length) throw errorAt(node, `${where} has ${keys.length} elements, its declared type \`${s.text}\` ${s.items.length}`);
    // in the declared order, which `dout`'s type writes
    const order = s && s.k === "record" ? s.fields.map(([k]) => k) : keys;
    for (const k of order) visit(m.k === "record" ? m.fields.get(k as string)! : m.items[k as number]!, s ? shapeMember(s, k) : null, [...path, k]);
  };
  visit(m, declared, []);
  return { leaves, text: declared?.text ?? shapeOfMember(cx, m).text };
}
