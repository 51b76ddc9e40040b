/**
 * Input outside the supported subset: a located error that says what is not supported,
 * never a crash, never output.
 */
import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic } from "../../compiler/index.ts";
import { RULES } from "../../compiler/rules/rules.ts";

const wrap = (body: string, params = "x: number") => `/** @differentiable */\nexport function f(${params}): number {\n${body}\n}\n`;

/** [what, source, message pattern, line, column] */
const CASES: [string, string, RegExp, number, number][] = [
  ["break with a label", wrap("  for (let i = 0; i < 3; i++) {\n    if (i > 1) break nowhere;\n  }\n  return x;"), /`break nowhere` names no loop around it/, 4, 16],
  ["break outside a loop", wrap("  if (x > 0) break;\n  return x;"), /`break` outside a loop is not supported/, 3, 14],
  ["code after break", wrap("  while (x > 1) {\n    break;\n    x = x / 2;\n  }\n  return x;"), /unreachable code after `break`/, 5, 5],
  ["a loop that never ends", wrap("  for (;;) {\n    x = x / 2;\n  }\n  return x;"), /this loop has no condition and no `break` or `return` inside: it would never end/, 3, 3],
  ["a do-while test reading the body's const", wrap("  do {\n    const d = x / 2;\n    x -= d;\n  } while (d > 0.1);\n  return x;"), /`d` is not a parameter or local variable of `f`/, 6, 12],
  ["a path without a return", wrap("  if (x > 0) {\n    return x;\n  } else {\n    x = 1;\n  }"), /this path through the function does not end with `return <expression>`/, 5, 10],
  ["a redeclared name", wrap("  const x = 2;\n  return x;"), /`x` is already declared in this function/, 3, 9],
  ["a call of a function without a body", `declare function opaque(v: number): number;\n${wrap("  return opaque(x);")}`, /`opaque` has no body tsgrad can read/, 4, 10],
  ["a directly recursive call", `function down(v: number): number { return v > 1 ? down(v / 2) : v; }\n${wrap("  return down(x);")}`, /`down` is called recursively \(down → down\): recursion is not supported, because tsgrad inlines every call/, 1, 51],
  ["a mutually recursive call", `function even(v: number): number { return v > 1 ? odd(v - 1) : v; }\nfunction odd(v: number): number { return even(v - 1); }\n${wrap("  return even(x);")}`, /`even` is called recursively \(even → odd → even\)/, 2, 42],
  ["a tagged function calling itself", wrap("  return x > 1 ? f(x / 2) : x;"), /`f` is called recursively \(f → f\)/, 3, 18],
  ["a call with too few arguments", `function h(a: number, b: number): number { return a * b; }\n${wrap("  return h(x);")}`, /`h` takes 2 arguments \(a, b\), got 1/, 4, 10],
  ["a call with too many arguments", `function h(a: number): number { return a; }\n${wrap("  return h(x, x);")}`, /`h` takes 1 argument \(a\), got 2/, 4, 10],
  ["an argument of the wrong type", `function first(a: number[]): number { return a[0]; }\n${wrap("  return first(x);")}`, /argument 1 of `first` is a number, but its parameter `a` is a `number\[\]`/, 4, 16],
  ["an error inside a called function, where it is", `function h(a: number): number {\n  return a * Math.random();\n}\n${wrap("  return h(x);")}`, /`Math.random\(\)` is not supported here/, 2, 14],
  ["a called function writing a module-level variable", `let total = 0;\nfunction h(a: number): number {\n  total = a;\n  return a;\n}\n${wrap("  return h(x);")}`, /`total` is a module-level variable: writing to state outside the function is not supported \(the gradient could not see it\)/, 3, 3],
  ["writing a module-level array", `const state = [0];\n${wrap("  state[0] = x;\n  return x;")}`, /`state` is a module-level variable: writing to state outside the function is not supported/, 4, 3],
  ["a package function on a differentiated value", `import { softplus } from "mathlib";\n${wrap("  return 2 * softplus(x);")}`, /`softplus` comes from the package 'mathlib', whose source tsgrad cannot read, and here it is called on a differentiated value: give it a custom gradient/, 4, 14],
  ["a custom gradient that is not exported", `/** @gradient sqBackward */\nfunction sq(v: number): number { return v * v; }\nexport function sqBackward(v: number, out: number, dout: number): number { return 2 * v * dout; }\n${wrap("  return sq(x);")}`, /`sq` has a custom gradient, so the generated code calls it: export it/, 2, 10],
  ["a backward that is not exported", `/** @gradient sqBackward */\nexport function sq(v: number): number { return v * v; }\nfunction sqBackward(v: number, out: number, dout: number): number { return 2 * v * dout; }\n${wrap("  return sq(x);")}`, /`sqBackward` is the backward of `sq`, which the generated code calls: export it/, 3, 10],
  ["a backward with the wrong number of parameters", `/** @gradient sqBackward */\nexport function sq(v: number): number { return v * v; }\nexport function sqBackward(v: number, dout: number): number { return 2 * v * dout; }\n${wrap("  return sq(x);")}`, /`sqBackward`, the backward of `sq`, takes its parameters \(v\), then the result and the upstream gradient: 3 parameters, not 2/, 3, 17],
  ["a backward of two parameters without a tuple result", `/** @gradient mulBackward */\nexport function mul(a: number, b: number): number { return a * b; }\nexport function mulBackward(a: number, b: number, out: number, dout: number): number[] { return [b * dout, a * dout]; }\n${wrap("  return mul(x, x);")}`, /`mulBackward` returns one gradient per parameter of `mul`: declare its result as a tuple, `\[number, number\]`/, 3, 79],
  ["a backward that does not exist", `/** @gradient nope */\nexport function sq(v: number): number { return v * v; }\n${wrap("  return sq(x);")}`, /@gradient names `nope`, which is not a function declared in this module/, 1, 5],
  ["@gradient without a name", `/** @gradient */\nexport function sq(v: number): number { return v * v; }\n${wrap("  return sq(x);")}`, /@gradient needs the name of the backward function: `@gradient sqBackward`/, 1, 5],
  ["Math.random()", wrap("  return x * Math.random();"), /`Math.random\(\)` is not supported here: randomness belongs in a parameter/, 3, 14],
  ["eval", wrap("  return eval(\"x\");"), /`eval` is not supported here/, 3, 10],
  ["an async function", "/** @differentiable */\nexport async function f(x: number) {\n  return x;\n}\n", /an `async` function is not supported here/, 2, 8],
  ["a generator function", "/** @differentiable */\nexport function* f(x: number) {\n  yield x;\n}\n", /a generator function is not supported here/, 2, 18],
  ["try", wrap("  try {\n    return x;\n  } catch {\n    return 0;\n  }"), /`try` is not supported here/, 3, 3],
  ["a method in a record literal", wrap("  const o = { a: x, f() { return 1; } };\n  return o.a;"), /a record of differentiable code holds numbers, arrays and records, not methods/, 3, 21],
  ["a field of a built record written", wrap("  const o = { a: x };\n  o.a = 2;\n  return o.a;"), /the fields of `o` are fixed when the record is built: build a new record \(`const q = \{ \.\.\.o, a: \.\.\. \}`\)/, 4, 3],
  ["a spread of an unknown shape", wrap("  const o = { ...(x as unknown as { a: number }) };\n  return o.a;"), /a spread copies the fields of a record whose shape tsgrad knows/, 3, 18],
  ["a record returned from inside an if", "/** @differentiable */\nexport function f(x: number): { a: number } {\n  if (x > 0) return { a: x };\n  return { a: -x };\n}\n", /`f` returns a record from inside an `if` or a loop: set variables there and return the record once/, 3, 3],
  ["a class method", "class C {\n  /** @differentiable */\n  f(x: number) {\n    return x;\n  }\n}\n", /@differentiable on a class method is not supported: tag a top-level `function` declaration/, 3, 3],
  ["an arrow function", "/** @differentiable */\nexport const f = (x: number) => x;\n", /@differentiable on a variable/, 2, 1],
  // an array parameter is written on a copy (fixtures/writes.ts); a record's field is not an array variable
  ["writing into a record's field array", wrap("  p.w[0] = 1;\n  return p.w[0];", "p: { w: number[]; b: number }"), /only a local array variable can be written into \(`a\[i\] = v`\), or an array parameter; `p.w` is a part of another value: write into a copy/, 3, 3],
  ["a helper writing into a record's field it is given", `function put(b: number[], v: number) {\n  b[0] = v;\n  return v;\n}\n${wrap("  return put(p.w, p.b);", "p: { w: number[]; b: number }")}`, /writing into `b` is not supported here: the array it stands for is not a local array or an array parameter of the function being compiled/, 2, 3],
  ["writing into a row of a nested array", wrap("  const row = W[0];\n  row[0] = 1;\n  return row[0];", "W: number[][]"), /`row` is a part of a record, a tuple or a nested array \(a place in it\), which tsgrad reads but cannot write through: write into a copy/, 4, 3],
  ["one array passed twice to a helper writing into it", `function twice(out: number[], v: number[]): void {\n  out[0] = v[0];\n}\n${wrap("  const a = [x];\n  twice(a, a);\n  return a[0];")}`, /`a` is passed twice to `twice`, which writes into its parameter `out`: the compiler cannot follow a write through one name to a read through the other \(an alias\)/, 7, 9],
  ["a helper writing into its caller's array and returning early", `function put(b: number[], v: number): number {\n  if (v > 0) return v;\n  b[0] = v;\n  return 1;\n}\n${wrap("  const a = [x];\n  return put(a, x) + a[0];")}`, /`put` writes into the array `b` it is given and returns before its end/, 2, 14],
  ["a call as a statement that writes nothing", `function g(v: number): number {\n  return v;\n}\n${wrap("  g(x);\n  return x;")}`, /the value of `g\(x\)` would be discarded: a call is a statement when the function it calls writes into an array it is given/, 6, 3],
  ["a slice bound that is an array", wrap("  const a = x.slice(x);\n  return a[0];", "x: number[]"), /a `slice` bound is a number, not a array/, 3, 21],
  ["for...of over a number", wrap("  let s = 0;\n  for (const v of x) s += v;\n  return s;"), /`for...of` runs over an array variable here/, 4, 19],
  ["for...of with destructuring", wrap("  let s = 0;\n  for (const [a] of xs) s += a;\n  return s;", "xs: number[]"), /destructuring is not supported yet/, 4, 14],
  ["reassigning an array", wrap("  let a = [x];\n  a = [2 * x];\n  return a[0];"), /reassigning the array `a` is not supported: write into its elements/, 4, 3],
  // a second name nothing writes through is the same array (fixtures/arrays.ts aliasedSum); one written afterwards is an error
  ["a second name for an array written afterwards", wrap("  const a = [x, x];\n  const b = a;\n  b[0] = 1;\n  return b[0];"), /`b` would be a second name for the array `a`/, 4, 13],
  ["`new Array(a, b)`, a list", wrap("  const a = new Array(x, x);\n  return x;"), /`new Array\(...\)` is not supported: local arrays are `new Array<number>\(n\).fill\(0\)`/, 3, 13],
  ["fill of a record's field", wrap("  p.w.fill(0);\n  return p.w[0];", "p: { w: number[] }"), /`.fill` writes into `p.w`, which is not a local array: fill a copy instead/, 3, 3],
  ["push onto a Float64Array", wrap("  const a = new Float64Array(3);\n  a.push(x);\n  return a[0];"), /`a` is a Float64Array, whose length is fixed/, 4, 3],
  ["choosing between arrays", wrap("  const a = [x];\n  const b = [1];\n  const c = x > 0 ? a : b;\n  return c[0];"), /choosing between two arrays with `\?:` is not supported/, 5, 13],
  ["a missing type annotation", wrap("  return x;", "x"), /parameter `x` needs a type annotation/, 2, 19],
  ["computing with a string parameter", wrap("  return x * s;", "x: number, s: string"), /`\*` needs number operands, got a string/, 3, 10],
  ["@wrt naming a string", "/**\n * @differentiable\n * @wrt s\n */\nexport function f(x: number, s: string): number {\n  return x;\n}\n", /@wrt names `s`, a `string`: only `number`/, 3, 4],
  ["a method call on a record", wrap("  return p.norm();", "p: { x: number; norm(): number }"), /calling `p.norm` is not supported: methods and `this` stay out of differentiable code, write a plain function taking the record/, 3, 10],
  ["a record read whole", wrap("  const q = p;\n  return q.x + q;", "p: { x: number }"), /`q` is a record: read its numbers \(`q.x`\)/, 4, 16],
  ["a record returned where a number is declared", wrap("  const q = p;\n  return q;", "p: { x: number }"), /the result is declared `number` but is a record \(`\{ x: number \}`\)/, 2, 38],
  ["@wrt naming an array of records", "type P = { x: number };\n/**\n * @differentiable\n * @wrt ps\n */\nexport function f(ps: P[]): number {\n  return ps[0].x;\n}\n", /an array of records is constant data here, not differentiated; differentiate a record of arrays/, 4, 4],
  ["a row passed on whole", "function g(v: number[]): number {\n  return v[0];\n}\n/** @differentiable */\nexport function f(W: number[][]): number {\n  const r = W[0];\n  return g(r);\n}\n", /`r` is a row of a nested array, read element by element here/, 7, 12],
  ["a row copied by .slice", wrap("  return W[1].slice()[0];", "W: number[][]"), /`W\[1\]` is a row of a nested array, read element by element here/, 3, 10],
  ["@into on a nested array", "/**\n * @differentiable\n * @into\n */\nexport function f(W: number[][]): number {\n  return W[0][0];\n}\n", /@into does not take nested arrays yet \(`W: number\[\]\[\]`\): store its numbers flat/, 3, 4],
  ["destructuring a number", wrap("  const { a } = x;\n  return a;"), /destructuring reads a record or tuple parameter here/, 3, 17],
  ["a parameter of an unexported enum type", "enum Mode { A, B }\n/** @differentiable */\nexport function f(x: number, m: Mode): number {\n  return x;\n}\n", /parameter `m` has type `Mode`, which the generated code names too: export it \(`export enum Mode`\)/, 3, 33],
  ["a missing field", wrap("  return p.y;", "p: { x: number }"), /`p` has no field `y`/, 3, 10],
  ["var", wrap("  var y = x;\n  return y;"), /`var` is not supported: use `let` or `const`/, 3, 3],
  ["writing outside the function", `let total = 0;\n${wrap("  total = x;\n  return x;")}`, /writing to state outside the function is not supported \(the gradient could not see it\)/, 4, 3],
  ["reading a module-level variable", `let scale = 2;\n${wrap("  return scale * x;")}`, /`scale` is a module-level variable: reading it is not supported yet, pass it as a parameter/, 4, 10],
  ["reading a module-level array", `const scales = [2, 3];\n${wrap("  return scales[0] * x;")}`, /`scales` is a module-level array: only module-level `const` numbers can be read here; pass it as a parameter/, 4, 10],
  ["an undefined name", wrap("  return y * x;"), /`y` is not a parameter or local variable of `f`/, 3, 10],
  // a nested function is inlined where it is called (fixtures/writes.ts); one that escapes, is reassigned or recurses is not
  ["a closure that escapes", wrap("  const g = (v: number) => v * x;\n  const h = g;\n  return x;"), /the nested function `g` is used here as a value: .* \(a closure that escapes\) is not supported/, 4, 13],
  ["a closure passed as a callback", wrap("  const g = (v: number) => v * 2;\n  const ys = xs.map(g);\n  return ys[0];", "xs: number[]"), /`.map` takes an arrow function here, `\(v, i\) => ...`: write `\(v\) => g\(v\)`/, 4, 21],
  ["a closure declared with let", wrap("  let g = (v: number) => v;\n  return g(x);"), /`g` is a nested function declared with `let`: a function tsgrad inlines is one function, declare it `const g = ...`/, 3, 7],
  ["a closure reassigned", wrap("  const g = (v: number) => v;\n  g = (v: number) => 2 * v;\n  return g(x);"), /`g` is a nested function: assigning it another function is not supported/, 4, 3],
  ["a nested function calling itself", wrap("  function r(t: number): number {\n    return r(t);\n  }\n  return r(x);"), /`r` calls itself: recursion is not supported, because tsgrad inlines every call; write it as a loop/, 4, 12],
  ["a closure reading a shadowed name", wrap("  const k = 2;\n  const g = (t: number) => t * k;\n  {\n    const k = 3;\n    return g(x) + k;\n  }"), /`g` reads the `k` of the scope it is declared in, but here `k` is another variable/, 7, 12],
  ["a closure writing an array it also reads by its own name", wrap("  const y = [x];\n  const g = (a: number[]) => {\n    a[0] = 1;\n    return y[0];\n  };\n  return g(y);"), /`g` reads or writes `y` by its own name and, as its parameter `a`, by another: .*\(an alias\)/, 8, 12],
  ["a closure with a return in a loop", wrap("  const g = (t: number) => {\n    for (let i = 0; i < 3; i++) if (t > i) return t;\n    return 0;\n  };\n  return g(x);"), /a `return` inside a loop of the nested function `g` is not supported/, 4, 5],
  ["return inside a loop of a Tensor function", `import type { Tensor } from "../runtime/tensor.ts";\n/** @differentiable */\nexport function f(t: Tensor, n: number): Tensor {\n  for (let i = 0; i < n; i++) {\n    if (i > 2) return t;\n  }\n  return t;\n}\n`, /`return` inside a loop is not supported yet in a function that returns a Tensor/, 5, 16],
  ["a loop left without returning, at the end", wrap("  while (x > 1) {\n    if (x > 5) return x;\n    x = x / 2;\n  }"), /the function can leave this loop without returning, and no `return <expression>` follows it/, 3, 3],
  ["assigning a constant", wrap("  const y = x;\n  y = 2;\n  return y;"), /cannot assign to `y` because it is a constant/, 4, 3],
  ["a bitwise operator", wrap("  return x & 2;"), /the `&` operator is not supported yet/, 3, 12],
  ["a string", wrap("  const s = \"a\";\n  return x;"), /a string is a constant here, compared with `===` or by a `switch` where it is used: `s` cannot hold one/, 3, 13],
  ["`this`", wrap("  return this.x;"), /`this` is not supported here: methods and `this` stay out of differentiable code, write a plain function taking the record/, 3, 10],
  ["code after return", wrap("  return x;\n  const y = 1;"), /unreachable code after `return`/, 4, 3],
  ["no return", wrap("  const y = x;"), /`f` must end with `return <expression>`/, 2, 17],
  ["@wrt naming a non-parameter", "/**\n * @differentiable\n * @wrt x q\n */\nexport function f(x: number): number {\n  return x;\n}\n", /@wrt names `q`, which is not a parameter of `f`/, 3, 4],
  ["@wrt naming a boolean", "/**\n * @differentiable\n * @wrt b\n */\nexport function f(x: number, b: boolean): number {\n  return b ? x : 0;\n}\n", /only `number`, `number\[\]`, `Float64Array` and `Tensor` parameters can be differentiated/, 3, 4],
  ["a boolean result", wrap("  return x > 0;"), /the result must be a number, an array of numbers or a Tensor, not a boolean/, 3, 10],
  ["an array as a condition", wrap("  return x ? 1 : 0;", "x: number[]"), /a condition must be a comparison, a boolean or a number, not an array/, 3, 10],
  ["a wrong argument count", wrap("  return Math.exp(x, x);"), /Math.exp takes 1 argument, got 2/, 3, 10],
  ["an unsupported Math function", wrap("  return Math.clz32(x);"), /`Math.clz32` is not supported yet/, 3, 10],
  ["an import from a module compile() cannot read", `import { helper } from "./helpers.ts";\n${wrap("  return helper(x);")}`, /cannot read the module '.\/helpers.ts' \(compile\(\) was given no readFile option to read it with\)/, 1, 24],
  ["a syntax error", "/** @differentiable */\nexport function f(x: number { return x; }\n", /syntax error: ',' expected/, 2, 29],
  ["no tagged function", "export function f(x: number) { return x; }\n", /no function is tagged `@differentiable`/, 1, 1],
];

