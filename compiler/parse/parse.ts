/**
 * parse: the only stage that knows TypeScript syntax. Finds the functions tagged
 * `@differentiable` and lowers each to the graph IR, or reports a located diagnostic for
 * anything outside the supported subset.
 */
import {
  Node, Project, SyntaxKind,
  type BreakStatement, type ContinueStatement, type DoStatement, type Expression, type ForStatement, type FunctionDeclaration,
  type IfStatement, type JSDocTag, type ReturnStatement, type SourceFile, type Statement, type WhileStatement,
} from "ts-morph";
import { CompileError, internalError, type LocalDiagnostic } from "../diagnostics.ts";
import {
  constAtom, valueAtom,
  type Atom, type CustomCall, type FunctionIR, type Import, type LoopStmt, type OpStmt, type Param, type SourceLoc, type Stmt, type Value, type ValueType,
} from "../ir/ir.ts";
import { MATH_CONSTANTS, RULES, RUNTIME_FUNCTIONS, TENSOR_FUNCTIONS, ruleOf, type ArgKind } from "../rules/rules.ts";
import { errorAt, headerLoc, locOf } from "./locate.ts";
import { exportedFunction, isRelative, Modules, type ImportBinding, type ReadFile } from "./modules.ts";
import { describeUnsupported } from "./unsupported.ts";

export { errorAt, locOf } from "./locate.ts";
export type { ReadFile } from "./modules.ts";

export interface ParseResult {
  readonly functions: FunctionIR[];
  readonly diagnostics: LocalDiagnostic[];
}

/** Module specifiers that name tsgrad's runtime: its index, scalar helpers, or tensor module. */
const RUNTIME_MODULE = /(^|\/)runtime(\/(index|scalar|tensor))?(\.[cm]?[jt]s)?$|^tsgrad(\/(runtime|tensor))?$/;
const TENSOR_MODULE = /(^|\/)runtime\/tensor(\.[cm]?[jt]s)?$|^tsgrad\/tensor$/;
const SCALAR_MODULE = /(^|\/)runtime\/scalar(\.[cm]?[jt]s)?$/;
/** Array types a function may take; `number[]` and `Float64Array` are differentiated by default. */
const ARRAY_TYPE = /^(readonly\s+number\[\]|number\[\]|Array<number>|ReadonlyArray<number>|Float64Array|Float32Array|Int32Array|Uint32Array|Int16Array|Uint16Array|Int8Array|Uint8Array)$/;
const DIFFERENTIABLE_ARRAY = /^(number\[\]|Float64Array)$/;

const ASSIGNMENT_OPS: Readonly<Record<string, string | null>> = {
  "=": null, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "**=": "**",
};
const BINARY_OPS = new Set(["+", "-", "*", "/", "%", "**", "<", "<=", ">", ">=", "===", "!==", "&&", "||"]);
/** What to call instead of an operator on tensors. */
const TENSOR_OPERATORS: Readonly<Record<string, string>> = {
  "+": "add(a, b)", "-": "sub(a, b)", "*": "mul(a, b)", "/": "div(a, b)", neg: "neg(a)",
  "Math.exp": "exp(t)", "Math.log": "log(t)", "Math.tanh": "tanh(t)", "Math.max": "maximum(t, s)",
};
const LOOSE_EQUALITY: Readonly<Record<string, string>> = { "==": "===", "!=": "!==" };

/**
 * One in-memory project serves every call: building TypeScript's program the first time
 * costs ~120 ms, later ones reuse it (~10 ms). Each call adds its file and removes it again.
 * Only syntax is asked of it, so it reads no default library (`noLib`): parsing lib.d.ts
 * would be 1-1.5 s of a cold start.
 */
let shared: Project | undefined;

export function parse(text: string, path: string, readFile?: ReadFile): ParseResult {
  shared ??= new Project({ useInMemoryFileSystem: true, compilerOptions: { target: 99, strict: true, allowJs: false, noLib: true } });
  const file = shared.createSourceFile(path.endsWith(".ts") ? path : `${path}.ts`, text, { overwrite: true });
  const modules = new Modules(shared, file, path, readFile);
  try {
    return parseFile(shared, file, modules);
  } finally {
    modules.dispose();
    shared.removeSourceFile(file);
  }
}

function parseFile(project: Project, file: SourceFile, modules: Modules): ParseResult {
  const syntax = project.getProgram().getSyntacticDiagnostics(file);
  if (syntax.length > 0) {
    return {
      functions: [],
      diagnostics: syntax.map((d) => {
        const start = d.getStart() ?? 0;
        const { line, column } = file.getLineAndColumnAtPos(start);
        const message = d.getMessageText();
        return {
          line, col: column, length: d.getLength() ?? 1,
          message: `syntax error: ${typeof message === "string" ? message : message.getMessageText()}`,
        };
      }),
    };
  }

  const functions: FunctionIR[] = [];
  const diagnostics: LocalDiagnostic[] = [];
  const moduleImports = new Map<string, Import>();
  for (const host of taggedNodes(file)) {
    try {
      if (!Node.isFunctionDeclaration(host) || host.getParent() !== file) {
        throw errorAt(host, `@differentiable on ${describeHost(host)} is not supported: tag a top-level \`function\` declaration`);
      }
      functions.push(new Lowerer(modules, host, moduleImports).lower());
    } catch (e) {
      if (e instanceof CompileError) diagnostics.push(e.diagnostic);
      else diagnostics.push(internalError(locOf(host), Node.isFunctionDeclaration(host) ? host.getName() ?? "function" : "declaration", e));
    }
  }
  diagnostics.sort((a, b) => (a.file ?? "").localeCompare(b.file ?? "") || a.line - b.line || a.col - b.col);
  return { functions, diagnostics };
}

/** Nodes whose JSDoc carries `@differentiable`, in source order. */
function taggedNodes(file: SourceFile): Node[] {
  const hosts: Node[] = [];
  file.forEachDescendant((node) => {
    if (Node.isJSDocable(node) && node.getJsDocs().some((doc) => doc.getTags().some((t) => t.getTagName() === "differentiable"))) {
      hosts.push(node);
    }
  });
  return hosts;
}

function describeHost(node: Node): string {
  if (Node.isMethodDeclaration(node)) return "a class method";
  if (Node.isVariableStatement(node)) return "a variable (an arrow function or function expression)";
  if (Node.isFunctionDeclaration(node)) return "a nested function";
  if (Node.isClassDeclaration(node)) return "a class";
  return `a ${node.getKindName()}`;
}

const sameAtom = (a: Atom, b: Atom) =>
  a.kind === "value" ? b.kind === "value" && a.id === b.id : b.kind === "const" && Object.is(a.value, b.value);

interface Binding {
  readonly atom: Atom;
  readonly type: ValueType;
  readonly mutable: boolean;
  /** For an array: the value that created it (a parameter, `new Array(n).fill(0)`, a literal). */
  readonly root?: number;
}

interface Target {
  readonly name: string | null;
  readonly version: number;
  readonly hint: string;
}

type LoopNode = ForStatement | WhileStatement | DoStatement | import("ts-morph").ForOfStatement;

const isLoopNode = (node: Node): node is LoopNode =>
  Node.isForStatement(node) || Node.isWhileStatement(node) || Node.isDoStatement(node) || Node.isForOfStatement(node);

const isJump = (node: Node): node is BreakStatement | ContinueStatement | ReturnStatement =>
  Node.isBreakStatement(node) || Node.isContinueStatement(node) || Node.isReturnStatement(node);

/** Walks the statements under `node` (not into closures), `visit` answering "found", "skip" its children, or "go on". */
function search(node: Node, visit: (n: Node) => "found" | "skip" | "go"): boolean {
  let found = false;
  node.forEachDescendant((n, traversal) => {
    if (Node.isFunctionLikeDeclaration(n) || Node.isArrowFunction(n) || Node.isFunctionExpression(n)) return traversal.skip();
    const answer = visit(n);
    if (answer === "found") {
      found = true;
      traversal.stop();
    } else if (answer === "skip") {
      traversal.skip();
    }
  });
  return found;
}

/** Whether a `return` sits anywhere inside `node` (in a branch, in a loop at any depth). */
function containsReturn(node: Node): boolean {
  return search(node, (n) => (Node.isReturnStatement(n) ? "found" : "go"));
}

/** Whether a loop's body has a `break` of its own (not one of a loop nested inside it). */
function breaksOut(loop: LoopNode): boolean {
  return search(loop.getStatement(), (n) => (Node.isBreakStatement(n) ? "found" : isLoopNode(n) ? "skip" : "go"));
}

/**
 * Whether an `if` in a loop body leaves the iteration early: a `break`, `continue` or
 * `return` in an arm, or a loop in an arm that returns from the function.
 */
function jumpsInside(stmt: IfStatement): boolean {
  return search(stmt, (n) => (isJump(n) ? "found" : isLoopNode(n) ? (containsReturn(n) ? "found" : "skip") : "go"));
}

/**
 * A numeric literal's value. (ts-morph's `getLiteralValue` reads `1e-12` with `parseInt`,
 * as 1; TypeScript's own text of the literal is already normalised: `0x10` is "16".)
 */
function numberOf(literal: import("ts-morph").NumericLiteral): number {
  return Number(literal.compilerNode.text);
}

/** Whether `expr` assigns (`=`, `+=`, `++`, ...) one of `names`. */
function writesAny(expr: Node, names: ReadonlySet<string>): boolean {
  return [expr, ...expr.getDescendants()].some((n) => {
    const target = Node.isBinaryExpression(n) && n.getOperatorToken().getText() in ASSIGNMENT_OPS ? n.getLeft()
      : Node.isPrefixUnaryExpression(n) || Node.isPostfixUnaryExpression(n) ? n.getOperand() : null;
    return target !== null && Node.isIdentifier(target) && names.has(target.getText());
  });
}

