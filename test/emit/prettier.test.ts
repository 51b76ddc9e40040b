/**
 * The emitted code follows the project's prettier configuration when it has one (as
 * prettier resolves it for the generated file), and tsgrad's own style when it has none.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as prettier from "prettier";
import { beforeEach, describe, expect, it } from "vitest";
import { compileFiles } from "../../compiler/files.ts";
import { compile } from "../../compiler/index.ts";
import { projectPrettierOptions } from "../../compiler/prettier-config.ts";

const MODEL = `/** @differentiable */\nexport function f(x: number, y: number): number {\n  const s = Math.sin(x) * Math.exp(y) + x * y * y;\n  return s * s;\n}\n`;

let dir: string;
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
  return join(dir, path);
};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsgrad-prettier-"));
  return () => rmSync(dir, { recursive: true, force: true });
});

const compiled = async (input: string) => {
  const [r] = await compileFiles([input]);
  expect(r!.errors).toEqual([]);
  return r!.text!;
};

describe("formatting with the project's prettier configuration", () => {
  it("uses a .prettierrc above the module, so prettier --check passes on the generated file", async () => {
    write(".prettierrc", JSON.stringify({ semi: false, singleQuote: true, tabWidth: 4, printWidth: 60 }));
    const input = write("src/deep/model.ts", MODEL);
    const text = await compiled(input);
    expect(text).toMatch(/^    const value = s \* s \/\/ line 4$/m);
    expect(text).not.toMatch(/;\s*(\/\/.*)?$/m);
    const options = await prettier.resolveConfig(join(dir, "src/deep/model.grad.ts"));
    expect(await prettier.check(text, { ...options, parser: "typescript" })).toBe(true);
  });

  it("reads a prettier key in package.json, and applies overrides for the generated file", async () => {
    write("package.json", JSON.stringify({ name: "p", prettier: { semi: false, overrides: [{ files: "*.grad.ts", options: { useTabs: true } }] } }));
    const text = await compiled(write("src/model.ts", MODEL));
    expect(text).toMatch(/^\tconst value = s \* s \/\/ line 4$/m);
  });

  it("keeps tsgrad's own style where no directory up to the root configures prettier, byte for byte what compile() gives", async () => {
    const input = write("src/model.ts", MODEL);
    write("package.json", JSON.stringify({ name: "no-prettier-here" }));
    expect(await projectPrettierOptions(join(dir, "src/model.grad.ts"))).toBeNull();
    expect(await compiled(input)).toBe((await compile(MODEL, input)).output);
  });

  it("reports a configuration prettier cannot read as an error at the output, and writes nothing", async () => {
    write(".prettierrc.json", "{ not json");
    const [r] = await compileFiles([write("src/model.ts", MODEL)]);
    expect(r!.text).toBeNull();
    expect(r!.errors[0]).toMatch(/model\.grad\.ts: error: cannot read the project's prettier configuration for it: /);
  });
});