describe("unsupported input", () => {
  it.each(CASES)("%s gives a located error and no output", async (_what, source, message, line, col) => {
    const result = await compile(source, "model.ts");
    expect(result.output).toBeNull();
    expect(result.diagnostics.length).toBeGreaterThan(0);
    const d = result.diagnostics[0]!;
    expect(d.message).toMatch(message);
    expect([d.line, d.col]).toEqual([line, col]);
    expect(d.file).toBe("model.ts");
  });

  it("formats an error as path:line:col with a code frame pointing at the construct", async () => {
    const source = wrap("  return x * Math.random();");
    const { diagnostics } = await compile(source, "src/model.ts");
    expect(formatDiagnostic(diagnostics[0]!, source)).toBe(
      [
        "src/model.ts:3:14: error: `Math.random()` is not supported here: randomness belongs in a parameter (draw the numbers outside and pass them in)",
        " 3 |   return x * Math.random();",
        "   |              ^^^^^^^^^^^^^",
      ].join("\n"),
    );
  });

  it("reports an error in one function and still names the right place when another is fine", async () => {
    const source = `${wrap("  return x * 2;")}\n/** @differentiable */\nexport function g(y: number): number {\n  for (;;) {}\n}\n`;
    const { output, diagnostics } = await compile(source, "m.ts");
    expect(output).toBeNull();
    expect(diagnostics.map((d) => [d.line, d.col])).toEqual([[8, 3]]);
  });

  it("turns a compiler bug into an internal-error diagnostic at the function, not a crash", async () => {
    const rule = RULES["Math.exp"] as { vjp?: unknown };
    const saved = rule.vjp;
    rule.vjp = () => [];
    try {
      const { output, diagnostics } = await compile(wrap("  return Math.exp(x);"), "m.ts");
      expect(output).toBeNull();
      expect(diagnostics[0]!.message).toMatch(/^internal error while compiling `f`: rule 'Math.exp' returned 0 gradients for 1 inputs/);
      expect([diagnostics[0]!.line, diagnostics[0]!.col]).toEqual([2, 17]);
    } finally {
      rule.vjp = saved;
    }
  });
});

