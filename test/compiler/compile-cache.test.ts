/**
 * The bin's code cache (compiler/compile-cache.ts), in fresh node processes as the bin
 * runs: the first run saves V8's code for a large CommonJS module, later runs load it
 * without writing again, a changed module gets its own cache, a damaged cache only
 * means compiling again, and a module left out of the cache (one that calls `import()`)
 * loads as usual.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheDirFor } from "../../compiler/compile-cache.ts";

const builtIn = typeof (Module as unknown as { enableCompileCache?: unknown }).enableCompileCache === "function";
let dir: string;
let cache: string;

/** A CommonJS module of about 200 KB (over the cache's threshold) whose answer is `n`. */
const big = (n: number) => `exports.answer = () => ${n};\n` + Array.from({ length: 4000 }, (_, i) => `exports.f${i} = function (a, b) { return a * ${i} + b - ${i % 7}; };`).join("\n") + "\n";

const run = () => spawnSync(process.execPath, [join(dir, "driver.mjs"), cache, join(dir, "big.cjs")], { encoding: "utf8" });
const cached = () => readdirSync(cache).filter((f) => f.endsWith(".cache")).sort();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tsgrad-cache-"));
  cache = join(dir, "cache");
  // the module as the build ships it, without a TypeScript loader in the child process
  const source = readFileSync(join(import.meta.dirname, "..", "..", "compiler", "compile-cache.ts"), "utf8");
  writeFileSync(join(dir, "compile-cache.mjs"), transformSync(source, { loader: "ts", format: "esm" }).code);
  writeFileSync(join(dir, "driver.mjs"), `import { createRequire } from "node:module";\nimport { enableCompileCache } from "./compile-cache.mjs";\nenableCompileCache(process.argv[2], /big\\.cjs$/);\nconst req = createRequire(import.meta.url);\nconsole.log(req(process.argv[3]).answer(), await req("./dynamic.cjs").answer());\n`);
  writeFileSync(join(dir, "big.cjs"), big(42));
  // a large module that calls import(), which code from a cache cannot: not one of those cached, it loads as usual
  writeFileSync(join(dir, "dynamic.cjs"), big(0) + `exports.answer = () => import("node:os").then((os) => typeof os.cpus);\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(builtIn)("the compile cache on a Node without a built-in one", () => {
  it("saves a large module's compiled code on the first run and loads it, unchanged, on the next", () => {
    const first = run();
    expect(first.stdout.trim()).toBe("42 function");
    const files = cached();
    expect(files).toHaveLength(1);
    const written = statSync(join(cache, files[0]!)).mtimeMs;
    const second = run();
    expect(second.stdout.trim()).toBe("42 function");
    expect(cached()).toEqual(files);
    expect(statSync(join(cache, files[0]!)).mtimeMs).toBe(written);
  });

  it("gives a changed module a cache of its own, so the old code is never run", () => {
    writeFileSync(join(dir, "big.cjs"), big(7) + "// longer\n");
    expect(run().stdout.trim()).toBe("7 function");
    expect(cached()).toHaveLength(2);
  });

  it("compiles as usual when a cache file is damaged, and writes a good one", () => {
    for (const f of cached()) writeFileSync(join(cache, f), "not V8's code cache");
    const r = run();
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("7 function");
    // the cache of the module this run loaded is V8's again; the other one stays as it was
    expect(cached().map((f) => statSync(join(cache, f)).size > 1000).sort()).toEqual([false, true]);
  });
});

describe("where the bin keeps the cache", () => {
  it("is node_modules/.cache/tsgrad of the project it is installed in, or of tsgrad's own checkout", () => {
    expect(cacheDirFor("/p/node_modules/tsgrad")).toBe("/p/node_modules/.cache/tsgrad");
    expect(cacheDirFor("/p/node_modules/@scope/tsgrad")).toBe("/p/node_modules/.cache/tsgrad");
    expect(cacheDirFor("/src/tsgrad")).toBe("/src/tsgrad/node_modules/.cache/tsgrad");
  });
});
