/**
 * parse: the only stage that knows TypeScript syntax. Finds the functions tagged
 * `@differentiable` and lowers each to the graph IR, or reports a located diagnostic for
 * anything outside the supported subset.
 */
import {
  Node, Project, SyntaxKind,
  type BreakStatement, type ContinueStatement, type DoStatement, type Expression, type ForStatement, type FunctionDeclaration,
  type IfStatement, type ReturnStatement, type SourceFile, type Statement, type WhileStatement,
} from "ts-morph";
import { CompileError, internalError, type Diagnostic } from "../diagnostics.ts";
import {
  constAtom, valueAtom,
  type Atom, type FunctionIR, type Import, type LoopStmt, type OpStmt, type Param, type SourceLoc, type Stmt, type Value, type ValueType,
} from "../ir/ir.ts";
import { MATH_CONSTANTS, RULES, RUNTIME_FUNCTIONS, TENSOR_FUNCTIONS, type ArgKind } from "../rules/rules.ts";
import { describeUnsupported } from "./unsupported.ts";

export interface ParseResult {
  readonly functions: FunctionIR[];
  readonly diagnostics: Omit<Diagnostic, "file">[];
}

/** Module specifiers that name tsgrad's runtime: its index, scalar helpers, or tensor module. */
const RUNTIME_MODULE = /(^|\/)runtime(\/(index|scalar|tensor))?(\.[cm]?[jt]s)?$|^tsgrad(\/(runtime|tensor))?$/;
const TENSOR_MODULE = /(^|\/)runtime\/tensor(\.[cm]?[jt]s)?$|^tsgrad\/tensor$/;
const SCALAR_MODULE = /(^|\/)runtime\/scalar(\.[cm]?[jt]s)?$/;
/** Array types a function may take; `number[]` and `Float64Array` are differentiated by default. */
const ARRAY_TYPE = /^(readonly\s+number\[\]|number\[\]|Array<number>|ReadonlyArray<number>|Float64Array|Float32Array|Int32Array|Uint32Array|Int16Array|Uint16Array|Int8Array|Uint8Array)$/;
const DIFFERENTIABLE_ARRAY = /^(number\[\]|Float64Array)$/;

const ASSIGNMENT_OPS: Readonly<Record<string, string | null>> = {
  "=": null, "+=": "+", "-=": "-", "*=": "*", "/=": "/", "**=": "**",
};
const BINARY_OPS = new Set(["+", "-", "*", "/", "**", "<", "<=", ">", ">=", "===", "!==", "&&", "||"]);
/** What to call instead of an operator on tensors. */
const TENSOR_OPERATORS: Readonly<Record<string, string>> = {
  "+": "add(a, b)", "-": "sub(a, b)", "*": "mul(a, b)", "/": "div(a, b)", neg: "neg(a)",
  "Math.exp": "exp(t)", "Math.log": "log(t)", "Math.tanh": "tanh(t)", "Math.max": "maximum(t, s)",
};
const LOOSE_EQUALITY: Readonly<Record<string, string>> = { "==": "===", "!=": "!==" };

/**
 * One in-memory project serves every call: building TypeScript's program the first time
 * costs ~120 ms, later ones reuse it (~10 ms). Each call adds its file and removes it again.
 */
let shared: Project | undefined;

export function parse(text: string, path: string): ParseResult {
  shared ??= new Project({ useInMemoryFileSystem: true, compilerOptions: { target: 99, strict: true, allowJs: false } });
  const file = shared.createSourceFile(path.endsWith(".ts") ? path : `${path}.ts`, text, { overwrite: true });
  try {
    return parseFile(shared, file);
  } finally {
    shared.removeSourceFile(file);
  }
}