/** Seven different constructs outside the subset, in two functions, with names that depend on the failed ones. */
const MANY = `/** @differentiable */
export function loss(x: number, xs: number[]): number {
  var scale = 2;
  let s = 0;
  for (const k in xs) s += xs[k] * x;
  try {
    s = s * scale;
  } catch {
    s = 0;
  }
  const noise = x * Math.random();
  const t = s * scale + noise;
  return t + x;
}

/** @differentiable */
export function energy(x: number): number {
  class Spring {}
  let e: number;
  e = x * null;
  for (let i = 0; i < 3; i++) {
    if (x > i) throw x;
    x = x * 0.5;
  }
  const { k } = new Spring();
  const half = e / 2 + k;
  return half + x;
}
`;

describe("one pass, every error", () => {
  it("reports every unsupported construct of a module in one compile, each located, and nothing that follows from them", async () => {
    const { output, diagnostics } = await compile(MANY, "src/model.ts");
    expect(output).toBeNull();
    // \`scale\`, \`noise\`, \`t\`, \`e\`, \`k\` and \`half\` depend on a failed statement: they report nothing more
    expect(diagnostics.map((d) => [d.file, d.line, d.col, d.message])).toEqual([
      ["src/model.ts", 3, 3, "\`var\` is not supported: use \`let\` or \`const\`"],
      ["src/model.ts", 5, 3, "a \`for...in\` loop is not supported here: loop over the indices, \`for (let i = 0; i < a.length; i++)\`, or the values, \`for (const v of a)\`"],
      ["src/model.ts", 6, 3, "\`try\` is not supported here: a differentiable function cannot catch exceptions; check the inputs before calling it"],
      ["src/model.ts", 11, 21, "\`Math.random()\` is not supported here: randomness belongs in a parameter (draw the numbers outside and pass them in)"],
      ["src/model.ts", 18, 3, "a class is not supported here: declare an object type outside the function (\`type Point = { x: number; y: number }\`) and pass records of it"],
      ["src/model.ts", 20, 11, "\`null\` is not supported here: use a number (\`NaN\`) or a flag parameter"],
      ["src/model.ts", 22, 16, "\`throw\` is not supported here: check the inputs before calling the function, or return \`NaN\` where it is not defined"],
      ["src/model.ts", 25, 17, "destructuring reads a record or tuple parameter here (\`const { w, b } = params\`); \`new Spring()\` is not one"],
    ]);
  });

  it("goes on after an error inside a loop, an arm that returns, and a called function", async () => {
    const source = `function h(a: number): number {\n  const r = a * Math.random();\n  return a + eval("a");\n}\n${wrap("  for (let i = 0; i < 2; i++) {\n    var q = i;\n    x = x + h(x);\n  }\n  if (x > 0) {\n    const z = x * null;\n    return z;\n  }\n  return x * Math.random();")}`;
    const { diagnostics } = await compile(source, "m.ts");
    expect(diagnostics.map((d) => [d.line, d.col])).toEqual([[2, 17], [3, 14], [8, 5], [12, 19], [15, 14]]);
  });
});

