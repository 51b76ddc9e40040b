/**
 * How the generated module imports the user's modules (a custom gradient's forward and
 * backward): written as the module's own relative imports are, so it resolves under the
 * same tsconfig (`.ts` needs allowImportingTsExtensions, no extension needs a bundler).
 */
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/index.ts";

const square = `/** @gradient squareBackward */
export function square(x: number): number {
  return x * x;
}

export function squareBackward(x: number, out: number, dout: number): number {
  return 2 * x * dout;
}
`;

/** The generated module's import lines, with `square` readable at src/square.ts and src/lib/index.ts. */
async function importsOf(source: string) {
  const result = await compile(source, "src/model.ts", { readFile: (p) => (p === "src/square.ts" || p === "src/lib/index.ts" ? square : undefined) });
  expect(result.diagnostics).toEqual([]);
  return result.output!.split("\n").filter((l) => l.startsWith("import "));
}

const caller = (specifier: string) => `import { square } from "${specifier}";\n\n/** @differentiable */\nexport function f(x: number): number {\n  return square(x) * 3;\n}\n`;

describe("the generated module's relative imports", () => {
  for (const [style, written, expected] of [
    ["with .ts", "./square.ts", "./square.ts"],
    ["with .js", "./square.js", "./square.js"],
    ["without an extension", "./square", "./square"],
    ["without an extension, a directory's index", "./lib", "./lib/index"],
  ] as const) {
    it(`follow the module's own imports written ${style}`, async () => {
      expect(await importsOf(caller(written))).toContain(`import { square, squareBackward } from "${expected}";`);
    });
  }

  it("use .js for the module itself when it has no relative import of its own (every resolution mode accepts it)", async () => {
    const own = `${square}\n/** @differentiable */\nexport function f(x: number): number {\n  return square(x) * 3;\n}\n`;
    expect(await importsOf(own)).toContain(`import { square, squareBackward } from "./model.js";`);
  });

  it("keep a package's specifier as written (tsgrad/runtime, tsgrad/tensor)", async () => {
    const source = `import { sigmoid } from "tsgrad/runtime";\nimport { add, item, sum, type Tensor } from "tsgrad/tensor";\n\n/** @differentiable */\nexport function f(x: number, W: Tensor, b: Tensor): number {\n  return sigmoid(x) * item(sum(add(W, b)));\n}\n`;
    const lines = await importsOf(source);
    expect(lines).toContain(`import { sigmoid } from "tsgrad/runtime";`);
    // sumTo, which undoes the broadcast of add, comes from where the user's tensor ops came from
    expect(lines.find((l) => l.includes("tsgrad/tensor"))).toMatch(/import \{ [^}]*sumTo[^}]* \} from "tsgrad\/tensor";/);
  });
});
