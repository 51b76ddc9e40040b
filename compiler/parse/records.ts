/**
 * Records, tuples and constant data (shapes.ts) in the lowering. A record or tuple parameter
 * is flattened into one IR parameter per leaf (`params.w` is the leaf `params_w`, or `w`
 * where the body destructures it as `const { w } = params`), so every transform sees numbers
 * and arrays only; reads by property (`params.w[i]`), by literal index (`state[0]`) and by
 * destructuring resolve to those leaves at compile time. An array of records or of arrays
 * (`pts: Point[]`) is constant data: `pts[i].x` is one `read` operation; a nested array
 * (`W: number[][]`) is read element by element too, `W[i][j]` an `index` with two indices,
 * which carries a gradient when `W` is differentiated.
 */
import { Node, type ArrayBindingPattern, type ElementAccessExpression, type Expression, type FunctionDeclaration, type PropertyAccessExpression, type VariableDeclaration } from "ts-morph";
import { constAtom, valueAtom, type Param } from "../ir/ir.ts";
import { errorAt } from "./locate.ts";
import { expr } from "./expressions.ts";
import type { Member, Target, Typed } from "./frame.ts";
import type { Lowerer } from "./lowerer.ts";
import { isNested, member, type Shape } from "./shapes.ts";
import { DIFFERENTIABLE_ARRAY } from "./syntax.ts";
import { builtOf } from "./built.ts";

const pathKey = (path: readonly (string | number)[]) => path.join(".");

/**
 * The leaves of a record or tuple parameter as IR parameters, and what its name stands for.
 * `wrt`: whether the parameter is differentiated (then every leaf that can carry a gradient is).
 */
export function flattenParam(cx: Lowerer, name: string, shape: Shape, wrt: boolean): { params: Param[]; member: Member } {
  const names = destructuredNames(cx.fn, name);
  const params: Param[] = [];
  const visit = (s: Shape, path: (string | number)[]): Member => {
    if (s.k === "record") return { k: "record", shape: s, fields: new Map(s.fields.map(([f, fs]) => [f, visit(fs, [...path, f])])) };
    if (s.k === "tuple") return { k: "tuple", shape: s, items: s.items.map((it, i) => visit(it, [...path, i])) };
    // constant data as a whole parameter keeps the parameter's name
    const whole = path.length === 0;
    const leafName = whole ? name : names.get(pathKey(path)) ?? cx.freshName(`${name}_${path.join("_")}`);
    const type = s.k === "leaf" ? s.type : s.k === "list" ? "array" : "data";
    const value = cx.newValue(leafName, 1, leafName, type, true, s.text);
    cx.frame.versions.set(leafName, 1);
    const differentiable = (s.k === "leaf" && (type === "number" || type === "tensor" || (type === "array" && DIFFERENTIABLE_ARRAY.test(s.text)))) ||
      (isNested(s) && DIFFERENTIABLE_ARRAY.test(s.elem.text));
    params.push({ name: leafName, typeText: s.text, type, value, wrt: wrt && differentiable, ...(whole ? {} : { leafOf: { input: name, path } }) });
    const typed: Typed = { atom: valueAtom(value), type };
    return s.k === "list" ? { k: "data", shape: s, base: typed, path: "", indices: [] } : { k: "leaf", typed, root: type === "array" ? value : undefined };
  };
  return { params, member: visit(shape, []) };
}

/**
 * The names the function's own top-level destructuring gives the leaves of parameter `name`
 * (`const { w, b } = params`, `let [x, v] = start`), by path, so the leaves carry them.
 */
function destructuredNames(fn: FunctionDeclaration, name: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const stmt of fn.getBody()?.getChildSyntaxList()?.getChildren() ?? []) {
    if (!Node.isVariableStatement(stmt)) continue;
    for (const decl of stmt.getDeclarations()) {
      const init = decl.getInitializer();
      if (!init || !Node.isIdentifier(init) || init.getText() !== name) continue;
      const pattern = decl.getNameNode();
      if (Node.isObjectBindingPattern(pattern)) {
        for (const el of pattern.getElements()) {
          const target = el.getNameNode();
          if (!Node.isIdentifier(target) || el.getDotDotDotToken() || el.getInitializer()) continue;
          names.set(pathKey([el.getPropertyNameNode()?.getText() ?? target.getText()]), target.getText());
        }
      } else if (Node.isArrayBindingPattern(pattern)) {
        pattern.getElements().forEach((el, i) => {
          if (!Node.isBindingElement(el)) return;
          const target = el.getNameNode();
          if (Node.isIdentifier(target) && !el.getDotDotDotToken() && !el.getInitializer()) names.set(pathKey([i]), target.getText());
        });
      }
    }
  }
  // a name the function declares twice would be ambiguous: keep the generated one
  const declared = fn.getDescendants().filter((n) => {
    const parent = n.getParent();
    return Node.isIdentifier(n) && (Node.isBindingElement(parent) || Node.isVariableDeclaration(parent) || Node.isParameterDeclaration(parent)) && parent.getNameNode() === n;
  });
  for (const [key, n] of [...names]) if (declared.filter((d) => d.getText() === n).length > 1) names.delete(key);
  return names;
}