/** [what, the module's source, the modules it can import (by path), message pattern, file, line, column] */
const IMPORT_CASES: [string, string, Record<string, string>, RegExp, string, number, number][] = [
  ["an import of a module that does not exist", `import { helper } from "./helpers";\n${wrap("  return helper(x);")}`, {},
    /cannot read the module '.\/helpers' \(looked for src\/helpers.ts and src\/helpers\/index.ts\), so tsgrad cannot see the functions it exports/, "src/model.ts", 1, 24],
  ["an import of a function the module does not export", `import { helper } from "./helpers.ts";\n${wrap("  return helper(x);")}`, { "src/helpers.ts": "function helper(v: number) {\n  return v;\n}\n" },
    /'.\/helpers.ts' has no exported function `helper` that tsgrad can read/, "src/model.ts", 4, 10],
  ["an error inside an imported function, in its module", `import { helper } from "./lib/helpers.ts";\n${wrap("  return helper(x);")}`, { "src/lib/helpers.ts": "export function helper(v: number): number {\n  const o = { v, f() { return 1; } };\n  return v;\n}\n" },
    /a record of differentiable code holds numbers, arrays and records, not methods/, "src/lib/helpers.ts", 2, 18],
  ["a syntax error in an imported module", `import { helper } from "./helpers.ts";\n${wrap("  return helper(x);")}`, { "src/helpers.ts": "export function helper(v: number): number {\n  return v +;\n}\n" },
    /syntax error: Expression expected/, "src/helpers.ts", 2, 13],
  ["an imported function declared without a body", `import { helper } from "./helpers.ts";\n${wrap("  return helper(x);")}`, { "src/helpers.ts": "export declare function helper(v: number): number;\n" },
    /`helper` has no body tsgrad can read \(it is only declared\)/, "src/model.ts", 4, 10],
];