function parseFile(project: Project, file: SourceFile): ParseResult {
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
  const diagnostics: Omit<Diagnostic, "file">[] = [];
  for (const host of taggedNodes(file)) {
    try {
      if (!Node.isFunctionDeclaration(host) || host.getParent() !== file) {
        throw errorAt(host, `@differentiable on ${describeHost(host)} is not supported: tag a top-level \`function\` declaration`);
      }
      functions.push(new Lowerer(file, host).lower());
    } catch (e) {
      if (e instanceof CompileError) diagnostics.push(e.diagnostic);
      else diagnostics.push(internalError(locOf(host), Node.isFunctionDeclaration(host) ? host.getName() ?? "function" : "declaration", e));
    }
  }
  diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
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

export function locOf(node: Node): SourceLoc {
  const { line, column } = node.getSourceFile().getLineAndColumnAtPos(node.getStart());
  return { line, col: column, text: node.getText().replace(/\s+/g, " ") };
}

/** Where a branch or loop starts, shown by its header (`if (x > 0)`, `for (let i = 0; ...)`). */
function headerLoc(node: Node, header: string): SourceLoc {
  const { line, column } = node.getSourceFile().getLineAndColumnAtPos(node.getStart());
  return { line, col: column, text: header.replace(/\s+/g, " ") };
}

export function errorAt(node: Node, message: string): CompileError {
  const { line, column } = node.getSourceFile().getLineAndColumnAtPos(node.getStart());
  return new CompileError({ line, col: column, length: Math.max(1, node.getEnd() - node.getStart()), message });
}

interface Binding {
  readonly atom: Atom;
  readonly type: ValueType;
  readonly mutable: boolean;
}

interface Target {
  readonly name: string | null;
  readonly version: number;
  readonly hint: string;
}

type LoopNode = ForStatement | WhileStatement | DoStatement;

const isLoopNode = (node: Node): node is LoopNode =>
  Node.isForStatement(node) || Node.isWhileStatement(node) || Node.isDoStatement(node);

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

/** Lowers one function declaration to the graph IR. */
class Lowerer {
  private readonly values: Value[] = [];
  private env = new Map<string, Binding>();
  /** Values each user name has had so far, across branches: `s`, then `s_2`, `s_3`, ... */
  private readonly versions = new Map<string, number>();
  private readonly imports = new Map<string, Import>();
  private readonly usedImports = new Map<string, Import>();
  private runtimeModule: string | null = null;
  private block: Stmt[] = [];
  /** The declared result type, which a `return` inside a loop checks against. */
  private declaredResult: ValueType | null = null;
  /** How many loops the statement being lowered is inside. */
  private loopDepth = 0;
  /** Every identifier of the module, so the variables tsgrad adds (`done`, `returned`) clash with none. */
  private identifiers: Set<string> | undefined;
  /** The variables a `return` inside a loop sets, named on first use: the flag and the value. */
  private returnVars: { readonly returned: string; readonly result: string } | null = null;

  constructor(private readonly file: SourceFile, private readonly fn: FunctionDeclaration) {
    for (const decl of file.getImportDeclarations()) {
      for (const spec of decl.getNamedImports()) {
        const local = spec.getAliasNode()?.getText() ?? spec.getName();
        const typeOnly = decl.isTypeOnly() || spec.isTypeOnly();
        this.imports.set(local, { local, imported: spec.getName(), module: decl.getModuleSpecifierValue(), typeOnly });
      }
    }
  }

  lower(): FunctionIR {
    const fn = this.fn;
    const nameNode = fn.getNameNode() ?? fn;
    const name = fn.getName() ?? "";
    if (fn.isAsync()) throw errorAt(fn.getModifiers().find((m) => m.getKind() === SyntaxKind.AsyncKeyword) ?? nameNode, "an `async` function is not supported here: differentiate the synchronous computation");
    if (fn.isGenerator()) throw errorAt(nameNode, "a generator function is not supported here");
    if (fn.getTypeParameters().length > 0) throw errorAt(fn.getTypeParameters()[0]!, "generic functions are not supported yet");
    const bodyNode = fn.getBody();
    if (!bodyNode || !Node.isBlock(bodyNode)) throw errorAt(nameNode, `\`${name}\` has no body to differentiate`);

    const params = this.lowerParams();
    const returnType = fn.getReturnTypeNode();
    const declaredResult = returnType ? this.valueType(returnType, "the result") : null;
    if (declaredResult === "boolean" || declaredResult === "array") {
      throw errorAt(returnType!, `a \`${returnType!.getText()}\` result is not supported yet: a differentiable function returns a \`number\` or a \`Tensor\``);
    }
    this.declaredResult = declaredResult;

    const result = this.returning(bodyNode.getStatements(), declaredResult);
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
    };
  }

  /**
   * Lowers statements that end in `return`, and gives the result. An `if` with a `return`
   * in an arm splits the rest of the function: the statements after it continue the arm
   * that does not return, so `if (x < 0) return 0; ...; return y` becomes one branch
   * whose arms each produce the result. A loop with a `return` inside is the same split
   * after the loop, on the flag the `return` sets: `returned ? result : (the rest)`.
   */
  private returning(statements: readonly Statement[], declared: ValueType | null): { atom: Atom; type: ValueType; loc: SourceLoc } | null {
    for (const [i, stmt] of statements.entries()) {
      if (Node.isReturnStatement(stmt)) {
        if (i !== statements.length - 1) throw errorAt(statements[i + 1]!, "unreachable code after `return`");
        const expr = stmt.getExpression();
        if (!expr) throw errorAt(stmt, "`return` needs a value: a differentiable function returns a `number`");
        const r = this.expr(expr, { name: null, version: 1, hint: "value" });
        if (r.type !== "number" && r.type !== "tensor") throw errorAt(expr, `the result must be a number or a Tensor, not a ${r.type}`);
        if (declared && r.type !== declared) throw errorAt(expr, `\`${this.fn.getName()}\` is declared to return a ${declared} but returns a ${r.type}`);
        return { atom: r.atom, type: r.type, loc: locOf(expr) };
      }
      if (Node.isIfStatement(stmt) && containsReturn(stmt)) {
        const rest = statements.slice(i + 1);
        const { cond, then, otherwise, loc } = this.branch(stmt, (own, node) => {
          const last = own[own.length - 1];
          const r = this.returning(last && Node.isReturnStatement(last) ? own : [...own, ...rest], declared);
          if (!r) throw errorAt(node ?? stmt, "this path through the function does not end with `return <expression>`");
          return r;
        });
        return this.returnBranch(stmt, cond, then, otherwise, loc);
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
          const r = this.returning(rest, declared);
          if (!r) throw errorAt(stmt, "the function can leave this loop without returning, and no `return <expression>` follows it");
          return r;
        });
        return this.returnBranch(stmt, this.env.get(returned)!.atom, then, otherwise, headerLoc(stmt, loopHeader(stmt)));
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
  ): { atom: Atom; type: ValueType; loc: SourceLoc } {
    if (then.result.type !== otherwise.result.type) {
      throw errorAt(stmt, `the two paths return different types (${then.result.type} and ${otherwise.result.type})`);
    }
    const out = this.newValue(null, 1, "value", then.result.type);
    this.block.push({ kind: "if", cond, then: then.block, else: otherwise.block, outs: [{ out, then: then.result.atom, else: otherwise.result.atom }], loc });
    return { atom: valueAtom(out), type: then.result.type, loc };
  }

  private lowerParams(): Param[] {
    const wrt = this.wrtNames();
    const params: Param[] = [];
    for (const p of this.fn.getParameters()) {
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
      const isWrt = wrt ? wrt.names.has(name) : differentiable;
      if (isWrt && !differentiable) throw errorAt(wrt!.tag, `@wrt names \`${name}\`, a \`${typeText}\`: only \`number\`, \`number[]\`, \`Float64Array\` and \`Tensor\` parameters can be differentiated`);
      const value = this.newValue(name, 1, name, type, true, typeText);
      this.versions.set(name, 1);
      this.env.set(name, { atom: valueAtom(value), type, mutable: true });
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
    const imported = this.imports.get(text);
    if (imported && imported.imported === "Tensor" && RUNTIME_MODULE.test(imported.module)) {
      this.usedImports.set(text, imported);
      this.runtimeModule ??= imported.module;
      return "tensor";
    }
    if (text === "Tensor") {
      throw errorAt(typeNode, `${what} has type \`Tensor\`, which is not imported from tsgrad's runtime: add \`import type { Tensor } from ".../runtime/tensor.ts"\``);
    }
    throw errorAt(typeNode, `${what} has type \`${text}\`: supported types are \`number\`, \`boolean\`, the runtime's \`Tensor\`, and arrays of numbers`);
  }

  private newValue(name: string | null, version: number, hint: string, type: ValueType, param = false, typeText?: string): number {
    const id = this.values.length;
    this.values.push({ id, name, version, hint, type, param, typeText });
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
    this.env.set(name, { atom: r.atom, type: r.type, mutable });
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
    throw errorAt(expr, "an expression statement other than an assignment is not supported: its value would be discarded");
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
    const kind = Node.isForStatement(stmt) ? "for" : Node.isWhileStatement(stmt) ? "while" : "do";
    const returns = containsReturn(stmt);
    if (returns) this.enterReturningLoop(stmt);
    const outerNames = new Set(this.env.keys());
    if (Node.isForStatement(stmt)) {
      const init = stmt.getInitializer();
      if (init && Node.isVariableDeclarationList(init)) {
        if (init.getDeclarationKind() !== "let") throw errorAt(init, "declare a `for` loop's variable with `let`");
        for (const decl of init.getDeclarations()) this.declare(decl, true);
      } else if (init) {
        this.expressionStatement(init as Expression);
      }
    }
    const test = Node.isForStatement(stmt) ? stmt.getCondition() : stmt.getExpression();
    /** No condition (`for (;;)`) or `while (true)`: only a `break` or `return` ends it. */
    const endless = !test || Node.isTrueLiteral(test);
    const update = Node.isForStatement(stmt) ? stmt.getIncrementor() : undefined;
    const body = stmt.getStatement();
    const breaks = breaksOut(stmt);
    if (endless && !breaks && !returns) {
      throw errorAt(stmt, "this loop has no condition and no `break` or `return` inside: it would never end");
    }

    // what the loop assigns, among the variables that exist before it
    const assigned = new Set<string>();
    const noteTarget = (n: Node) => {
      if (Node.isIdentifier(n) && this.env.has(n.getText())) assigned.add(n.getText());
    };
    stmt.forEachDescendant((n) => {
      if (Node.isBinaryExpression(n) && n.getOperatorToken().getText() in ASSIGNMENT_OPS) noteTarget(n.getLeft());
      if ((Node.isPrefixUnaryExpression(n) || Node.isPostfixUnaryExpression(n)) && Node.isIdentifier(n.getOperand())) noteTarget(n.getOperand());
    });
    if (returns) {
      assigned.add(this.returnVars!.result);
      assigned.add(this.returnVars!.returned);
    }
    const again = kind === "do" && !endless ? this.flag("again", true) : null;
    const done = breaks && again === null ? this.flag("done", false) : null;
    for (const name of [again, done]) if (name !== null) assigned.add(name);
    const steps = this.newValue(null, 1, "steps", "number");
    const carried: { name: string | null; phi: number; init: Atom }[] = [{ name: null, phi: steps, init: constAtom(0) }];
    for (const name of assigned) {
      const binding = this.env.get(name)!;
      if (!binding.mutable) continue; // the assignment reports the error
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
      counted: Node.isForStatement(stmt) ? this.countedBounds(stmt, testBlock, bodyBlock, cond.atom, carried, loopCarried) : null,
      loc: headerLoc(stmt, loopHeader(stmt)),
    };
    this.block.push(loop);
    return !endless || breaks;
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

  /** `base`, or `base2`, `base3`, ...: a name no identifier of the module and no variable in scope has. */
  private freshName(base: string): string {
    this.identifiers ??= new Set(this.file.getDescendantsOfKind(SyntaxKind.Identifier).map((n) => n.getText()));
    let name = base;
    for (let k = 2; this.identifiers.has(name) || this.env.has(name); k++) name = `${base}${k}`;
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
    // hi is fixed: a constant, a value from before the loop, or computed in the test from those
    const phis = new Set(loopCarried.map((c) => c.phi));
    const fixed = (a: Atom): boolean => {
      if (a.kind === "const") return true;
      if (phis.has(a.id)) return false;
      const def = test.find((t): t is OpStmt => t.kind === "op" && t.out === a.id);
      return def ? def.args.every(fixed) : true;
    };
    if (!fixed(hi!)) return null;
    return { lo: index.init, hi: hi!, inclusive: compare.op === "<=" };
  }

  private assignment(left: Expression, op: string, right: Expression, whole: Expression): void {
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
    if (!Node.isIdentifier(left)) {
      throw errorAt(left, Node.isElementAccessExpression(left)
        ? "writing to an array element is not supported yet"
        : "assigning to anything but a local variable is not supported");
    }
    const name = left.getText();
    const binding = this.env.get(name);
    if (!binding) throw errorAt(left, `\`${name}\` is not a local variable of \`${this.fn.getName()}\`: writing to state outside the function is not supported (the gradient could not see it)`);
    if (!binding.mutable) throw errorAt(left, `cannot assign to \`${name}\` because it is a constant`);
    if (binding.type === "array" || binding.type === "tensor") throw errorAt(left, `reassigning the ${binding.type} \`${name}\` is not supported yet: give the new value its own name`);
    const target: Target = { name, version: this.nextVersion(name), hint: name };
    const r = compute(binding, target);
    if (r.type !== binding.type) throw errorAt(right, `\`${name}\` holds a ${binding.type}; assigning a ${r.type} is not supported`);
    this.env.set(name, { ...binding, atom: r.atom });
  }

  /** Evaluates `expr` into a new value named by `target` (a copy when it is just an atom). */
  private assign(target: Target, expr: Expression, whole: Node): { atom: Atom; type: ValueType } {
    const r = this.expr(expr, target);
    const fresh = r.atom.kind === "value" && this.values[r.atom.id]!.name === target.name && this.values[r.atom.id]!.version === target.version;
    if (fresh) return r;
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
    if (Node.isCallExpression(node)) return this.call(node, target);
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

  private identifier(node: Node): { atom: Atom; type: ValueType } {
    const name = node.getText();
    const binding = this.env.get(name);
    if (binding) return { atom: binding.atom, type: binding.type };
    if (name === "Infinity") return { atom: constAtom(Infinity), type: "number" };
    if (name === "NaN") return { atom: constAtom(NaN), type: "number" };
    const declared = this.file.getVariableDeclaration(name);
    if (declared) throw errorAt(node, `\`${name}\` is a module-level variable: reading it is not supported yet, pass it as a parameter`);
    throw errorAt(node, `\`${name}\` is not a parameter or local variable of \`${this.fn.getName()}\``);
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
    const out = this.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? "picked", a.type);
    this.block.push({ kind: "if", cond: c.atom, then: thenBlock, else: elseBlock, outs: [{ out, then: a.atom, else: b.atom }], loc: locOf(node) });
    return { atom: valueAtom(out), type: a.type };
  }

  private call(node: Node & { getExpression(): Expression; getArguments(): Node[] }, target?: Target) {
    const callee = node.getExpression();
    const args = node.getArguments();
    for (const a of args) if (Node.isSpreadElement(a)) throw errorAt(a, "spread arguments are not supported");
    let key: string;
    if (Node.isPropertyAccessExpression(callee) && callee.getExpression().getText() === "Math") {
      key = `Math.${callee.getName()}`;
      if (key === "Math.random") throw errorAt(node, "`Math.random()` is not supported here: randomness belongs in a parameter (draw the numbers outside and pass them in)");
      if (!RULES[key]) throw errorAt(callee, `\`${key}\` is not supported yet`);
    } else if (Node.isIdentifier(callee)) {
      key = this.resolveCallee(callee);
    } else {
      throw errorAt(callee, `calling \`${callee.getText()}\` is not supported: only Math functions and the runtime's helpers can be called in this version`);
    }
    const lowered = args.map((a) => this.expr(a as Expression));
    return this.op(key, lowered, node, target, callee.getText());
  }

  private resolveCallee(callee: Node): string {
    const name = callee.getText();
    if (name === "eval") throw errorAt(callee, "`eval` is not supported here");
    const imported = this.imports.get(name);
    if (imported) {
      const key = runtimeKey(imported);
      if (key) {
        this.usedImports.set(name, imported);
        if (key.startsWith("tensor.")) this.runtimeModule ??= imported.module;
        return key;
      }
      throw errorAt(callee, `\`${name}\` is imported from '${imported.module}': calls to other functions are not supported yet (only Math functions and tsgrad's runtime helpers: ${[...RUNTIME_FUNCTIONS].join(", ")})`);
    }
    const local = this.file.getFunction(name);
    if (local && !local.hasBody()) {
      throw errorAt(callee, `\`${name}\` has no body tsgrad can read, so it cannot be differentiated`);
    }
    if (local) throw errorAt(callee, `calling \`${name}\` is not supported yet: calls to other functions come with a later version; inline it for now`);
    throw errorAt(callee, `\`${name}\` is not defined here (import \`sigmoid\` or \`relu\` from tsgrad's runtime, or use a Math function)`);
  }

  /** Appends one operation; its result becomes `target` when given, else a new temporary. */
  private op(key: string, args: { atom: Atom; type: ValueType }[], node: Node, target?: Target, callee?: string) {
    const rule = RULES[key]!;
    const what = callee ?? `\`${key}\``;
    const fewest = rule.arity === "variadic" ? 2 : rule.arity - (rule.optional ?? 0);
    if (rule.arity === "variadic" ? args.length < 2 : args.length < fewest || args.length > rule.arity) {
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
    const out = this.newValue(target?.name ?? null, target?.version ?? 1, target?.hint ?? rule.hint, rule.result);
    this.block.push({ kind: "op", op: key, callee, args: args.map((a) => a.atom), out, loc: locOf(node) });
    return { atom: valueAtom(out), type: rule.result };
  }
}