/** A loop's header as comments show it: `for (let i = 0; i < n; i++)`, `while (x > 1)`, `do ... while (x > 1)`. */
function loopHeader(stmt: LoopNode): string {
  if (Node.isForStatement(stmt)) {
    return `for (${stmt.getInitializer()?.getText() ?? ""}; ${stmt.getCondition()?.getText() ?? ""}; ${stmt.getIncrementor()?.getText() ?? ""})`;
  }
  if (Node.isForOfStatement(stmt)) return `for (${stmt.getInitializer().getText()} of ${stmt.getExpression().getText()})`;
  return `${Node.isDoStatement(stmt) ? "do ... " : ""}while (${stmt.getExpression().getText()})`;
}

/** The operation defining `id` in a block (searching nested regions). */
function findOp(stmts: readonly Stmt[], id: number): OpStmt | null {
  for (const s of stmts) {
    if (s.kind === "op" && s.out === id) return s;
    const found = s.kind === "if" ? findOp(s.then, id) ?? findOp(s.else, id) : s.kind === "loop" ? findOp(s.test, id) ?? findOp(s.body, id) : null;
    if (found) return found;
  }
  return null;
}

/** The rule-table key of a runtime import (`sigmoid`, `tensor.matmul`), or null when it is not one. */
function runtimeKey(imported: Import): string | null {
  if (!RUNTIME_MODULE.test(imported.module)) return null;
  const name = imported.imported;
  const tensorModule = TENSOR_MODULE.test(imported.module);
  if (!tensorModule && RUNTIME_FUNCTIONS.has(name)) return name;
  if (!SCALAR_MODULE.test(imported.module) && TENSOR_FUNCTIONS.has(name)) return `tensor.${name}`;
  return null;
}

/** Whether a loop pushes onto the array `name` (its length changes). */
function pushesOnto(loop: Node, name: string): boolean {
  return loop.getDescendants().some((n) => isPush(n) && n.getExpression().getFirstChild()?.getText() === name);
}

/** `a.push(...)`. */
function isPush(node: Node): node is import("ts-morph").CallExpression {
  if (!Node.isCallExpression(node)) return false;
  const callee = node.getExpression();
  return Node.isPropertyAccessExpression(callee) && callee.getName() === "push";
}

/** The function body being lowered: the function being compiled, or a function it calls, inlined. */
interface Frame {
  readonly fn: FunctionDeclaration;
  readonly file: SourceFile;
  /** 0 for the function being compiled, then one per inlined call (see `Value.scope`). */
  readonly scope: number;
}

/** Inlining stops here: a call tree this big is a mistake, not a model. */
const MAX_VALUES = 200_000;

type Callee =
  | { readonly kind: "rule"; readonly key: string; readonly local: string }
  | { readonly kind: "function"; readonly decl: FunctionDeclaration; readonly file: SourceFile }
  | { readonly kind: "package"; readonly binding: ImportBinding };

const TYPE_NAMES: Readonly<Record<ValueType, string>> = { number: "a number", boolean: "a boolean", tensor: "a Tensor", array: "an array" };

/** The `@gradient NAME` tag of a function with a custom gradient, if it has one. */
function gradientTag(fn: FunctionDeclaration): JSDocTag | undefined {
  return fn.getJsDocs().flatMap((d) => d.getTags()).find((t) => t.getTagName() === "gradient");
}

function noBody(callee: Node, name: string): CompileError {
  return errorAt(callee, `\`${name}\` has no body tsgrad can read (it is only declared), so it cannot be differentiated: give it a body, or give a function that calls it a custom gradient (\`@gradient\`, see the README)`);
}

/** Whether `id` is a loop variable (a phi) of a loop in `stmts`. */
function isCarried(stmts: readonly Stmt[], id: number): boolean {
  return stmts.some((s) =>
    s.kind === "loop" ? s.carried.some((c) => c.phi === id) || isCarried(s.test, id) || isCarried(s.body, id)
    : s.kind === "if" ? isCarried(s.then, id) || isCarried(s.else, id)
    : false);
}

/** Lowers one function declaration to the graph IR. */
class Lowerer {
  private readonly values: Value[] = [];
  private env = new Map<string, Binding>();
  /** Values each user name has had so far, across branches: `s`, then `s_2`, `s_3`, ... (one map per function body) */
  private versions = new Map<string, number>();
  /** The imports the generated module needs for this function, by the local name it uses. */
  private readonly usedImports = new Map<string, Import>();
  private runtimeModule: string | null = null;
  private block: Stmt[] = [];
  private frame: Frame;
  /** The functions being lowered, outermost first: a call of one of them is recursion. */
  private readonly calls: FunctionDeclaration[] = [];
  private scopes = 0;
  /** Names the function being compiled declares: an import the generated code adds must not be shadowed by one. */
  private readonly ownNames: ReadonlySet<string>;
  /** The declared result type, which a `return` inside a loop checks against. */
  private declaredResult: ValueType | null = null;
  /** How many loops the statement being lowered is inside. */
  private loopDepth = 0;
  /** Every identifier of the function, so the variables tsgrad adds (`done`, `returned`, a `for...of` index) clash with none. */
  private identifiers: Set<string> | undefined;
  /** The variables a `return` inside a loop sets, named on first use: the flag and the value. */
  private returnVars: { readonly returned: string; readonly result: string } | null = null;

  constructor(
    private readonly modules: Modules,
    private readonly fn: FunctionDeclaration,
    /** The imports of every function of the module so far, by local name: one name, one import. */
    private readonly moduleImports: Map<string, Import>,
  ) {
    this.frame = { fn, file: modules.main, scope: 0 };
    this.calls.push(fn);
    this.ownNames = new Set([
      ...fn.getParameters().map((p) => p.getName()),
      ...fn.getDescendantsOfKind(SyntaxKind.VariableDeclaration).map((d) => d.getName()),
    ]);
  }

  lower(): FunctionIR {
    const fn = this.fn;
    const nameNode = fn.getNameNode() ?? fn;
    const name = fn.getName() ?? "";
    this.checkDeclaration(fn);
    const bodyNode = fn.getBody();
    if (!bodyNode || !Node.isBlock(bodyNode)) throw errorAt(nameNode, `\`${name}\` has no body to differentiate`);

    const params = this.lowerParams();
    const into = this.intoTag(params);
    const returnType = fn.getReturnTypeNode();
    const declaredResult = returnType ? this.valueType(returnType, "the result") : null;
    if (declaredResult === "boolean") {
      throw errorAt(returnType!, "a `boolean` result has no gradient: a differentiable function returns a `number`, an array of numbers or a `Tensor`");
    }
    this.declaredResult = declaredResult;

    // a function with a custom gradient is its forward call and the user's backward
    const args = params.map((p) => ({ atom: valueAtom(p.value), type: p.type }));
    const result = gradientTag(fn)
      ? { ...this.customCall(fn, this.modules.main, args, nameNode, { name: null, version: 1, hint: "value" }), loc: locOf(nameNode) }
      : this.returning(bodyNode.getStatements(), declaredResult);
    if (!result) throw errorAt(nameNode, `\`${name}\` must end with \`return <expression>\``);

    return {
      name,
      params,
      values: this.values,
      body: this.block,
      result: result.atom,
      resultType: result.type,
      runtimeModule: this.runtimeModule,
      returnLoc: result.loc,
      loc: locOf(nameNode),
      imports: [...this.usedImports.values()],
      into,
      jvp: this.fn.getJsDocs().some((d) => d.getTags().some((t) => t.getTagName() === "jvp")),
    };
  }

  /**
   * `@into`: the gradient takes a last, optional argument of arrays to write the array
   * parameters' gradients into, so that a training loop allocates nothing per step.
   */
  private intoTag(params: readonly Param[]): boolean {
    const tag = this.fn.getJsDocs().flatMap((d) => d.getTags()).find((t) => t.getTagName() === "into");
    if (!tag) return false;
    if (!params.some((p) => p.wrt && p.type === "array")) {
      throw errorAt(tag, `@into writes the gradients of array parameters into arrays the caller passes, but \`${this.fn.getName()}\` differentiates no \`number[]\` or \`Float64Array\` parameter`);
    }
    if ((tag.getCommentText() ?? "").trim() !== "") throw errorAt(tag, "@into takes no names: it applies to every differentiated array parameter");
    return true;
  }

  /** What no function tsgrad lowers may be: async, a generator, generic. */
  private checkDeclaration(fn: FunctionDeclaration): void {
    const nameNode = fn.getNameNode() ?? fn;
    if (fn.isAsync()) throw errorAt(fn.getModifiers().find((m) => m.getKind() === SyntaxKind.AsyncKeyword) ?? nameNode, "an `async` function is not supported here: differentiate the synchronous computation");
    if (fn.isGenerator()) throw errorAt(nameNode, "a generator function is not supported here");
    if (fn.getTypeParameters().length > 0) throw errorAt(fn.getTypeParameters()[0]!, "generic functions are not supported yet");
  }