/** What an expression that names a record, a tuple or a place in constant data stands for, or null for any other expression. */
export function memberOf(cx: Lowerer, node: Node): Member | null {
  if (Node.isParenthesizedExpression(node) || Node.isNonNullExpression(node)) return memberOf(cx, node.getExpression());
  if (Node.isIdentifier(node)) return cx.env.has(node.getText()) && !dataName(cx, node.getText()) ? null : cx.frame.aggregates.get(node.getText()) ?? null;
  if (!Node.isPropertyAccessExpression(node) && !Node.isElementAccessExpression(node)) return null;
  const base = memberOf(cx, node.getExpression());
  if (!base || base.k === "leaf") return null;
  return step(cx, base, node);
}

/** Constant data is also an array value (its `.length`, passing it on): the aggregate says where it leads. */
const dataName = (cx: Lowerer, name: string) => cx.frame.aggregates.get(name)?.k === "data";

/** The member `node` (`base.f`, `base[k]`) reaches from `base`. */
function step(cx: Lowerer, base: Exclude<Member, { k: "leaf" }>, node: PropertyAccessExpression | ElementAccessExpression): Member | null {
  const key = keyOf(node);
  if (base.k === "record" || base.k === "tuple") {
    if (key === null) throw errorAt(node, `${base.k === "tuple" ? "a tuple is read at a literal index here (`state[0]`)" : "a record is read by its field names here (`params.w`)"}`);
    if (key === "length" && base.k === "tuple") return null;
    const found = base.k === "record" ? base.fields.get(String(key)) : typeof key === "number" ? base.items[key] : undefined;
    if (!found) throw errorAt(node, `\`${node.getExpression().getText()}\` has no ${typeof key === "number" ? `element ${key}` : `field \`${key}\``}`);
    return found;
  }
  // constant data: a list is indexed by any number, a record by field, a tuple by literal index
  const s = base.shape;
  if (key === "length" && (s.k === "list" || (s.k === "leaf" && s.type === "array"))) return null;
  if (s.k === "list" || (s.k === "leaf" && s.type === "array")) {
    if (!Node.isElementAccessExpression(node)) throw errorAt(node, `\`${node.getText()}\` is not a field of an array`);
    const elem: Shape = s.k === "list" ? s.elem : { k: "leaf", type: "number", text: "number" };
    const index = expr(cx, node.getArgumentExpressionOrThrow() as Expression);
    if (index.type !== "number") throw errorAt(node, "an index must be a number");
    return { ...base, shape: elem, path: `${base.path}[#]`, indices: [...base.indices, index] };
  }
  const next = key === null ? null : member(s, key);
  if (!next) throw errorAt(node, `\`${node.getText()}\` does not name a field or element of \`${s.text}\``);
  return { ...base, shape: next, path: `${base.path}${typeof key === "number" ? `[${key}]` : `.${key}`}` };
}

/** The field name (`.w`, `["w"]`) or literal index (`[0]`) an access reads, or null for a computed one. */
function keyOf(node: PropertyAccessExpression | ElementAccessExpression): string | number | null {
  if (Node.isPropertyAccessExpression(node)) return node.getName();
  const arg = node.getArgumentExpression();
  if (arg && Node.isNumericLiteral(arg)) return Number(arg.getText());
  if (arg && Node.isStringLiteral(arg)) return arg.getLiteralValue();
  return null;
}

/**
 * A property or element access through a record, tuple or constant data, lowered: a leaf's
 * value, an element of an array leaf, a number read from data. Null when `node` does not
 * start at one of those (the caller lowers it as usual).
 */
