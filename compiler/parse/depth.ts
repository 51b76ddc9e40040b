/**
 * How deeply a module may nest, checked before anything else reads it. TypeScript's
 * parser, ts-morph, tsgrad's stages and prettier all recurse once per level, so a module
 * nested thousands deep (generated code, a fuzzer) would overflow the stack. Instead it is
 * a located error at the first level past a limit; everything within the limits compiles.
 *
 * The limits sit well below where anything overflows (measured with Node's default stack:
 * prettier at about 300 nested `if`s or a 1,000-term sum, TypeScript's parser at about 800
 * nested parentheses), so they hold also when compile() is called from deep in a host.
 * Both checks walk with an explicit stack: they never recurse themselves.
 */
import { ts } from "ts-morph";
import type { LocalDiagnostic } from "../diagnostics.ts";

/** Parentheses, brackets, braces and `${` open at once: TypeScript's parser recurses into each. */
export const MAX_BRACKETS = 256;
/** Branches, loops and blocks inside one another: an `if`, an `else if`, a `? :`, a loop, a `{ }` of its own. */
export const MAX_BLOCKS = 100;
/** Levels of one expression: each operator, call, parenthesis and `.` is one (`a + b + c` is two). */
export const MAX_EXPRESSION = 256;

const OPEN = new Set([ts.SyntaxKind.OpenParenToken, ts.SyntaxKind.OpenBracketToken, ts.SyntaxKind.OpenBraceToken, ts.SyntaxKind.TemplateHead]);
const CLOSE = new Set([ts.SyntaxKind.CloseParenToken, ts.SyntaxKind.CloseBracketToken, ts.SyntaxKind.CloseBraceToken]);
/** Tokens TypeScript's parser recurses on without brackets: `a ? b : c ? ...`, `a => b => ...`, `a ** b ** ...`, `a = b = ...`, `A<B<...>>`. */
const CHAINS = new Set([ts.SyntaxKind.QuestionToken, ts.SyntaxKind.EqualsGreaterThanToken, ts.SyntaxKind.AsteriskAsteriskToken, ts.SyntaxKind.EqualsToken]);
/** Tokens that end or start a statement or a list item, where such a chain ends. */
const CHAIN_ENDS = new Set([
  ts.SyntaxKind.SemicolonToken, ts.SyntaxKind.CommaToken, ts.SyntaxKind.OpenBraceToken, ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.ConstKeyword, ts.SyntaxKind.LetKeyword, ts.SyntaxKind.VarKeyword, ts.SyntaxKind.ReturnKeyword, ts.SyntaxKind.IfKeyword,
  ts.SyntaxKind.ForKeyword, ts.SyntaxKind.WhileKeyword, ts.SyntaxKind.FunctionKeyword, ts.SyntaxKind.ExportKeyword,
  ts.SyntaxKind.ImportKeyword, ts.SyntaxKind.TypeKeyword,
]);
/** Tokens after which a `/` starts a regular expression rather than a division. */
const BEFORE_OPERAND = new Set([
  ts.SyntaxKind.OpenParenToken, ts.SyntaxKind.OpenBracketToken, ts.SyntaxKind.OpenBraceToken, ts.SyntaxKind.CommaToken,
  ts.SyntaxKind.SemicolonToken, ts.SyntaxKind.ColonToken, ts.SyntaxKind.QuestionToken, ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.ExclamationToken, ts.SyntaxKind.ReturnKeyword, ts.SyntaxKind.TypeOfKeyword, ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.EqualsGreaterThanToken,
]);

/*
 * Two checks, the first place past a limit as a diagnostic, null when within them all:
 * bracketError on the text, before anything parses it (the brackets and chains it bounds
 * are what TypeScript's parser recurses on), then depthError on the syntax tree that parser
 * made, the one the rest of the compile reads (parse.ts, modules.ts): not a parse of its own.
 */

function at(text: string, pos: number, length: number, message: string): LocalDiagnostic {
  const starts = [0];
  for (const m of text.slice(0, pos).matchAll(/\r\n|[\r\n\u2028\u2029]/g)) starts.push(m.index + m[0].length);
  const line = starts.length;
  return { line, col: pos - starts[line - 1]! + 1, length, message };
}