  /**
   * Lowers statements that end in `return`, and gives the result. An `if` with a `return`
   * in an arm splits the rest of the function: the statements after it continue the arm
   * that does not return, so `if (x < 0) return 0; ...; return y` becomes one branch
   * whose arms each produce the result. A loop with a `return` inside is the same split
   * after the loop, on the flag the `return` sets: `returned ? result : (the rest)`. `hint`
   * names the result (`value`, or an inlined function's name).
   */
  private returning(statements: readonly Statement[], declared: ValueType | null, hint = "value"): { atom: Atom; type: ValueType; loc: SourceLoc } | null {
    for (const [i, stmt] of statements.entries()) {
      if (Node.isReturnStatement(stmt)) {
        if (i !== statements.length - 1) throw errorAt(statements[i + 1]!, "unreachable code after `return`");
        const expr = stmt.getExpression();
        if (!expr) throw errorAt(stmt, "`return` needs a value: a differentiable function returns a `number`");
        const r = this.expr(expr, { name: null, version: 1, hint });
        // a helper that is inlined may return anything its caller can use (a boolean)
        if (this.frame.scope === 0 && r.type === "boolean") throw errorAt(expr, "the result must be a number, an array of numbers or a Tensor, not a boolean");
        if (declared && r.type !== declared) throw errorAt(expr, `\`${this.frame.fn.getName()}\` is declared to return a ${declared} but returns a ${r.type}`);
        return { atom: r.atom, type: r.type, loc: locOf(expr) };
      }
      if (Node.isIfStatement(stmt) && containsReturn(stmt)) {
        const rest = statements.slice(i + 1);
        const { cond, then, otherwise, loc } = this.branch(stmt, (own, node) => {
          const last = own[own.length - 1];
          const r = this.returning(last && Node.isReturnStatement(last) ? own : [...own, ...rest], declared, hint);
          if (!r) throw errorAt(node ?? stmt, "this path through the function does not end with `return <expression>`");
          return r;
        });
        return this.returnBranch(stmt, cond, then, otherwise, loc, hint);
      }
      if (isLoopNode(stmt) && containsReturn(stmt)) {
        const rest = statements.slice(i + 1);
        const exits = this.loop(stmt);
        const { returned, result } = this.returnVars!;
        const value = { atom: this.env.get(result)!.atom, type: "number" as ValueType, loc: headerLoc(stmt, loopHeader(stmt)) };
        // `for (;;)` or `while (true)` without `break` only ends by returning (what follows
        // it on this path cannot run)
        if (!exits) return value;
        const { then, otherwise } = this.arms(() => value, () => {
          const r = this.returning(rest, declared, hint);
          if (!r) throw errorAt(stmt, "the function can leave this loop without returning, and no `return <expression>` follows it");
          return r;
        });
        return this.returnBranch(stmt, this.env.get(returned)!.atom, then, otherwise, headerLoc(stmt, loopHeader(stmt)), hint);
      }
      this.statement(stmt);
    }
    return null;
  }

  /** The branch two paths that each return make: its output is the function's result. */
  private returnBranch(
    stmt: Node,
    cond: Atom,
    then: { result: { atom: Atom; type: ValueType }; block: Stmt[] },
    otherwise: { result: { atom: Atom; type: ValueType }; block: Stmt[] },
    loc: SourceLoc,
    hint: string,
  ): { atom: Atom; type: ValueType; loc: SourceLoc } {
    if (then.result.type !== otherwise.result.type) {
      throw errorAt(stmt, `the two paths return different types (${then.result.type} and ${otherwise.result.type})`);
    }
    const out = this.newValue(null, 1, hint, then.result.type);
    this.block.push({ kind: "if", cond, then: then.block, else: otherwise.block, outs: [{ out, then: then.result.atom, else: otherwise.result.atom }], loc });
    return { atom: valueAtom(out), type: then.result.type, loc };
  }

  private lowerParams(): Param[] {
    const wrt = this.wrtNames();
    const params: Param[] = [];
    for (const { name, type, typeText, differentiable } of this.signature(this.fn)) {
      const isWrt = wrt ? wrt.names.has(name) : differentiable;
      if (isWrt && !differentiable) throw errorAt(wrt!.tag, `@wrt names \`${name}\`, a \`${typeText}\`: only \`number\`, \`number[]\`, \`Float64Array\` and \`Tensor\` parameters can be differentiated`);
      const value = this.newValue(name, 1, name, type, true, typeText);
      this.versions.set(name, 1);
      this.env.set(name, { atom: valueAtom(value), type, mutable: true, root: value });
      params.push({ name, typeText, type, value, wrt: isWrt });
    }
    if (wrt) {
      for (const n of wrt.names) {
        if (!params.some((p) => p.name === n)) throw errorAt(wrt.tag, `@wrt names \`${n}\`, which is not a parameter of \`${this.fn.getName()}\``);
      }
    }
    return params;
  }

  /** The names listed by `@wrt` (spaces or commas), or null when the tag is absent. */
  private wrtNames(): { names: Set<string>; tag: Node } | null {
    for (const doc of this.fn.getJsDocs()) {
      for (const tag of doc.getTags()) {
        if (tag.getTagName() !== "wrt") continue;
        const names = (tag.getCommentText() ?? "").split(/[\s,]+/).filter(Boolean);
        if (names.length === 0) throw errorAt(tag, "@wrt needs the names of the parameters to differentiate");
        return { names: new Set(names), tag };
      }
    }
    return null;
  }

  /** The IR type of a declared type; the runtime's `Tensor` type is also imported into the generated module. */
  private valueType(typeNode: Node, what: string): ValueType {
    const text = typeNode.getText().replace(/\s+/g, " ");
    if (text === "number") return "number";
    if (text === "boolean") return "boolean";
    if (ARRAY_TYPE.test(text)) return "array";
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
    throw errorAt(typeNode, `${what} has type \`${text}\`: supported types are \`number\`, \`boolean\`, the runtime's \`Tensor\`, and arrays of numbers`);
  }

  private newValue(name: string | null, version: number, hint: string, type: ValueType, param = false, typeText?: string): number {
    const id = this.values.length;
    this.values.push({ id, name, version, hint, type, param, typeText, scope: this.frame.scope });
    return id;
  }

  // ---- statements ------------------------------------------------------------------

  private statement(stmt: Statement): void {
    if (Node.isVariableStatement(stmt)) {
      const kind = stmt.getDeclarationKind();
      if (kind === "var") throw errorAt(stmt, "`var` is not supported: use `let` or `const`");
      for (const decl of stmt.getDeclarations()) this.declare(decl, kind === "let");
      return;
    }
    if (Node.isExpressionStatement(stmt)) return this.expressionStatement(stmt.getExpression());
    if (Node.isIfStatement(stmt)) return this.ifStatement(stmt);
    if (isLoopNode(stmt)) {
      this.loop(stmt);
      return;
    }
    if (Node.isLabeledStatement(stmt)) {
      throw errorAt(stmt.getLabel(), "a labelled statement is not supported yet: instead of `break outer` or `continue outer`, set a flag in the inner loop and test it in the outer one");
    }
    if (isJump(stmt)) {
      // a loop body lowers its own jumps (loopBody); this one is outside any loop
      throw errorAt(stmt, Node.isReturnStatement(stmt) ? "`return` is not supported here" : describeUnsupported(stmt));
    }
    throw errorAt(stmt, describeUnsupported(stmt));
  }

  private declare(decl: import("ts-morph").VariableDeclaration, mutable: boolean): void {
    const nameNode = decl.getNameNode();
    if (!Node.isIdentifier(nameNode)) throw errorAt(nameNode, "destructuring is not supported yet");
    const name = nameNode.getText();
    const init = decl.getInitializer();
    if (!init) throw errorAt(decl, `\`let ${name}\` without an initial value is not supported yet: write \`let ${name} = ...\``);
    if (this.env.has(name)) throw errorAt(nameNode, `\`${name}\` is already declared in this function`);
    const typeNode = decl.getTypeNode();
    const declared = typeNode ? this.valueType(typeNode, `\`${name}\``) : null;
    const r = this.assign({ name, version: this.nextVersion(name), hint: name }, init, init);
    if (declared && declared !== r.type) throw errorAt(init, `\`${name}\` is declared \`${declared}\` but its value is a ${r.type}`);
    if (r.type === "array" && declared && typeNode && !DIFFERENTIABLE_ARRAY.test(typeNode.getText())) {
      throw errorAt(typeNode, `a local array is a \`number[]\` or a \`Float64Array\`, not a \`${typeNode.getText()}\``);
    }
    this.env.set(name, { atom: r.atom, type: r.type, mutable, root: r.type === "array" ? (r.atom as Atom & { kind: "value" }).id : undefined });
  }

  /** An expression used as a statement: an assignment, `i++`, or a comma list of those (a `for` update). */
  private expressionStatement(expr: Expression): void {
    if (Node.isParenthesizedExpression(expr)) return this.expressionStatement(expr.getExpression());
    if (Node.isBinaryExpression(expr)) {
      const op = expr.getOperatorToken().getText();
      if (op in ASSIGNMENT_OPS) return this.assignment(expr.getLeft(), op, expr.getRight(), expr);
      if (op === ",") {
        this.expressionStatement(expr.getLeft());
        return this.expressionStatement(expr.getRight());
      }
    }
    if (Node.isPrefixUnaryExpression(expr) || Node.isPostfixUnaryExpression(expr)) return this.increment(expr);
    if (isPush(expr)) return this.push(expr);
    throw errorAt(expr, "an expression statement other than an assignment or `a.push(v)` is not supported: its value would be discarded");
  }

  private nextVersion(name: string): number {
    const v = (this.versions.get(name) ?? 0) + 1;
    this.versions.set(name, v);
    return v;
  }

  /**
   * `if (c) A else B`: each arm is lowered on its own copy of the variables; a variable
   * either arm assigns gets a merged value after the branch (a phi node).
   */
  private ifStatement(stmt: IfStatement): void {
    const before = this.env;
    const { cond, then, otherwise, loc } = this.branch(stmt, (own) => own.forEach((s) => this.statement(s)));
    this.merge(before, cond, then, otherwise, loc);
  }

