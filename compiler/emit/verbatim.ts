/**
 * Statements prettier would print exactly as they are, so formatting can leave them out.
 *
 * Prettier takes about 0.2 ms a line, and a gradient has two or three lines per statement of
 * its source: a 5,000-statement function's output took prettier 2.5 s, almost all of it on
 * lines like `const dv6 = Math.cos(v6) * dsin_3; // line 10: Math.sin(v6)` that it prints
 * unchanged. This module recognises such lines, conservatively, by a small grammar and
 * prettier's own rules for parentheses; prettier.ts replaces each run of them by a comment,
 * formats the rest and puts the lines back at the comment's indentation. A line that is not
 * certainly unchanged (a `? :`, a `**`, a string, an object, a long line, a literal prettier
 * would rewrite such as `1e+21` or `.5`, parentheses it would add or drop) goes to prettier.
 *
 * The grammar: `const|let NAME[: TYPE][ = EXPR];` or `TARGET OP EXPR;` (OP one of `=`, `+=`,
 * `-=`, `*=`, `/=`), then optionally ` // comment`; EXPR of names, `a.b` names, plain
 * decimal numbers, unary `-`, binary `+ - * /`, calls of names, `[i]` indexing and
 * parentheses, spaced as prettier spaces them.
 */

/** Only tsgrad's own style (printWidth 100, two spaces, semicolons, double quotes) is known here. */
const PRINT_WIDTH = 100;

type Node =
  | { readonly k: "leaf"; parens: boolean }
  | { readonly k: "neg"; readonly a: Node; parens: boolean }
  | { readonly k: "bin"; readonly op: string; readonly a: Node; readonly b: Node; parens: boolean }
  | { readonly k: "postfix"; readonly parts: readonly Node[]; parens: boolean };