/** Bracket depth, by TypeScript's scanner (strings, comments and templates skipped), before its parser runs. */
export function bracketError(text: string): LocalDiagnostic | null {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  // what each open bracket was, so a `}` that ends a template's `${` resumes the template
  const open: ts.SyntaxKind[] = [];
  let previous = ts.SyntaxKind.Unknown;
  // `? :` and `=>` in the current expression, and the `<` of type arguments still open
  let chain = 0;
  let angles = 0;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (CHAIN_ENDS.has(token)) chain = angles = 0;
    else if (token === ts.SyntaxKind.GreaterThanToken && angles > 0) angles--;
    else if (token === ts.SyntaxKind.LessThanToken) angles++;
    else if (CHAINS.has(token)) chain++;
    if (chain + angles > MAX_EXPRESSION) {
      return at(text, scanner.getTokenStart(), 1,
        `this expression chains more than ${MAX_EXPRESSION} of \`? :\`, \`=>\`, \`**\`, \`=\` or \`<\` here: tsgrad reads at most ${MAX_EXPRESSION} in one expression; split it into steps with \`const\``);
    }
    if ((token === ts.SyntaxKind.SlashToken || token === ts.SyntaxKind.SlashEqualsToken) && BEFORE_OPERAND.has(previous)) {
      token = scanner.reScanSlashToken();
    }
    if (token === ts.SyntaxKind.CloseBraceToken && open[open.length - 1] === ts.SyntaxKind.TemplateHead) {
      token = scanner.reScanTemplateToken(false);
      if (token === ts.SyntaxKind.TemplateTail) open.pop();
    } else if (OPEN.has(token)) {
      open.push(token);
      if (open.length > MAX_BRACKETS) {
        return at(text, scanner.getTokenStart(), 1,
          `brackets nested ${open.length} deep here: tsgrad reads at most ${MAX_BRACKETS} levels of ( [ { at once; split the expression into steps with \`const\`, or move the inner part into a function`);
      }
    } else if (CLOSE.has(token)) {
      open.pop();
    }
    if (token !== ts.SyntaxKind.WhitespaceTrivia && token !== ts.SyntaxKind.NewLineTrivia) previous = token;
  }
  return null;
}

const BLOCK_LEVELS = new Set([
  ts.SyntaxKind.IfStatement, ts.SyntaxKind.ForStatement, ts.SyntaxKind.ForOfStatement, ts.SyntaxKind.ForInStatement,
  ts.SyntaxKind.WhileStatement, ts.SyntaxKind.DoStatement, ts.SyntaxKind.SwitchStatement, ts.SyntaxKind.TryStatement,
  ts.SyntaxKind.ConditionalExpression,
]);
/** Where statements are listed: a `{ }` directly inside one of these is a level of its own. */
const CONTAINERS = new Set([ts.SyntaxKind.Block, ts.SyntaxKind.SourceFile, ts.SyntaxKind.CaseClause, ts.SyntaxKind.DefaultClause, ts.SyntaxKind.ModuleBlock]);
/** Statements and the blocks that hold them: an expression's depth counts from the nearest one. */
const isStatement = (k: ts.SyntaxKind) =>
  (k >= ts.SyntaxKind.FirstStatement && k <= ts.SyntaxKind.LastStatement) || k === ts.SyntaxKind.Block ||
  k === ts.SyntaxKind.SourceFile || k === ts.SyntaxKind.FunctionDeclaration || k === ts.SyntaxKind.ClassDeclaration ||
  k === ts.SyntaxKind.CaseBlock || k === ts.SyntaxKind.CaseClause || k === ts.SyntaxKind.DefaultClause || k === ts.SyntaxKind.ModuleBlock;

function describe(k: ts.SyntaxKind): string {
  switch (k) {
    case ts.SyntaxKind.IfStatement: return "`if`";
    case ts.SyntaxKind.ConditionalExpression: return "`? :`";
    case ts.SyntaxKind.Block: return "block";
    case ts.SyntaxKind.ForStatement: case ts.SyntaxKind.ForOfStatement: case ts.SyntaxKind.ForInStatement: return "`for` loop";
    case ts.SyntaxKind.WhileStatement: case ts.SyntaxKind.DoStatement: return "loop";
    default: return "code";
  }
}

/** Nesting of blocks and of expressions, on TypeScript's syntax tree of `text`. */
export function depthError(text: string, file: ts.SourceFile): LocalDiagnostic | null {
  const stack: { node: ts.Node; blocks: number; expression: number; parent: ts.SyntaxKind }[] = [
    { node: file, blocks: 0, expression: 0, parent: ts.SyntaxKind.Unknown },
  ];
  while (stack.length > 0) {
    const { node, blocks: outer, expression: outerExpression, parent } = stack.pop()!;
    const kind = node.kind;
    // a `{ }` of its own is a level; the body of an `if`, loop or function is part of that level
    const level = BLOCK_LEVELS.has(kind) || (kind === ts.SyntaxKind.Block && CONTAINERS.has(parent));
    const blocks = outer + (level ? 1 : 0);
    const expression = isStatement(kind) ? 0 : outerExpression + 1;
    if (blocks > MAX_BLOCKS) {
      const start = node.getStart(file);
      return at(text, start, kind === ts.SyntaxKind.IfStatement ? 2 : 1,
        `${describe(kind)} nested ${blocks} levels deep: tsgrad compiles at most ${MAX_BLOCKS} levels of branches, loops and blocks inside one another (an \`else if\` and a \`? :\` are a level each); flatten it, for instance by joining conditions with \`&&\``);
    }
    if (expression > MAX_EXPRESSION) {
      const start = node.getStart(file);
      return at(text, start, 1,
        `this expression nests ${expression} levels deep: tsgrad compiles at most ${MAX_EXPRESSION} (each operator, call and parenthesis is a level); split it into steps with \`const\``);
    }
    const children: ts.Node[] = [];
    ts.forEachChild(node, (child) => {
      children.push(child);
    });
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, blocks, expression, parent: kind });
  }
  return null;
}