  /** Pushes a branch whose arms were lowered from the variables `before`, merging what they assign (phi nodes). */
  private merge(
    before: ReadonlyMap<string, Binding>,
    cond: Atom,
    then: { block: Stmt[]; env: ReadonlyMap<string, Binding> },
    otherwise: { block: Stmt[]; env: ReadonlyMap<string, Binding> },
    loc: SourceLoc,
  ): void {
    const outs: { out: number; then: Atom; else: Atom }[] = [];
    for (const [name, binding] of before) {
      const a = then.env.get(name)!.atom;
      const b = otherwise.env.get(name)!.atom;
      if (sameAtom(a, binding.atom) && sameAtom(b, binding.atom)) continue;
      const out = this.newValue(name, this.nextVersion(name), name, binding.type);
      outs.push({ out, then: a, else: b });
      this.env.set(name, { ...binding, atom: valueAtom(out) });
    }
    this.block.push({ kind: "if", cond, then: then.block, else: otherwise.block, outs, loc });
  }

  /**
   * The shared half of both kinds of `if`: the condition, then each arm lowered by `arm` on
   * its own copy of the variables and into its own block. The variables are restored after.
   */
  private branch<T>(stmt: IfStatement, arm: (statements: Statement[], node: Statement | undefined) => T) {
    const condition = stmt.getExpression();
    const c = this.expr(condition);
    if (c.type !== "boolean") throw errorAt(condition, "a condition must be a comparison or another boolean, not a number");
    const statementsOf = (node: Statement | undefined) => (node === undefined ? [] : Node.isBlock(node) ? node.getStatements() : [node]);
    const { then, otherwise } = this.arms(
      () => arm(statementsOf(stmt.getThenStatement()), stmt.getThenStatement()),
      () => arm(statementsOf(stmt.getElseStatement()), stmt.getElseStatement()),
    );
    return { cond: c.atom, then, otherwise, loc: headerLoc(stmt, `if (${condition.getText()})`) };
  }

  /** Lowers two arms of a branch, each on its own copy of the variables and into its own block; the variables are restored after. */
  private arms<A, B>(thenArm: () => A, elseArm: () => B) {
    const outer = this.block;
    const before = this.env;
    const lower = <T>(arm: () => T) => {
      this.env = new Map(before);
      this.block = [];
      const result = arm();
      return { result, block: this.block, env: this.env };
    };
    const then = lower(thenArm);
    const otherwise = lower(elseArm);
    this.block = outer;
    this.env = new Map(before);
    return { then, otherwise };
  }

  /** `i++`, `++i`, `i--`, `--i` as a statement: `i += 1` / `i -= 1`. */
  private increment(expr: Node & { getOperand(): Node; getOperatorToken(): SyntaxKind }): void {
    const operator = expr.getOperatorToken();
    if (operator !== SyntaxKind.PlusPlusToken && operator !== SyntaxKind.MinusMinusToken) {
      throw errorAt(expr, "an expression statement other than an assignment is not supported: its value would be discarded");
    }
    const operand = expr.getOperand();
    const one = { atom: constAtom(1), type: "number" as ValueType };
    if (Node.isElementAccessExpression(operand)) return this.elementWrite(operand, operator === SyntaxKind.PlusPlusToken ? "+=" : "-=", () => one, expr);
    this.assignTo(operand, expr, (binding, target) =>
      this.op(operator === SyntaxKind.PlusPlusToken ? "+" : "-", [{ atom: binding.atom, type: binding.type }, one], expr, target));
  }

  /**
   * `for (init; test; update) body`, `while (test) body` and `do body while (test)`, as one
   * loop region. The variables the loop assigns become loop-carried values (a phi at the
   * top of each iteration); variables declared inside the loop are local to it.
   *
   * Leaving an iteration early becomes variables the condition reads (see `loopBody`):
   * `break` sets a flag `done` and the condition becomes `!done && test`; a `do` loop
   * computes its test at the end of the body into `again`, which is the condition (and
   * which `break` sets to false); `return` sets `returned` and `result`, which enclosing
   * loops carry out to where `returning` continues. Gives whether the loop can end
   * without returning.
   */
  private loop(stmt: LoopNode): boolean {
    const kind = Node.isForStatement(stmt) || Node.isForOfStatement(stmt) ? "for" : Node.isWhileStatement(stmt) ? "while" : "do";
    const returns = containsReturn(stmt);
    if (returns) this.enterReturningLoop(stmt);
    const outerNames = new Set(this.env.keys());
    // `for (const v of xs)` runs as `for (let i = 0; i < xs.length; i++) { const v = xs[i]; ... }`
    const over = Node.isForOfStatement(stmt) ? this.forOfParts(stmt) : null;
    if (over) this.env.set(over.index, { atom: constAtom(0), type: "number", mutable: true });
    if (Node.isForStatement(stmt)) {
      const init = stmt.getInitializer();
      if (init && Node.isVariableDeclarationList(init)) {
        if (init.getDeclarationKind() !== "let") throw errorAt(init, "declare a `for` loop's variable with `let`");
        for (const decl of init.getDeclarations()) this.declare(decl, true);
      } else if (init) {
        this.expressionStatement(init as Expression);
      }
    }
    const test = Node.isForStatement(stmt) ? stmt.getCondition() : Node.isForOfStatement(stmt) ? undefined : stmt.getExpression();
    /** No condition (`for (;;)`) or `while (true)`: only a `break` or `return` ends it. */
    const endless = !over && (!test || Node.isTrueLiteral(test));
    const update = Node.isForStatement(stmt) ? stmt.getIncrementor() : undefined;
    const body = stmt.getStatement();
    const breaks = breaksOut(stmt);
    if (endless && !breaks && !returns) {
      throw errorAt(stmt, "this loop has no condition and no `break` or `return` inside: it would never end");
    }

    // what the loop assigns, among the variables that exist before it
    const assigned = new Set<string>();
    const noteTarget = (n: Node) => {
      // an element write or a push changes the array: it is carried round the loop too
      if (Node.isElementAccessExpression(n) || Node.isPropertyAccessExpression(n)) n = n.getExpression();
      if (Node.isIdentifier(n) && this.env.has(n.getText())) assigned.add(n.getText());
    };
    stmt.forEachDescendant((n) => {
      if (Node.isBinaryExpression(n) && n.getOperatorToken().getText() in ASSIGNMENT_OPS) noteTarget(n.getLeft());
      if ((Node.isPrefixUnaryExpression(n) || Node.isPostfixUnaryExpression(n)) && Node.isIdentifier(n.getOperand())) noteTarget(n.getOperand());
      if (isPush(n)) noteTarget(n.getExpression());
    });
    if (returns) {
      assigned.add(this.returnVars!.result);
      assigned.add(this.returnVars!.returned);
    }
    if (over) assigned.add(over.index);
    const again = kind === "do" && !endless ? this.flag("again", true) : null;
    const done = breaks && again === null ? this.flag("done", false) : null;
    for (const name of [again, done]) if (name !== null) assigned.add(name);
    const steps = this.newValue(null, 1, "steps", "number");
    const carried: { name: string | null; phi: number; init: Atom }[] = [{ name: null, phi: steps, init: constAtom(0) }];
    for (const name of assigned) {
      const binding = this.env.get(name)!;
      if (!binding.mutable && binding.type !== "array") continue; // the assignment reports the error
      const phi = this.newValue(name, this.nextVersion(name), name, binding.type);
      carried.push({ name, phi, init: binding.atom });
      this.env.set(name, { ...binding, atom: valueAtom(phi) });
    }
    const before = new Map(this.env);
    const outer = this.block;
    this.loopDepth++;

    const testBlock: Stmt[] = [];
    this.block = testBlock;
    const where = test ?? stmt;
    const parts: { atom: Atom; type: ValueType }[] = [];
    if (returns) parts.push(this.op("!", [this.env.get(this.returnVars!.returned)!], where));
    if (done !== null) parts.push(this.op("!", [this.env.get(done)!], where));
    if (again !== null) {
      parts.push(this.env.get(again)!);
    } else if (over) {
      const length = this.op("length", [this.expr(over.array)], where);
      parts.push(this.op("<", [this.env.get(over.index)!, length], where));
    } else if (kind !== "do" && !endless) {
      const c = this.expr(test!);
      if (c.type !== "boolean") throw errorAt(test!, "a loop condition must be a comparison or another boolean, not a number");
      parts.push(c);
    }
    const cond = parts.reduce((a, b) => this.op("&&", [a, b], where));

    const bodyBlock: Stmt[] = [];
    this.block = bodyBlock;
    /** The end of an iteration, which `continue` goes to: a `for` update, a `do` test. It sees only the variables the loop sees. */
    const tail = () => this.inScope(before, () => {
      if (update) this.expressionStatement(update);
      if (over) {
        const next = this.op("+", [this.env.get(over.index)!, { atom: constAtom(1), type: "number" }], stmt, { name: over.index, version: this.nextVersion(over.index), hint: over.index });
        this.env.set(over.index, { atom: next.atom, type: "number", mutable: true });
      }
      if (again !== null) {
        const r = this.assign({ name: again, version: this.nextVersion(again), hint: again }, test!, test!);
        if (r.type !== "boolean") throw errorAt(test!, "a loop condition must be a comparison or another boolean, not a number");
        this.env.set(again, { atom: r.atom, type: "boolean", mutable: true });
      }
    });
    // after a `break` the tail must not run when it would change what the loop leaves
    // behind (an outer variable's update, the `do` test that `break` set to false); else
    // it follows the whole body once
    const tailInPaths = breaks && (again !== null || (update !== undefined && writesAny(update, outerNames)));
    const leave = () => {
      if (again !== null) this.env.set(again, { atom: constAtom(false), type: "boolean", mutable: true });
      else this.env.set(done!, { atom: constAtom(true), type: "boolean", mutable: true });
    };
    if (over) {
      // the element, read at the top of each iteration
      const element = this.op("index", [this.expr(over.array), this.env.get(over.index)!], over.decl, { name: over.element, version: this.nextVersion(over.element), hint: over.element });
      this.env.set(over.element, { atom: element.atom, type: "number", mutable: over.mutable });
    }
    this.loopBody(Node.isBlock(body) ? body.getStatements() : [body], { tail: tailInPaths ? tail : null, leave });
    if (!tailInPaths) tail();
    const counterNext = this.op("+", [{ atom: valueAtom(steps), type: "number" }, { atom: constAtom(1), type: "number" }], stmt, { name: null, version: 1, hint: "steps" });

    this.loopDepth--;
    this.block = outer;
    const bodyEnv = this.env;
    this.env = new Map([...before].filter(([name]) => outerNames.has(name)));
    const loopCarried = carried.map((c) => ({
      phi: c.phi,
      init: c.init,
      next: c.name === null ? counterNext.atom : bodyEnv.get(c.name)!.atom,
    }));
    const loop = {
      kind: "loop" as const,
      test: testBlock,
      cond: cond.atom,
      body: bodyBlock,
      carried: loopCarried,
      counter: steps,
      counted: Node.isForStatement(stmt) ? this.countedBounds(stmt, testBlock, bodyBlock, cond.atom, carried, loopCarried)
        : over && !breaks && !returns && !pushesOnto(stmt, over.array.getText()) ? { lo: constAtom(0), hi: valueAtom(testBlock.find((t): t is OpStmt => t.kind === "op" && t.op === "length")!.out), inclusive: false } : null,
      loc: headerLoc(stmt, loopHeader(stmt)),
    };
    this.block.push(loop);
    return !endless || breaks;
  }