export function access(cx: Lowerer, node: PropertyAccessExpression | ElementAccessExpression, target?: Target): Typed | null {
  // `affine(x).y`, `{ ...p, w }.w`: a record built right here
  const inner = node.getExpression();
  const built = Node.isCallExpression(inner) || Node.isNewExpression(inner) || Node.isObjectLiteralExpression(inner) || Node.isParenthesizedExpression(inner);
  const base = built ? builtOf(cx, inner) : memberOf(cx, inner);
  if (!base) return null;
  if (base.k === "leaf") {
    const leaf = base.typed;
    if (Node.isPropertyAccessExpression(node) && node.getName() === "length" && leaf.type === "array") return cx.op("length", [leaf], node, target);
    if (Node.isElementAccessExpression(node) && leaf.type === "array") {
      return cx.op("index", [leaf, expr(cx, node.getArgumentExpressionOrThrow() as Expression)], node, target);
    }
    throw errorAt(node, `\`${node.getExpression().getText()}\` is a ${leaf.type} and has no \`${Node.isPropertyAccessExpression(node) ? node.getName() : "[]"}\` here`);
  }
  const reached = step(cx, base, node);
  if (reached === null) {
    // `.length` of a tuple, or of an array inside constant data
    if (base.k === "tuple") return { atom: { kind: "const", value: base.items.length }, type: "number" };
    if (base.k === "data" && base.path === "") return cx.op("length", [base.base], node, target);
    // a row's length, `W[i].length`: read like a number inside the data
    if (base.k === "data") return cx.op("read", [base.base, ...base.indices], node, target, `${base.path}.length`);
    throw errorAt(node, `\`${node.getText()}\` has no length here`);
  }
  return valueOf(cx, reached, node, target);
}

/** A member as a value: a leaf's, or a number read from data; a whole record or tuple is not a value. */
export function valueOf(cx: Lowerer, m: Member, node: Node, target?: Target): Typed {
  if (m.k === "leaf") return m.typed;
  if (m.k === "data" && m.shape.k === "leaf" && m.shape.type === "number") {
    // an element of a nested array, `W[i][j]`: an index with two, which a differentiated `W` takes its gradient by
    if (m.path === "[#][#]") return cx.op("index", [m.base, ...m.indices], node, target);
    return cx.op("read", [m.base, ...m.indices], node, target, m.path);
  }
  if (m.k === "data" && m.shape.k === "leaf" && m.shape.type === "array") {
    throw errorAt(node, `\`${node.getText()}\` is a row of a nested array, read element by element here (\`${node.getText()}[j]\`, \`.length\`, \`for...of\`, \`.map\`, \`.reduce\`, \`.forEach\`): pass the whole array and the row's index, or copy the row into a local array in a loop`);
  }
  const what = m.k === "record" ? "a record" : m.k === "tuple" ? "a tuple" : `\`${m.shape.text}\``;
  throw errorAt(node, `\`${node.getText()}\` is ${what}: read its numbers (\`${node.getText()}${m.shape.k === "record" ? `.${(m.shape as Extract<Shape, { k: "record" }>).fields[0]![0]}` : "[0]"}\`), or name it with \`const\``);
}

/**
 * `const { w, b } = params`, `let [x, v] = start`, `const p = pts[i]`, `const q = params`:
 * names bound to leaves (a number leaf bound with `let` gets a copy it may reassign), or to
 * the record, tuple or place itself. Returns false when `decl` is not one of these.
 */
export function declareAggregate(cx: Lowerer, decl: VariableDeclaration, mutable: boolean): boolean {
  const pattern = decl.getNameNode();
  const init = decl.getInitializer();
  // `const r = f_grad(x)`: a helper that returns a record
  // `const p = { w, b }`, `const q = { ...p, w: 2 }`, `const r = affine(x)`: a record built here (built.ts)
  const source = init ? builtOf(cx, init) : null;
  if (Node.isIdentifier(pattern)) {
    if (!source || source.k === "leaf") return false;
    if (source.k === "data" && source.shape.k === "leaf" && source.shape.type === "number") return false;
    cx.frame.aggregates.set(pattern.getText(), source);
    return true;
  }
  if (!init) throw errorAt(decl, "a destructuring declaration needs a value");
  if (!source && Node.isArrayBindingPattern(pattern)) return destructureArray(cx, pattern, init, mutable);
  if (!source) throw errorAt(init, `destructuring reads a record or tuple parameter here (\`const { w, b } = params\`); \`${init.getText()}\` is not one`);
  const bind = (name: Node, m: Member) => {
    if (!Node.isIdentifier(name)) throw errorAt(name, "nested destructuring is not supported yet: destructure in two steps");
    const n = name.getText();
    if (cx.env.has(n)) throw errorAt(name, `\`${n}\` is already declared in this function`);
    if (m.k !== "leaf" && !(m.k === "data" && m.shape.k === "leaf")) {
      cx.frame.aggregates.set(n, m);
      return;
    }
    const typed = m.k === "data" ? valueOf(cx, m, name, cx.target(n)) : valueOf(cx, m, name);
    // a leaf the function names by this very destructuring is bound as it is; any other number gets a copy under the new name
    const own = typed.atom.kind === "value" && cx.values[typed.atom.id]!.name === n;
    const bound = own || typed.type !== "number" ? typed : cx.op("id", [typed], name, cx.target(n));
    cx.env.set(n, { atom: bound.atom, type: bound.type, mutable, root: m.k === "leaf" ? m.root : undefined });
  };
  if (Node.isObjectBindingPattern(pattern)) {
    if (source.k !== "record" && !(source.k === "data" && source.shape.k === "record")) throw errorAt(init, `\`${init.getText()}\` is not a record: destructure it with \`[...]\``);
    for (const el of pattern.getElements()) {
      if (el.getDotDotDotToken() || el.getInitializer()) throw errorAt(el, "rest elements and defaults in destructuring are not supported yet");
      const key = el.getPropertyNameNode()?.getText() ?? el.getNameNode().getText();
      const m = source.k === "record" ? source.fields.get(key) : (() => {
        const f = member(source.shape, key);
        return f && { ...source, shape: f, path: `${source.path}.${key}` };
      })();
      if (!m) throw errorAt(el, `\`${init.getText()}\` has no field \`${key}\``);
      bind(el.getNameNode(), m);
    }
    return true;
  }
  if (Node.isArrayBindingPattern(pattern)) {
    if (source.k !== "tuple" && !(source.k === "data" && source.shape.k === "tuple")) throw errorAt(init, `\`${init.getText()}\` is not a tuple: destructure it with \`{...}\``);
    pattern.getElements().forEach((el, i) => {
      if (Node.isOmittedExpression(el)) return;
      if (el.getDotDotDotToken() || el.getInitializer()) throw errorAt(el, "rest elements and defaults in destructuring are not supported yet");
      const m = source.k === "tuple" ? source.items[i] : (() => {
        const f = member(source.shape, i);
        return f && { ...source, shape: f, path: `${source.path}[${i}]` };
      })();
      if (!m) throw errorAt(el, `\`${init.getText()}\` has no element ${i}`);
      bind(el.getNameNode(), m);
    });
    return true;
  }
  return false;
}