const PRECEDENCE: Readonly<Record<string, number>> = { "+": 1, "-": 1, "*": 2, "/": 2 };
const BINARY = [" + ", " - ", " * ", " / "];
const ASSIGN = [" = ", " += ", " -= ", " *= ", " /= "];
const NAME = /[A-Za-z_$][\w$]*/y;
const NUMBER = /(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?(?![\w$.])/y;
/** Words that are operators or would change what follows them. */
const RESERVED = new Set(["typeof", "void", "delete", "new", "await", "yield", "in", "instanceof", "of", "as", "satisfies", "function", "class", "async"]);

class Fail extends Error {}

class Reader {
  p = 0;
  constructor(readonly s: string) {}
  eat(t: string): boolean {
    if (!this.s.startsWith(t, this.p)) return false;
    this.p += t.length;
    return true;
  }
  want(t: string): void {
    if (!this.eat(t)) throw new Fail();
  }
  match(re: RegExp): string | null {
    re.lastIndex = this.p;
    const m = re.exec(this.s);
    if (!m) return null;
    this.p += m[0].length;
    return m[0];
  }
  name(): string {
    const n = this.match(NAME);
    if (n === null || RESERVED.has(n)) throw new Fail();
    return n;
  }
  oneOf(options: readonly string[]): string | null {
    return options.find((o) => this.eat(o)) ?? null;
  }
  end(): boolean {
    return this.p === this.s.length;
  }
}

function expression(r: Reader, min = 1): Node {
  let left = unary(r);
  for (;;) {
    const at = r.p;
    const op = r.oneOf(BINARY);
    if (op === null) return left;
    const prec = PRECEDENCE[op.trim()]!;
    if (prec < min) {
      r.p = at;
      return left;
    }
    left = { k: "bin", op: op.trim(), a: left, b: expression(r, prec + 1), parens: false };
  }
}

function unary(r: Reader): Node {
  if (r.eat("-")) {
    if (r.s[r.p] === "-" || r.s[r.p] === " ") throw new Fail(); // `--a` is a decrement
    return { k: "neg", a: unary(r), parens: false };
  }
  return postfix(r);
}

function postfix(r: Reader): Node {
  let head: Node;
  let callable = false;
  if (r.eat("(")) {
    head = expression(r);
    r.want(")");
    head.parens = true;
  } else if (r.match(NUMBER) !== null) {
    head = { k: "leaf", parens: false };
  } else {
    r.name();
    while (r.eat(".")) r.name();
    head = { k: "leaf", parens: false };
    callable = true;
  }
  const parts: Node[] = [head];
  for (;;) {
    if (r.eat("[")) {
      parts.push(expression(r));
      r.want("]");
      callable = false;
    } else if (callable && r.eat("(")) {
      // a call of a name, not chained: prettier's member-chain rules stay out of it
      if (!r.eat(")")) {
        do parts.push(expression(r)); while (r.eat(", "));
        r.want(")");
      }
      callable = false;
    } else {
      break;
    }
  }
  if (parts.length === 1) return head;
  if (head.parens) throw new Fail(); // `(a + b)[i]`: keep it simple
  return { k: "postfix", parts, parens: false };
}

/** Prettier's needs-parens for these nodes (its printer-estree rules, `shouldFlatten`). */
function needsParens(node: Node, parent: Node | null, right: boolean): boolean {
  if (parent === null || parent.k === "postfix") return false;
  if (node.k === "bin") {
    if (parent.k === "neg") return true;
    if (parent.k !== "bin") return false;
    const pp = PRECEDENCE[parent.op]!;
    const np = PRECEDENCE[node.op]!;
    if (pp > np) return true;
    if (pp === np && right) return true;
    // `a * b / c` is printed `(a * b) / c`
    return pp === np && node.op !== parent.op && pp === 2;
  }
  if (node.k === "neg") return parent.k === "neg";
  return false;
}

/** Whether every parenthesis is where prettier puts one, and nowhere else. */
function canonical(node: Node, parent: Node | null = null, right = false): boolean {
  if (node.parens !== needsParens(node, parent, right)) return false;
  switch (node.k) {
    case "leaf": return true;
    case "neg": return canonical(node.a, node);
    case "bin": return canonical(node.a, node, false) && canonical(node.b, node, true);
    case "postfix": return node.parts.slice(1).every((p) => canonical(p, node));
  }
}

function statement(r: Reader): boolean {
  const keyword = r.oneOf(["const ", "let "]);
  if (keyword !== null) {
    r.name();
    if (r.eat(": ")) {
      r.name();
      while (r.eat("[]"));
    }
    if (!r.eat(" = ")) return r.end();
    const init = expression(r);
    return r.end() && canonical(init);
  }
  r.name();
  const indices: Node[] = [];
  while (r.eat("[")) {
    indices.push(expression(r));
    r.want("]");
  }
  if (r.oneOf(ASSIGN) === null) return false;
  const value = expression(r);
  return r.end() && canonical(value) && indices.every((i) => canonical(i));
}

/**
 * Whether prettier (tsgrad's own style) prints `line`, a whole statement on one line of a
 * block indented `indent` (in spaces), exactly as it is.
 */
export function printedAsIs(line: string): boolean {
  const indent = line.length - line.trimStart().length;
  if (indent === 0 || indent % 2 !== 0 || line[indent - 1] !== " " || line.slice(0, indent).trim() !== "") return false;
  // no strings and no `/` beside another, so the first `//` starts the comment
  const slash = line.indexOf("//");
  const code = slash < 0 ? line : line.slice(0, slash - 1);
  if (slash >= 0) {
    const comment = line.slice(slash);
    if (line[slash - 1] !== " " || !code.endsWith(";") || comment.trimEnd() !== comment || !/^\/\/[\u0020-\u007e\u00a0-\u2027\u202a-\uffff]*$/.test(comment)) return false;
  }
  // prettier breaks a statement longer than the line; a trailing comment does not count
  if (code.length > PRINT_WIDTH || !code.endsWith(";")) return false;
  try {
    return statement(new Reader(code.slice(indent, -1)));
  } catch (e) {
    if (e instanceof Fail) return false;
    throw e;
  }
}

/**
 * Formats `text` with `format` (prettier in tsgrad's own style), except that each run of
 * statements prettier would print as they are goes to it as one comment, and comes back in
 * its place at the indentation prettier gave the comment. The result is what `format(text)`
 * gives (the golden fixtures and test/emit/verbatim.test.ts check it), in a fraction of the time.
 */
export async function formatAround(text: string, format: (text: string) => Promise<string>): Promise<string> {
  let marker = "tsgrad-verbatim-run";
  while (text.includes(marker)) marker += "-";
  const runs: string[][] = [];
  const reduced: string[] = [];
  let inRun = false;
  let previous = "";
  for (const line of text.split("\n")) {
    // a statement starts only after a blank line, a `{`, a `;` or a `}`
    const before = previous.trimEnd();
    const starts = inRun || before === "" || /[{;}]$/.test(before);
    previous = line;
    if (starts && printedAsIs(line)) {
      const code = line.trimStart();
      if (inRun) {
        runs[runs.length - 1]!.push(code);
      } else {
        reduced.push(`${line.slice(0, line.length - code.length)}// ${marker} ${runs.length}`);
        runs.push([code]);
      }
      inRun = true;
    } else {
      reduced.push(line);
      inRun = false;
    }
  }
  if (runs.length === 0) return format(text);
  const formatted = await format(reduced.join("\n"));
  let restored = 0;
  let fits = true;
  const result = formatted.replace(new RegExp(`^( *)// ${marker} (\\d+)$`, "gm"), (_, indent: string, k: string) => {
    restored++;
    return runs[Number(k)]!.map((code) => {
      // indented deeper than in the text, a line may no longer fit
      const comment = code.indexOf(" //");
      if (indent.length + (comment < 0 ? code.length : comment) > PRINT_WIDTH) fits = false;
      return indent + code;
    }).join("\n");
  });
  // every comment came back where it was put, or this was no place for the shortcut
  return restored === runs.length && fits ? result : format(text);
}