  /** `for (const v of xs)`: the element's name, the array (a variable, read afresh where the loop reads it), and a fresh index. */
  private forOfParts(stmt: import("ts-morph").ForOfStatement) {
    if (stmt.isAwaited()) throw errorAt(stmt, "`for await` is not supported here");
    const init = stmt.getInitializer();
    if (!Node.isVariableDeclarationList(init) || init.getDeclarations().length !== 1) {
      throw errorAt(init, "write `for (const v of xs)`: one new variable for the element");
    }
    const decl = init.getDeclarations()[0]!;
    const nameNode = decl.getNameNode();
    if (!Node.isIdentifier(nameNode)) throw errorAt(nameNode, "destructuring is not supported yet");
    const element = nameNode.getText();
    if (this.env.has(element)) throw errorAt(nameNode, `\`${element}\` is already declared in this function`);
    const array = stmt.getExpression();
    const binding = Node.isIdentifier(array) ? this.env.get(array.getText()) : undefined;
    if (binding?.type !== "array") {
      throw errorAt(array, `\`for...of\` runs over an array variable here (\`for (const v of xs)\`), and \`${array.getText()}\` is ${binding ? `a ${binding.type}` : "not one"}`);
    }
    return { array, element, index: this.freshName("i"), decl, mutable: init.getDeclarationKind() === "let" };
  }

  /**
   * Lowers a loop body, where an iteration may end early. The statements after an `if`
   * that can `break`, `continue` or `return` continue the arm that does not (as `returning`
   * does for the function), so each path through the body ends one way: falling off the
   * end or `continue` (both run `tail` when it is given: a `for` update or a `do` test that
   * a `break` must skip), `break` (`leave`), or `return` (`returned` and `result` set).
   */
  private loopBody(statements: readonly Statement[], exits: { tail: (() => void) | null; leave: () => void }): void {
    for (const [i, stmt] of statements.entries()) {
      const rest = statements.slice(i + 1);
      if (isJump(stmt)) {
        const word = Node.isBreakStatement(stmt) ? "break" : Node.isContinueStatement(stmt) ? "continue" : "return";
        if (rest.length > 0) throw errorAt(rest[0]!, `unreachable code after \`${word}\``);
        if (!Node.isReturnStatement(stmt) && stmt.getLabel()) {
          throw errorAt(stmt, `\`${word}\` with a label is not supported yet: set a flag in the inner loop and test it in the outer one`);
        }
        if (Node.isBreakStatement(stmt)) exits.leave();
        else if (Node.isContinueStatement(stmt)) exits.tail?.();
        else this.returnFromLoop(stmt);
        return;
      }
      if (Node.isIfStatement(stmt) && jumpsInside(stmt)) {
        const before = this.env;
        const { cond, then, otherwise, loc } = this.branch(stmt, (own) => {
          const last = own[own.length - 1];
          this.loopBody(last && isJump(last) ? own : [...own, ...rest], exits);
        });
        this.merge(before, cond, then, otherwise, loc);
        return;
      }
      if (isLoopNode(stmt) && containsReturn(stmt)) {
        this.loop(stmt);
        if (rest.length === 0) break;
        // once the inner loop has returned, the rest of this iteration is skipped
        const before = this.env;
        const returned = this.env.get(this.returnVars!.returned)!.atom;
        const { then, otherwise } = this.arms(() => undefined, () => this.loopBody(rest, exits));
        this.merge(before, returned, then, otherwise, headerLoc(stmt, loopHeader(stmt)));
        return;
      }
      this.statement(stmt);
    }
    exits.tail?.();
  }

  /** `return e` inside a loop: `result = e; returned = true`, and the loop ends. */
  private returnFromLoop(stmt: ReturnStatement): void {
    const expr = stmt.getExpression();
    if (!expr) throw errorAt(stmt, "`return` needs a value: a differentiable function returns a `number`");
    const { returned, result } = this.returnVars!;
    const r = this.assign({ name: result, version: this.nextVersion(result), hint: result }, expr, expr);
    if (r.type !== "number") {
      throw errorAt(expr, r.type === "tensor"
        ? "returning a Tensor from inside a loop is not supported yet: assign it to a variable and return that after the loop"
        : `the result must be a number or a Tensor, not a ${r.type}`);
    }
    this.env.set(result, { atom: r.atom, type: "number", mutable: true });
    this.env.set(returned, { atom: constAtom(true), type: "boolean", mutable: true });
  }

  /**
   * Before a loop with a `return` inside: the variables the `return` sets. They start
   * `false` and `0` wherever a loop starts outside another (the function has not returned
   * there); a loop inside another carries on the outer loop's.
   */
  private enterReturningLoop(stmt: LoopNode): void {
    if (this.declaredResult === "tensor") {
      const first = stmt.getDescendantsOfKind(SyntaxKind.ReturnStatement)[0] ?? stmt;
      throw errorAt(first, "`return` inside a loop is not supported yet in a function that returns a Tensor: assign the result to a variable and return it after the loop");
    }
    this.returnVars ??= { returned: this.freshName("returned"), result: this.freshName("result") };
    const { returned, result } = this.returnVars;
    if (this.loopDepth > 0 && this.env.has(returned)) return;
    this.env.set(result, { atom: constAtom(0), type: "number", mutable: true });
    this.env.set(returned, { atom: constAtom(false), type: "boolean", mutable: true });
  }

  /** A boolean variable tsgrad adds for a loop (`done`, `again`), starting at `init`. */
  private flag(base: string, init: boolean): string {
    const name = this.freshName(base);
    this.env.set(name, { atom: constAtom(init), type: "boolean", mutable: true });
    return name;
  }

  /** `base`, or `base2`, `base3`, ...: a name no identifier of the function and no variable in scope has. */
  private freshName(base: string): string {
    // the function being compiled, and the one being inlined into it
    this.identifiers ??= new Set(this.fn.getDescendantsOfKind(SyntaxKind.Identifier).map((n) => n.getText()));
    const here = this.frame.fn === this.fn ? this.identifiers : new Set(this.frame.fn.getDescendantsOfKind(SyntaxKind.Identifier).map((n) => n.getText()));
    let name = base;
    for (let k = 2; this.identifiers.has(name) || here.has(name) || this.env.has(name); k++) name = `${base}${k}`;
    return name;
  }

  /** Runs `lower` seeing only the variables of `scope` (a `for` update cannot see the body's `const`s); what it assigns stays assigned. */
  private inScope(scope: ReadonlyMap<string, Binding>, lower: () => void): void {
    const full = this.env;
    this.env = new Map([...full].filter(([name]) => scope.has(name)));
    lower();
    const changed = this.env;
    this.env = full;
    for (const [name, binding] of changed) full.set(name, binding);
  }

