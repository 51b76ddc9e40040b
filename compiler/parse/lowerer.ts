/**
 * The state one function's lowering shares across constructs, and the primitives every
 * construct builds with: a new value, an operation (checked against the rule table), a
 * fresh name, an import, a declared type, two branch arms on copies of the variables.
 * The constructs themselves are functions of their own files taking a `Lowerer`:
 * expressions.ts, statements.ts, branches.ts, loops.ts, calls.ts, around walk.ts.
 */
import { Node, SyntaxKind, type FunctionDeclaration, type SourceFile } from "ts-morph";
import { valueAtom, type Atom, type CustomCall, type Import, type Stmt, type Value, type ValueType } from "../ir/ir.ts";
import { ruleOf, type ArgKind } from "../rules/rules.ts";
import { firstFree } from "../emit/names.ts";
import { errorAt, locOf } from "./locate.ts";
import type { Modules } from "./modules.ts";
import { newFrame, type Binding, type Env, type Frame, type Target, type Typed } from "./frame.ts";
import { ARRAY_TYPE, RUNTIME_MODULE, TENSOR_OPERATORS } from "./syntax.ts";

/** A string literal type, or a union of them: `"relu" | "tanh"`. */
export function isStringLiterals(typeNode: Node): boolean {
  if (Node.isUnionTypeNode(typeNode)) return typeNode.getTypeNodes().every(isStringLiterals);
  return Node.isLiteralTypeNode(typeNode) && Node.isStringLiteral(typeNode.getLiteral());
}

export class Lowerer {
  readonly values: Value[] = [];
  /** The imports the generated module needs for this function, by the local name it uses. */
  readonly usedImports = new Map<string, Import>();
  runtimeModule: string | null = null;
  /** The block operations are appended to. */
  block: Stmt[] = [];
  /** The function body being lowered (see frame.ts). */
  frame: Frame;
  /** How many inlined calls have opened a frame so far. */
  scopes = 0;
  /** Names the function being compiled declares: an import the generated code adds must not be shadowed by one. */
  private readonly ownNames: ReadonlySet<string>;

  constructor(
    readonly modules: Modules,
    readonly fn: FunctionDeclaration,
    /** The imports of every function of the module so far, by local name: one name, one import. */
    private readonly moduleImports: Map<string, Import>,
  ) {
    this.frame = newFrame(fn, modules.main, 0, null);
    this.ownNames = new Set([
      ...fn.getParameters().map((p) => p.getName()),
      ...fn.getDescendantsOfKind(SyntaxKind.VariableDeclaration).map((d) => d.getName()),
    ]);
  }

  get env(): Env {
    return this.frame.env;
  }

  set env(env: Env) {
    this.frame.env = env;
  }

  newValue(name: string | null, version: number, hint: string, type: ValueType, param = false, typeText?: string): number {
    const id = this.values.length;
    this.values.push({ id, name, version, hint, type, param, typeText, scope: this.frame.scope });
    return id;
  }

  nextVersion(name: string): number {
    const v = (this.frame.versions.get(name) ?? 0) + 1;
    this.frame.versions.set(name, v);
    return v;
  }

  /** The next version of the user's variable `name`, as a target. */
  target(name: string): Target {
    return { name, version: this.nextVersion(name), hint: name };
  }

  /** `base`, or `base_1`, `base_2`, ... (emit/names.ts `firstFree`): a name no identifier of the function and no variable in scope has. */
  freshName(base: string): string {
    // the function being compiled, and the one being inlined into it
    const identifiersOf = (f: Frame) => (f.identifiers ??= new Set(f.fn.getDescendantsOfKind(SyntaxKind.Identifier).map((n) => n.getText())));
    let top = this.frame;
    while (top.caller) top = top.caller;
    const own = identifiersOf(top);
    const here = this.frame.fn === this.fn ? own : identifiersOf(this.frame);
    return firstFree(base, (name) => own.has(name) || here.has(name) || this.env.has(name)).name;
  }

  /** The IR type of a declared type; the runtime's `Tensor` type is also imported into the generated module. */
  valueType(typeNode: Node, what: string): ValueType {
    const text = typeNode.getText().replace(/\s+/g, " ");
    if (text === "number") return "number";
    if (text === "boolean") return "boolean";
    // a string (`kind: "relu" | "tanh"`) is a constant, compared with `===` or by a `switch`
    if (text === "string" || isStringLiterals(typeNode)) return "string";
    if (ARRAY_TYPE.test(text)) return "array";
    // a tuple of numbers, as a result or a local, is an array of its length
    if (Node.isTupleTypeNode(typeNode) && typeNode.getElements().every((e) => e.getText() === "number")) return "array";
    const alias = Node.isTypeReference(typeNode) ? typeNode.getSourceFile().getTypeAlias(typeNode.getTypeName().getText()) : undefined;
    const aliased = alias?.getTypeNode();
    if (aliased && Node.isTupleTypeNode(aliased) && aliased.getElements().every((e) => e.getText() === "number")) return "array";
    const file = typeNode.getSourceFile();
    const imported = this.modules.importsOf(file).get(text)?.import;
    if (imported && imported.imported === "Tensor" && RUNTIME_MODULE.test(imported.module)) {
      // one `Tensor` type serves the generated code, however many modules name it
      if (![...this.usedImports.values()].some((i) => i.imported === "Tensor")) this.useImport(imported, file);
      this.runtimeModule ??= this.modules.rebase(file, imported.module);
      return "tensor";
    }
    if (text === "Tensor") {
      throw errorAt(typeNode, `${what} has type \`Tensor\`, which is not imported from tsgrad's runtime: add \`import type { Tensor } from ".../runtime/tensor.ts"\``);
    }
    throw errorAt(typeNode, `${what} has type \`${text}\`: supported types are \`number\`, \`boolean\`, strings (constants), the runtime's \`Tensor\`, and arrays of numbers`);
  }