describe("calls into other modules", () => {
  it.each(IMPORT_CASES)("%s gives a located error in the right file and no output", async (_what, source, files, message, file, line, col) => {
    const result = await compile(source, "src/model.ts", { readFile: (path) => files[path] });
    expect(result.output).toBeNull();
    const d = result.diagnostics[0]!;
    expect(d.message).toMatch(message);
    expect([d.file, d.line, d.col]).toEqual([file, line, col]);
  });

  it("reports a syntax error in an imported module to every function that calls into it, once", async () => {
    const source = `import { helper } from "./helpers.ts";\n${wrap("  return helper(x);")}\n/** @differentiable */\nexport function g(y: number): number {\n  return helper(y) * y;\n}\n`;
    const files: Record<string, string> = { "helpers.ts": "export function helper(v: number): number {\n  return v +;\n}\n" };
    const { diagnostics } = await compile(source, "model.ts", { readFile: (path) => files[path] });
    expect(diagnostics.map((d) => [d.file, d.line, d.col, d.message])).toEqual([["helpers.ts", 2, 13, "syntax error: Expression expected."]]);
  });

  it("reports an error inside a function two others call once", async () => {
    const source = `function h(a: number): number {\n  return a * Math.random();\n}\n${wrap("  return h(x);")}\n/** @differentiable */\nexport function g(y: number): number {\n  return h(y) * y;\n}\n`;
    const { diagnostics } = await compile(source, "m.ts");
    expect(diagnostics.map((d) => [d.line, d.col])).toEqual([[2, 14]]);
  });
});

describe("mangled input", () => {
  it("never makes compile() throw: random edits of the fixtures give output or located errors", async () => {
    const { readFileSync } = await import("node:fs");
    const fc = (await import("fast-check")).default;
    const { fixtureInputs } = await import("../helpers/fixtures.ts");
    const sources = fixtureInputs().map((f) => readFileSync(f, "utf8"));
    const snippets = ["(", ")", "{", "}", ";", "for", "if", "=", "+=", "x", "[0]", "?", ":", "\"", "/*", "@differentiable", "async ", "=>", "new ", "\n"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...sources),
        fc.array(fc.tuple(fc.nat(), fc.nat(40), fc.constantFrom(...snippets)), { minLength: 1, maxLength: 4 }),
        async (source, edits) => {
          let text = source;
          for (const [at, cut, insert] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + (cut % 5));
          }
          const result = await compile(text, "mangled.ts");
          if (result.output === null) {
            expect(result.diagnostics.length).toBeGreaterThan(0);
            for (const d of result.diagnostics) {
              expect(d.line).toBeGreaterThanOrEqual(1);
              expect(d.message, text).not.toMatch(/^internal error/);
            }
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  }, 60_000);
});