  /**
   * The bounds of a counted loop `for (let i = lo; i < hi; i++)` (or `<=`): the index
   * steps by 1, nothing else assigns it, and `hi` does not change inside the loop.
   */
  private countedBounds(
    stmt: Node,
    test: readonly Stmt[],
    body: readonly Stmt[],
    cond: Atom,
    carried: readonly { name: string | null; phi: number; init: Atom }[],
    loopCarried: readonly { phi: number; init: Atom; next: Atom }[],
  ): LoopStmt["counted"] {
    const compare = test.find((t): t is OpStmt => t.kind === "op" && cond.kind === "value" && t.out === cond.id);
    if (!compare || (compare.op !== "<" && compare.op !== "<=")) return null;
    const [left, hi] = compare.args;
    const index = carried.find((c) => c.name !== null && left!.kind === "value" && c.phi === left!.id);
    if (!index) return null;
    const next = loopCarried.find((c) => c.phi === index.phi)!.next;
    const update = next.kind === "value" ? findOp(body, next.id) : null;
    const stepsByOne = update?.op === "+" && update.args[0]!.kind === "value" && update.args[0]!.id === index.phi &&
      update.args[1]!.kind === "const" && update.args[1]!.value === 1;
    if (!stepsByOne) return null;
    // the index is assigned once per iteration, by the update
    const assignments = stmt.getDescendants().filter((n) =>
      (Node.isBinaryExpression(n) && n.getOperatorToken().getText() in ASSIGNMENT_OPS && n.getLeft().getText() === this.values[index.phi]!.name) ||
      ((Node.isPrefixUnaryExpression(n) || Node.isPostfixUnaryExpression(n)) && n.getOperand().getText() === this.values[index.phi]!.name));
    if (assignments.length !== 1) return null;
    // hi is fixed: a constant, a value from before the loop, or computed in the test from
    // those; an array the loop writes into but never pushes onto keeps its length
    const phis = new Set(loopCarried.map((c) => c.phi));
    const lengthOnly = (def: OpStmt | undefined) => def?.op === "length";
    const fixed = (a: Atom, parent?: OpStmt): boolean => {
      if (a.kind === "const") return true;
      const v = this.values[a.id]!;
      if (phis.has(a.id) && v.type === "array" && lengthOnly(parent) && !pushesOnto(stmt, v.name ?? "")) return true;
      if (phis.has(a.id)) return false;
      const def = test.find((t): t is OpStmt => t.kind === "op" && t.out === a.id);
      return def ? def.args.every((x) => fixed(x, def)) : true;
    };
    if (!fixed(hi!)) return null;
    return { lo: index.init, hi: hi!, inclusive: compare.op === "<=" };
  }

  private assignment(left: Expression, op: string, right: Expression, whole: Expression): void {
    if (Node.isElementAccessExpression(left)) return this.elementWrite(left, op, () => this.expr(right), whole);
    const binop = ASSIGNMENT_OPS[op];
    this.assignTo(left, whole, (binding, target) => {
      if (!binop) return this.assign(target, right, whole);
      return this.op(binop, [{ atom: binding.atom, type: binding.type }, this.expr(right)], whole, target);
    }, right);
  }

  /** Writes a new value of the local variable `left`, computed by `compute` from its current binding. */
  private assignTo(
    left: Node,
    whole: Node,
    compute: (binding: Binding, target: Target) => { atom: Atom; type: ValueType },
    right: Node = whole,
  ): void {
    if (!Node.isIdentifier(left)) throw errorAt(left, "assigning to anything but a local variable or an element of a local array is not supported");
    const name = left.getText();
    const binding = this.env.get(name);
    if (!binding) throw this.outsideWrite(left, name);
    if (!binding.mutable) throw errorAt(left, `cannot assign to \`${name}\` because it is a constant`);
    if (binding.type === "array") throw errorAt(left, `reassigning the array \`${name}\` is not supported: write into its elements, or give the new array its own name`);
    const target: Target = { name, version: this.nextVersion(name), hint: name };
    const r = compute(binding, target);
    if (r.type !== binding.type) throw errorAt(right, `\`${name}\` holds a ${binding.type}; assigning a ${r.type} is not supported`);
    this.env.set(name, { ...binding, atom: r.atom });
  }

  /**
   * `a[i] = v`, `a[i] += v`, `a[i] -= v` (other operators read the element first): a new
   * value of the array, written in place by the emitted code.
   */
  private elementWrite(left: import("ts-morph").ElementAccessExpression, op: string, right: () => { atom: Atom; type: ValueType }, whole: Node): void {
    const array = left.getExpression();
    const at = left.getArgumentExpression();
    if (!at) throw errorAt(left, "an element write needs an index");
    const { name, binding } = this.writableArray(array, whole);
    const target: Target = { name, version: this.nextVersion(name), hint: name };
    const a = { atom: binding.atom, type: binding.type };
    const i = this.expr(at);
    let key = op === "=" ? "store" : op === "+=" ? "storeAdd" : op === "-=" ? "storeSub" : null;
    let v = right();
    if (!key) {
      const element = this.op("index", [a, i], left);
      v = this.op(ASSIGNMENT_OPS[op]!, [element, v], whole);
      key = "store";
    }
    const r = this.op(key, [a, i, v], whole, target);
    this.env.set(name, { ...binding, atom: r.atom });
  }

  /** `a.push(v)`: the value goes in at the array's old length, where the backward pass finds its gradient. */
  private push(call: import("ts-morph").CallExpression): void {
    const receiver = (call.getExpression() as import("ts-morph").PropertyAccessExpression).getExpression();
    const { name, binding } = this.writableArray(receiver, call);
    const root = this.values[binding.root!]!;
    if (root.typeText !== "number[]") throw errorAt(call, `\`${name}\` is a ${root.typeText}, whose length is fixed: only a \`number[]\` can grow with \`push\``);
    const args = call.getArguments();
    if (args.length !== 1) throw errorAt(call, "`push` takes one value here: push several with one call each");
    const a = { atom: binding.atom, type: binding.type };
    const at = this.op("length", [a], call);
    const v = this.expr(args[0] as Expression);
    const r = this.op("push", [a, at, v], call, { name, version: this.nextVersion(name), hint: name });
    this.env.set(name, { ...binding, atom: r.atom });
  }

  /** Writing a variable (or an array's element) that is not the function's own. */
  private outsideWrite(node: Node, name: string): CompileError {
    const where = this.frame.file.getVariableDeclaration(name) ? "is a module-level variable" : `is not a local variable of \`${this.frame.fn.getName()}\``;
    return errorAt(node, `\`${name}\` ${where}: writing to state outside the function is not supported (the gradient could not see it)`);
  }

  /** The local array an element write or a push changes; parameters and outside state are not writable. */
  private writableArray(array: Node, whole: Node): { name: string; binding: Binding } {
    if (!Node.isIdentifier(array)) throw errorAt(array, "only a local array variable can be written into (`a[i] = v`)");
    const name = array.getText();
    const binding = this.env.get(name);
    if (!binding) throw this.outsideWrite(array, name);
    if (binding.type !== "array") throw errorAt(array, `\`${name}\` is a ${binding.type}, not an array: only arrays of numbers can be written by element`);
    // an array a called function receives belongs to its caller: it has no root here
    const root = binding.root === undefined ? null : this.values[binding.root]!;
    if (!root || root.param) {
      throw errorAt(whole, `writing into the parameter \`${name}\` is not supported: it would change the caller's array. Write into a copy instead (\`const y = ${name}.slice()\`)`);
    }
    return { name, binding };
  }

  /** Evaluates `expr` into a new value named by `target` (a copy when it is just an atom). */
  private assign(target: Target, expr: Expression, whole: Node): { atom: Atom; type: ValueType } {
    const r = this.expr(expr, target);
    const fresh = r.atom.kind === "value" && this.values[r.atom.id]!.name === target.name && this.values[r.atom.id]!.version === target.version;
    if (fresh) return r;
    if (r.type === "array") {
      throw errorAt(expr, `\`${target.name}\` would be a second name for the array \`${expr.getText()}\`: use that name, or build a new array (\`new Array<number>(n).fill(0)\`) and copy into it`);
    }
    return this.op("id", [r], whole, target);
  }

  // ---- expressions -----------------------------------------------------------------

  private expr(node: Expression, target?: Target): { atom: Atom; type: ValueType } {
    if (Node.isParenthesizedExpression(node)) return this.expr(node.getExpression(), target);
    if (Node.isNumericLiteral(node)) return { atom: constAtom(numberOf(node)), type: "number" };
    if (Node.isTrueLiteral(node)) return { atom: constAtom(true), type: "boolean" };
    if (Node.isFalseLiteral(node)) return { atom: constAtom(false), type: "boolean" };
    if (Node.isIdentifier(node)) return this.identifier(node);
    if (Node.isPropertyAccessExpression(node)) {
      const member = node.getName();
      if (member === "length" && Node.isIdentifier(node.getExpression()) && this.env.get(node.getExpression().getText())?.type === "array") {
        return this.op("length", [this.expr(node.getExpression())], node, target);
      }
      if (node.getExpression().getText() === "Math" && member in MATH_CONSTANTS) {
        return { atom: constAtom(MATH_CONSTANTS[member]!, `Math.${member}`), type: "number" };
      }
      throw errorAt(node, `property access \`${node.getText()}\` is not supported yet (objects are outside this version's subset)`);
    }
    if (Node.isPrefixUnaryExpression(node)) {
      const operand = node.getOperand();
      switch (node.getOperatorToken()) {
        case SyntaxKind.MinusToken:
          if (Node.isNumericLiteral(operand)) return { atom: constAtom(-numberOf(operand)), type: "number" };
          return this.op("neg", [this.expr(operand)], node, target);
        case SyntaxKind.PlusToken:
          return this.expr(operand, target);
        case SyntaxKind.ExclamationToken:
          return this.op("!", [this.expr(operand)], node, target);
        default:
          throw errorAt(node, "`++`, `--` and `~` are not supported yet");
      }
    }
    if (Node.isBinaryExpression(node)) {
      const token = node.getOperatorToken().getText();
      if (token in ASSIGNMENT_OPS) throw errorAt(node, "an assignment inside an expression is not supported: write it as its own statement");
      const op = LOOSE_EQUALITY[token] ?? token;
      if (!BINARY_OPS.has(op)) throw errorAt(node.getOperatorToken(), `the \`${token}\` operator is not supported yet`);
      return this.op(op, [this.expr(node.getLeft()), this.expr(node.getRight())], node, target);
    }
    if (Node.isConditionalExpression(node)) return this.conditional(node, target);
    if (Node.isArrayLiteralExpression(node)) {
      const items = node.getElements().map((e) => {
        if (Node.isSpreadElement(e) || Node.isOmittedExpression(e)) throw errorAt(e, "an array literal lists its numbers one by one here (no spread, no holes)");
        return this.expr(e);
      });
      return this.op("array.of", items, node, target, "number[]");
    }
    if (Node.isNewExpression(node)) return this.newArray(node, target);
    if (Node.isCallExpression(node)) {
      const callee = node.getExpression();
      if (Node.isPropertyAccessExpression(callee) && callee.getName() === "fill") return this.filledArray(node, callee, target);
      if (Node.isPropertyAccessExpression(callee) && callee.getName() === "slice") {
        // `x.slice()` copies an array variable: a new array, of the same kind
        const source = Node.isIdentifier(callee.getExpression()) ? this.env.get(callee.getExpression().getText()) : undefined;
        if (source?.type === "array") {
          if (node.getArguments().length > 0) throw errorAt(node, "`slice` copies a whole array here: `x.slice()`; copy a part with a loop");
          const kind = source.root === undefined ? "number[]" : this.values[source.root]!.typeText;
          return this.op("array.copy", [{ atom: source.atom, type: source.type }], node, target, kind === "Float64Array" ? "Float64Array" : "number[]");
        }
      }
      return this.call(node, target);
    }
    if (Node.isElementAccessExpression(node)) {
      const array = node.getExpression();
      const arg = node.getArgumentExpression();
      const a = this.expr(array);
      if (a.type !== "array") throw errorAt(array, `only arrays of numbers can be indexed here, and \`${array.getText()}\` is a ${a.type}`);
      if (!arg) throw errorAt(node, "an element read needs an index");
      return this.op("index", [a, this.expr(arg)], node, target);
    }
    throw errorAt(node, describeUnsupported(node));
  }