  /**
   * The local name the generated module knows an import by: the user's where it is free,
   * else a numbered one. `from` is the module that wrote the specifier (null: already as
   * the generated module, which sits beside the module being compiled, must write it).
   */
  useImport(imported: Import, from: SourceFile | null): string {
    const module = from ? this.modules.rebase(from, imported.module) : imported.module;
    const same = (i: Import) => i.module === module && i.imported === imported.imported && !!i.typeOnly === !!imported.typeOnly;
    for (const [local, i] of this.usedImports) if (same(i)) return local;
    const taken = (name: string) => (this.moduleImports.has(name) && !same(this.moduleImports.get(name)!)) || this.ownNames.has(name) || this.usedImports.has(name);
    const local = firstFree(imported.local, taken).name;
    const entry: Import = { ...imported, local, module };
    this.moduleImports.set(local, entry);
    this.usedImports.set(local, entry);
    return local;
  }

  /** Appends one operation; its result becomes `target` when given, else a new temporary. */
  op(key: string, args: Typed[], node: Node, target?: Target, callee?: string, custom?: CustomCall): Typed {
    const rule = ruleOf({ op: key, custom });
    const what = callee ?? `\`${key}\``;
    const fewest = rule.arity === "variadic" ? (key === "array.of" ? 0 : 2) : rule.arity - (rule.optional ?? 0);
    if (rule.arity === "variadic" ? args.length < fewest : args.length < fewest || args.length > rule.arity) {
      const wanted = rule.arity === "variadic" ? "at least 2 arguments"
        : fewest === rule.arity ? `${rule.arity} argument${rule.arity === 1 ? "" : "s"}` : `${fewest} to ${rule.arity} arguments`;
      throw errorAt(node, `${what} takes ${wanted}, got ${args.length}`);
    }
    if (key === "id") {
      // a copy keeps its input's type: `const h = hidden` is a Tensor
      const out = this.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? rule.hint, args[0]!.type);
      this.block.push({ kind: "op", op: key, callee, args: args.map((a) => a.atom), out, loc: locOf(node) });
      return { atom: valueAtom(out), type: args[0]!.type };
    }
    const strictEq = key === "===" || key === "!==";
    const fallback: ArgKind = rule.kind === "logic" && key !== "===" && key !== "!==" && !/^[<>]/.test(key) ? "boolean" : "number";
    args.forEach((a, i) => {
      if (strictEq) return;
      const wants = rule.signature?.[i] ?? fallback;
      if (wants === "static" || wants.split("|").includes(a.type)) return;
      if (a.type === "data") {
        throw errorAt(node, `${what} needs ${rule.signature ? `a ${wants.replace("|", " or a ")} as argument ${i + 1}` : `${wants} operands`}, got a constant tsgrad only passes through or compares with \`===\` (a string, a flag, a record that is not differentiated)`);
      }
      const shown = wants.replace("|", " or a ");
      const hint = a.type === "tensor" && !rule.signature && TENSOR_OPERATORS[key]
        ? `: operators do not apply to tensors, call \`${TENSOR_OPERATORS[key]}\` from the runtime` : "";
      throw errorAt(node, `${what} needs ${rule.signature ? `a ${shown} as argument ${i + 1}` : `${wants} operands`}, got a ${a.type}${hint}`);
    });
    // a constant of another type (an enum, a string type tsgrad does not spell) may equal anything
    if (strictEq && args[0]!.type !== args[1]!.type && args[0]!.type !== "data" && args[1]!.type !== "data") throw errorAt(node, `comparing a ${args[0]!.type} with a ${args[1]!.type} is always false`);
    // a new array is a `number[]` or a `Float64Array` (the callee says); a written one stays what it was
    const typeText = rule.result !== "array" ? undefined : rule.write ? this.values[(args[0]!.atom as Atom & { kind: "value" }).id]!.typeText : callee;
    const out = this.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? rule.hint, rule.result, false, typeText);
    this.block.push({ kind: "op", op: key, callee, ...(custom ? { custom } : {}), args: args.map((a) => a.atom), out, loc: locOf(node) });
    return { atom: valueAtom(out), type: rule.result };
  }

  /** Lowers two arms of a branch, each on its own copy of the variables and into its own block; the variables are restored after. */
  arms<A, B>(thenArm: () => A, elseArm: () => B) {
    const outer = this.block;
    const before = this.env;
    const lower = <T>(arm: () => T) => {
      this.env = new Map(before);
      this.block = [];
      const result = arm();
      return { result, block: this.block, env: this.env as ReadonlyMap<string, Binding> };
    };
    const then = lower(thenArm);
    const otherwise = lower(elseArm);
    this.block = outer;
    this.env = new Map(before);
    return { then, otherwise };
  }

  /** Runs `lower` seeing only the variables of `scope` (a `for` update cannot see the body's `const`s); what it assigns stays assigned. */
  inScope(scope: ReadonlyMap<string, Binding>, lower: () => void): void {
    const full = this.env;
    this.env = new Map([...full].filter(([name]) => scope.has(name)));
    lower();
    const changed = this.env;
    this.env = full;
    for (const [name, binding] of changed) full.set(name, binding);
  }
}
