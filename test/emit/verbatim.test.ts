/**
 * The formatting shortcut (compiler/emit/verbatim.ts): lines prettier would print unchanged
 * are left out of its work. Whatever the text, the result must be what prettier alone gives.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as prettier from "prettier/standalone";
import * as estree from "prettier/plugins/estree";
import * as babel from "prettier/plugins/babel";
import { formatAround, printedAsIs } from "../../compiler/emit/verbatim.ts";
import { chainModule } from "../../bench/scale-source.ts";
import { compile } from "../../compiler/index.ts";

const prettierAlone = (text: string) =>
  prettier.format(text, { printWidth: 100, parser: "babel-ts", filepath: "gradient.ts", plugins: [estree, babel] });

describe("printedAsIs", () => {
  it("takes the plain arithmetic statements of a gradient", () => {
    for (const line of [
      "  const dv6 = Math.cos(v6) * dsin_3; // line 10: Math.sin(v6)",
      "  let dy = 0.1 * dprod;",
      "    dx[i] += 2 * x[i] * dpow - ddiff_1; // line 4",
      "  const q = -(-a) + (a - b) * c - (d + e);",
      "  let t: number[];",
      "  dx -= a - -b;",
    ]) expect(printedAsIs(line), line).toBe(true);
  });

  it("leaves to prettier what it would change, or might", () => {
    for (const line of [
      "  const v = a * b / c;", // prettier: (a * b) / c
      "  const v = (a * b) * c;", // a * b * c
      "  const v = - -a;", // -(-a)
      "  const v = --a;",
      "  const v = (a);",
      "  const v = 1e+21 + .5 + 1.50;",
      "  const v = a ** 2;",
      "  const v = a ? b : c;",
      '  const v = f("s");',
      "  const v = a  + b;",
      "  const v = { a: 1 };",
      "  const v = a + b; // trailing space ",
      "const v = a;", // not in a block
      `  const v = ${"a + ".repeat(22)}b;`, // longer than the line
    ]) expect(printedAsIs(line), line).toBe(false);
  });
});

describe("formatAround", () => {
  it("gives prettier's bytes for a compiled 300-statement chain", async () => {
    const { output } = await compile(chainModule(300), "chain.ts");
    expect(output).not.toBeNull();
    // the compiled output is formatted; break it back up so prettier has work to do
    const messy = output!.replace(/\n\n/g, "\n\n\n").replace(/ = /g, " =  ");
    expect(await formatAround(messy, prettierAlone)).toBe(await prettierAlone(messy));
    expect(await formatAround(output!, prettierAlone)).toBe(output);
  });

  it("gives prettier's bytes for random statements in nested blocks, at the line's width", async () => {
    const name = fc.constantFrom("a", "b", "dx", "x_1", "$y", "Math.PI", "xs[i]");
    const num = fc.constantFrom("0", "1", "2.5", "0.25", "10", "1e-7", "1.0", ".5");
    const expr = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        name, num,
        fc.tuple(tie("e"), fc.constantFrom(" + ", " - ", " * ", " / ", " % "), tie("e")).map(([a, op, b]) => a + op + b),
        tie("e").map((a) => `(${a})`),
        tie("e").map((a) => (a.startsWith("-") ? `-(${a})` : `-${a}`)),
        tie("e").map((a) => `((${a}) ** 2)`),
        tie("e").map((a) => `Math.sin(${a})`),
        fc.tuple(tie("e"), tie("e")).map(([a, b]) => `f(${a}, ${b})`),
      ),
    })).e;
    const stmt = fc.tuple(fc.constantFrom("const v = ", "let w = ", "dx += ", "dy -= ", "xs[i] = ", "z *= "), expr, fc.constantFrom("", " // line 3", " // line 4: a * b / c"), fc.nat(60))
      .map(([head, e, comment, pad]) => `${head}${e}${" + padding".repeat(pad % 12)};${comment}`);
    const body = fc.array(fc.oneof(stmt, stmt, fc.constant(""), fc.constant("for (let i = 0; i < n; i++) {"), fc.constant("}")), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(body, fc.nat(3), async (lines, depth) => {
        // indent as prettier would, dropping a `}` with nothing open and closing what stays open
        const inner: string[] = [];
        let level = 0;
        for (const l of lines) {
          if (l === "}" && level === 0) continue;
          if (l === "}") level--;
          inner.push(l === "" ? "" : "  ".repeat(level + 1) + l);
          if (l.endsWith("{")) level++;
        }
        while (level > 0) inner.push("  ".repeat(level--) + "}");
        const text = ["function g(n: number, xs: number[]) {", ...inner, "}", ""].join("\n");
        const nested = depth > 0 ? `{\n${text}}\n` : text;
        expect(await formatAround(nested, prettierAlone)).toBe(await prettierAlone(nested));
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