  /** `new Float64Array(n)`: n zeros. */
  private newArray(node: import("ts-morph").NewExpression, target?: Target) {
    const ctor = node.getExpression().getText();
    const args = node.getArguments();
    if (ctor === "Float64Array" && args.length === 1) {
      const n = this.expr(args[0] as Expression);
      if (n.type === "number") return this.op("array.zeros", [n], node, target, "Float64Array");
    }
    if (ctor === "Array") throw errorAt(node, "`new Array(n)` has holes: write `new Array<number>(n).fill(0)`");
    throw errorAt(node, `\`new ${ctor}(...)\` is not supported: local arrays are \`new Array<number>(n).fill(0)\`, \`new Float64Array(n)\` or a literal \`[a, b, c]\``);
  }

  /** `new Array(n).fill(0)` (or `new Array<number>(n)`, `Array(n)`): n zeros in a `number[]`. */
  private filledArray(node: import("ts-morph").CallExpression, callee: import("ts-morph").PropertyAccessExpression, target?: Target) {
    const made = callee.getExpression();
    const ctor = Node.isNewExpression(made) || Node.isCallExpression(made) ? made.getExpression().getText() : "";
    const sizes = Node.isNewExpression(made) || Node.isCallExpression(made) ? made.getArguments() : [];
    const fill = node.getArguments();
    if (ctor !== "Array" || sizes.length !== 1) {
      throw errorAt(node, "`.fill` is supported only as `new Array<number>(n).fill(0)`, which makes a local array of zeros");
    }
    if (fill.length !== 1 || !Node.isNumericLiteral(fill[0]!) || Number(fill[0]!.getText()) !== 0) {
      throw errorAt(fill[0] ?? node, "a new array starts as zeros here: `.fill(0)`, then write its elements");
    }
    const n = this.expr(sizes[0] as Expression);
    if (n.type !== "number") throw errorAt(sizes[0]!, "an array's length must be a number");
    return this.op("array.zeros", [n], node, target, "number[]");
  }

  private identifier(node: Node): { atom: Atom; type: ValueType } {
    const name = node.getText();
    const binding = this.env.get(name);
    if (binding) return { atom: binding.atom, type: binding.type };
    if (name === "Infinity") return { atom: constAtom(Infinity), type: "number" };
    if (name === "NaN") return { atom: constAtom(NaN), type: "number" };
    const declared = this.frame.file.getVariableDeclaration(name);
    if (declared) throw errorAt(node, `\`${name}\` is a module-level variable: reading it is not supported yet, pass it as a parameter`);
    throw errorAt(node, `\`${name}\` is not a parameter or local variable of \`${this.frame.fn.getName()}\``);
  }