/** `const [x, y] = polar(r, t)`: the elements of an array value (a tuple a helper returned), one `index` each. */
function destructureArray(cx: Lowerer, pattern: ArrayBindingPattern, init: Expression, mutable: boolean): boolean {
  const array = expr(cx, init);
  if (array.type !== "array") throw errorAt(init, `destructuring with \`[...]\` reads a tuple or an array; \`${init.getText()}\` is a ${array.type}`);
  pattern.getElements().forEach((el, i) => {
    if (Node.isOmittedExpression(el)) return;
    if (el.getDotDotDotToken() || el.getInitializer()) throw errorAt(el, "rest elements and defaults in destructuring are not supported yet");
    const name = el.getNameNode();
    if (!Node.isIdentifier(name)) throw errorAt(name, "nested destructuring is not supported yet: destructure in two steps");
    const n = name.getText();
    if (cx.env.has(n)) throw errorAt(name, `\`${n}\` is already declared in this function`);
    const r = cx.op("index", [array, { atom: constAtom(i), type: "number" }], el, cx.target(n));
    cx.env.set(n, { atom: r.atom, type: r.type, mutable });
  });
  return true;
}

/**
 * `for (const p of pts)` over constant data: binds `p` to element `index` of it (`p.x` reads
 * `pts[i].x`), or an array of numbers inside it to a number read. False when `array` is not data.
 */
export function elementOfData(cx: Lowerer, array: Node, element: string, index: Typed): boolean {
  const m = dataArray(cx, array);
  if (!m) return false;
  bindElement(cx, m, array, element, index);
  return true;
}

/** A place in constant data or in a nested array that is an array itself: a list (`pts`, `W`), or a row of numbers (`W[i]`, `row`). */
export type DataArray = Extract<Member, { k: "data" }>;

export function dataArray(cx: Lowerer, array: Node): DataArray | null {
  const m = memberOf(cx, array);
  if (!m || m.k !== "data" || !(m.shape.k === "list" || (m.shape.k === "leaf" && m.shape.type === "array" && m.path !== ""))) return null;
  return m;
}

/** The length of a place that is an array: `W.length`, or a row's, `W[i].length`. */
export function lengthOfData(cx: Lowerer, m: DataArray, node: Node): Typed {
  return m.path === "" ? cx.op("length", [m.base], node) : cx.op("read", [m.base, ...m.indices], node, undefined, `${m.path}.length`);
}

/** Binds `element` to element `index` of the array place `m`: a number read, or the place of a row or record. */
export function bindElement(cx: Lowerer, m: DataArray, node: Node, element: string, index: Typed): void {
  const elem: Shape = m.shape.k === "list" ? m.shape.elem : { k: "leaf", type: "number", text: "number" };
  const place: Member = { ...m, shape: elem, path: `${m.path}[#]`, indices: [...m.indices, index] };
  if (place.shape.k === "leaf" && place.shape.type === "number") {
    const r = valueOf(cx, place, node, cx.target(element));
    cx.env.set(element, { atom: r.atom, type: r.type, mutable: false });
  } else {
    cx.frame.aggregates.set(element, place);
  }
}