  private conditional(node: Node & { getCondition(): Expression; getWhenTrue(): Expression; getWhenFalse(): Expression }, target?: Target) {
    const c = this.expr(node.getCondition());
    if (c.type !== "boolean") throw errorAt(node.getCondition(), "a condition must be a comparison or another boolean, not a number");
    const outer = this.block;
    const thenBlock: Stmt[] = [];
    const elseBlock: Stmt[] = [];
    this.block = thenBlock;
    const a = this.expr(node.getWhenTrue());
    this.block = elseBlock;
    const b = this.expr(node.getWhenFalse());
    this.block = outer;
    if (a.type !== b.type) throw errorAt(node, `the branches of \`?:\` must have the same type (here ${a.type} and ${b.type})`);
    if (a.type === "array") throw errorAt(node, "choosing between two arrays with `?:` is not supported: choose between their elements");
    const out = this.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? "picked", a.type);
    this.block.push({ kind: "if", cond: c.atom, then: thenBlock, else: elseBlock, outs: [{ out, then: a.atom, else: b.atom }], loc: locOf(node) });
    return { atom: valueAtom(out), type: a.type };
  }

  private call(node: Node & { getExpression(): Expression; getArguments(): Node[] }, target?: Target) {
    const callee = node.getExpression();
    const args = node.getArguments();
    for (const a of args) if (Node.isSpreadElement(a)) throw errorAt(a, "spread arguments are not supported");
    const lowered = () => args.map((a) => this.expr(a as Expression));
    if (Node.isPropertyAccessExpression(callee) && callee.getExpression().getText() === "Math") {
      const key = `Math.${callee.getName()}`;
      if (key === "Math.random") throw errorAt(node, "`Math.random()` is not supported here: randomness belongs in a parameter (draw the numbers outside and pass them in)");
      if (!RULES[key]) throw errorAt(callee, `\`${key}\` is not supported yet`);
      return this.op(key, lowered(), node, target, callee.getText());
    }
    if (!Node.isIdentifier(callee)) {
      throw errorAt(callee, `calling \`${callee.getText()}\` is not supported: call a function by its name (Math functions, the runtime's helpers, and functions of your modules)`);
    }
    const resolved = this.resolveCallee(callee);
    switch (resolved.kind) {
      case "rule": return this.op(resolved.key, lowered(), node, target, resolved.local);
      case "package": return this.packageCall(resolved.binding, lowered(), node, target);
      case "function": {
        if (!gradientTag(resolved.decl)) return this.inline(resolved.decl, resolved.file, args, node, target);
        return this.customCall(resolved.decl, resolved.file, this.arguments(resolved.decl, args, node).args, node, target);
      }
    }
  }

  /**
   * What a called name is: a primitive of the rule table (a runtime helper), a function
   * whose source tsgrad reads (this module, or a relative import), or a package's function.
   */
  private resolveCallee(callee: Node): Callee {
    const name = callee.getText();
    if (name === "eval") throw errorAt(callee, "`eval` is not supported here");
    const file = this.frame.file;
    const binding = this.modules.importsOf(file).get(name);
    if (binding) {
      const imported = binding.import;
      const key = runtimeKey(imported);
      if (key) {
        if (key.startsWith("tensor.")) this.runtimeModule ??= this.modules.rebase(file, imported.module);
        return { kind: "rule", key, local: this.useImport(imported, file) };
      }
      if (RUNTIME_MODULE.test(imported.module)) {
        throw errorAt(callee, `\`${name}\` is imported from tsgrad's runtime '${imported.module}' but has no derivative rule (the runtime's differentiable functions: ${[...RUNTIME_FUNCTIONS].join(", ")} and the tensor operations)`);
      }
      if (!isRelative(imported.module)) return { kind: "package", binding };
      const module = this.modules.load(binding);
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
   * scope of its own, with its parameters bound to the arguments, and its `return` gives
   * the call's value. The caller's graph then holds the callee's operations, so the
   * gradient recomputes nothing; the code grows with the call tree.
   */
  private inline(decl: FunctionDeclaration, file: SourceFile, argNodes: readonly Node[], node: Node, target?: Target) {
    const name = decl.getName()!;
    const open = this.calls.indexOf(decl);
    if (open >= 0) {
      const cycle = [...this.calls.slice(open), decl].map((f) => f.getName()).join(" → ");
      throw errorAt(node, `\`${name}\` is called recursively (${cycle}): recursion is not supported, because tsgrad inlines every call and a function cannot contain itself; write it as a loop`);
    }
    if (this.values.length > MAX_VALUES) {
      throw errorAt(node, `inlining \`${name}\` here makes \`${this.fn.getName()}\` larger than ${MAX_VALUES} values (every call is inlined): give a function that is called many times a custom gradient (\`@gradient\`), which keeps it a call`);
    }
    this.checkDeclaration(decl);
    const before = this.values.length;
    const argStart = this.block.length;
    const { args, params } = this.arguments(decl, argNodes, node);
    const returnType = decl.getReturnTypeNode();
    const declared = returnType ? this.valueType(returnType, `the result of \`${name}\``) : null;

    // a callee's loops and returns are its own: a `return` in its loop leaves the callee
    const caller = { frame: this.frame, env: this.env, versions: this.versions, declaredResult: this.declaredResult, loopDepth: this.loopDepth, returnVars: this.returnVars };
    this.declaredResult = declared;
    this.loopDepth = 0;
    this.returnVars = null;
    const first = this.values.length;
    const start = this.block.length;
    this.frame = { fn: decl, file, scope: ++this.scopes };
    // an argument computed for this call is named for the parameter it binds: `const v = a - b` (not an element read, `xs[i]`, which stays as it is)
    args.forEach((a, i) => {
      if (a.atom.kind !== "value" || a.atom.id < before || this.values[a.atom.id]!.name !== null) return;
      const def = findOp(this.block.slice(argStart), a.atom.id);
      if (!def || def.op === "index" || def.op === "length") return;
      this.values[a.atom.id] = { ...this.values[a.atom.id]!, name: params[i]!.name, version: 1, hint: params[i]!.name, scope: this.frame.scope };
    });
    this.env = new Map(params.map((p, i): [string, Binding] => [p.name, { atom: args[i]!.atom, type: args[i]!.type, mutable: true }]));
    this.versions = new Map(params.map((p) => [p.name, 1]));
    this.calls.push(decl);
    let result: { atom: Atom; type: ValueType } | null;
    try {
      result = this.returning((decl.getBody() as import("ts-morph").Block).getStatements(), declared, name);
    } finally {
      this.calls.pop();
      this.frame = caller.frame;
      this.env = caller.env;
      this.versions = caller.versions;
      this.declaredResult = caller.declaredResult;
      this.loopDepth = caller.loopDepth;
      this.returnVars = caller.returnVars;
    }
    if (!result) throw errorAt(decl.getNameNode() ?? decl, `\`${name}\` must end with \`return <expression>\``);
    return this.adopt(result, first, start, target);
  }

  /**
   * The caller's name for an inlined call's value: `const a = sq(x)` makes the callee's
   * last value `a` itself rather than a copy of it, when the callee computed it (not a
   * value passed in, nor a loop variable, whose name its loop shares).
   */
  private adopt(result: { atom: Atom; type: ValueType }, first: number, start: number, target?: Target) {
    const { atom } = result;
    if (!target || atom.kind !== "value" || atom.id < first || isCarried(this.block.slice(start), atom.id)) return result;
    const v = this.values[atom.id]!;
    this.values[atom.id] = { ...v, name: target.name, version: target.version, hint: target.hint, scope: this.frame.scope };
    return result;
  }

  /** A call's arguments, lowered and checked against the callee's parameters: their number and types. */
  private arguments(decl: FunctionDeclaration, argNodes: readonly Node[], node: Node) {
    const name = decl.getName()!;
    const params = this.signature(decl);
    if (argNodes.length !== params.length) {
      const list = params.length > 0 ? ` (${params.map((p) => p.name).join(", ")})` : "";
      throw errorAt(node, `\`${name}\` takes ${params.length} argument${params.length === 1 ? "" : "s"}${list}, got ${argNodes.length}`);
    }
    const args = argNodes.map((a) => this.expr(a as Expression));
    args.forEach((a, i) => {
      const p = params[i]!;
      if (a.type !== p.type) {
        throw errorAt(argNodes[i]!, `argument ${i + 1} of \`${name}\` is ${TYPE_NAMES[a.type]}, but its parameter \`${p.name}\` is a \`${p.typeText}\``);
      }
    });
    return { args, params };
  }

  /** A function's parameters: plain names with declared types tsgrad knows. */
  private signature(decl: FunctionDeclaration) {
    return decl.getParameters().map((p) => {
      const nameNode = p.getNameNode();
      if (!Node.isIdentifier(nameNode)) throw errorAt(nameNode, "destructured parameters are not supported yet");
      if (p.isRestParameter()) throw errorAt(p, "rest parameters are not supported yet");
      if (p.hasQuestionToken() || p.hasInitializer()) throw errorAt(p, "optional and default parameters are not supported yet");
      const name = nameNode.getText();
      const typeNode = p.getTypeNode();
      if (!typeNode) throw errorAt(p, `parameter \`${name}\` needs a type annotation (\`number\`, \`boolean\`, \`Tensor\` or an array type)`);
      const typeText = typeNode.getText();
      const type = this.valueType(typeNode, `parameter \`${name}\``);
      const differentiable = type === "number" || type === "tensor" || (type === "array" && DIFFERENTIABLE_ARRAY.test(typeText));
      return { name, type, typeText, differentiable };
    });
  }

  /**
   * A call of a function with a custom gradient (`@gradient fBackward`): kept as a call,
   * `f(x)` in the forward code and `fBackward(x, out, dout)` in the backward code, both
   * imported from the module that defines them.
   */
  private customCall(decl: FunctionDeclaration, file: SourceFile, args: { atom: Atom; type: ValueType }[], node: Node, target?: Target) {
    const { backward, params, result } = this.customGradient(decl, file);
    const module = this.modules.specifierOf(file);
    const name = decl.getName()!;
    const forward = this.useImport({ local: name, imported: name, module }, null);
    const custom: CustomCall = {
      forward,
      backward: this.useImport({ local: backward, imported: backward, module }, null),
      params: params.map((p) => ({ type: p.type, differentiable: p.differentiable })),
      result,
    };
    return this.op(`custom.${name}`, args, node, target, forward, custom);
  }

  /** Checks a `@gradient` annotation: both functions exported, the backward's parameters and result fit. */
  private customGradient(decl: FunctionDeclaration, file: SourceFile) {
    const tag = gradientTag(decl)!;
    const name = decl.getName()!;
    const nameNode = decl.getNameNode() ?? decl;
    const backwardName = (tag.getCommentText() ?? "").trim().split(/\s+/)[0] ?? "";
    if (!/^[A-Za-z_$][\w$]*$/.test(backwardName)) throw errorAt(tag, `@gradient needs the name of the backward function: \`@gradient ${name}Backward\``);
    if (!decl.isExported()) throw errorAt(nameNode, `\`${name}\` has a custom gradient, so the generated code calls it: export it (\`export function ${name}\`)`);
    this.checkDeclaration(decl);
    const params = this.signature(decl);
    const returnType = decl.getReturnTypeNode();
    if (!returnType) throw errorAt(nameNode, `\`${name}\` has a custom gradient: declare its result type (\`number\` or \`Tensor\`)`);
    const result = this.valueType(returnType, `the result of \`${name}\``);
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

  /**
   * A function from a package: tsgrad cannot read it, so it is kept as a call with no
   * gradient, which is right only where no differentiated value flows through it (an index
   * helper); the activity analysis rejects the other uses. Its result is taken to be a number.
   */
  private packageCall(binding: ImportBinding, args: { atom: Atom; type: ValueType }[], node: Node, target?: Target) {
    const imported = binding.import;
    const forward = this.useImport(imported, binding.decl.getSourceFile());
    const custom: CustomCall = {
      forward, backward: null, module: imported.module,
      params: args.map((a) => ({ type: a.type, differentiable: false })), result: "number",
    };
    return this.op(`opaque.${imported.imported}`, args, node, target, forward, custom);
  }

  /**
   * The local name the generated module knows an import by: the user's where it is free,
   * else a numbered one. `from` is the module that wrote the specifier (null: already as
   * the generated module, which sits beside the module being compiled, must write it).
   */
  private useImport(imported: Import, from: SourceFile | null): string {
    const module = from ? this.modules.rebase(from, imported.module) : imported.module;
    const same = (i: Import) => i.module === module && i.imported === imported.imported && !!i.typeOnly === !!imported.typeOnly;
    for (const [local, i] of this.usedImports) if (same(i)) return local;
    let local = imported.local;
    for (let k = 1; (this.moduleImports.has(local) && !same(this.moduleImports.get(local)!)) || this.ownNames.has(local) || this.usedImports.has(local); k++) {
      local = `${imported.local}_${k}`;
    }
    const entry: Import = { ...imported, local, module };
    this.moduleImports.set(local, entry);
    this.usedImports.set(local, entry);
    return local;
  }

  /** Appends one operation; its result becomes `target` when given, else a new temporary. */
  private op(key: string, args: { atom: Atom; type: ValueType }[], node: Node, target?: Target, callee?: string, custom?: CustomCall) {
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
      const shown = wants.replace("|", " or a ");
      const hint = a.type === "tensor" && !rule.signature && TENSOR_OPERATORS[key]
        ? `: operators do not apply to tensors, call \`${TENSOR_OPERATORS[key]}\` from the runtime` : "";
      throw errorAt(node, `${what} needs ${rule.signature ? `a ${shown} as argument ${i + 1}` : `${wants} operands`}, got a ${a.type}${hint}`);
    });
    if (strictEq && args[0]!.type !== args[1]!.type) throw errorAt(node, `comparing a ${args[0]!.type} with a ${args[1]!.type} is always false`);
    // a new array is a `number[]` or a `Float64Array` (the callee says); a written one stays what it was
    const typeText = rule.result !== "array" ? undefined : rule.write ? this.values[(args[0]!.atom as Atom & { kind: "value" }).id]!.typeText : callee;
    const out = this.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? rule.hint, rule.result, false, typeText);
    this.block.push({ kind: "op", op: key, callee, ...(custom ? { custom } : {}), args: args.map((a) => a.atom), out, loc: locOf(node) });
    return { atom: valueAtom(out), type: rule.result };
  }
}
