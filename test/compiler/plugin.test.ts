/**
 * The bundler plugin through each bundler it supports: a Vite build writes every model's
 * gradient at build start and, in watch mode, again when a module its gradient inlines
 * changes; esbuild and Rollup run the same implementation. The bundles are run and their
 * gradients checked against the derivative worked by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";
import tsgradEsbuild from "../../compiler/plugin/esbuild.ts";
import tsgradRollup from "../../compiler/plugin/rollup.ts";
import tsgradVite from "../../compiler/plugin/vite.ts";

let dir: string;
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};
const helper = (k: number) => `export function scale(v: number): number {\n  return ${k} * v;\n}\n`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsgrad-plugin-"));
  write("src/helpers.ts", helper(2));
  // f(x) = k x², so f'(x) = 2 k x
  write("src/model.ts", `import { scale } from "./helpers.js";\n\n/** @differentiable */\nexport function f(x: number): number {\n  return scale(x) * x;\n}\n`);
  write("src/main.ts", `import { f_grad } from "./model.grad.js";\nexport const at3 = f_grad(3);\n`);
  return () => rmSync(dir, { recursive: true, force: true });
});

let loads = 0;
const run = async (file: string) => ((await import(`${pathToFileURL(file).href}?${++loads}`)) as { at3: { value: number; grad: { x: number } } }).at3;

/** Silences the plugin's report lines while a build runs, keeping them for the test. */
async function quietly<T>(body: () => Promise<T>): Promise<{ result: T; printed: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let printed = "";
  process.stdout.write = ((chunk: string) => {
    printed += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await body(), printed };
  } finally {
    process.stdout.write = write;
  }
}

describe("the bundler plugin", () => {
  it("in a Vite build, writes the gradient at build start and again when a helper it inlines changes (watch mode)", async () => {
    const { build } = await import("vite");
    const ends: string[] = [];
    const { result: watcher, printed } = await quietly(async () => {
      const w = (await build({
        root: dir, logLevel: "silent", configFile: false,
        plugins: [tsgradVite()],
        build: { outDir: "web", emptyOutDir: false, watch: {}, lib: { entry: "src/main.ts", formats: ["es"], fileName: () => "main.js" } },
      })) as unknown as import("rollup").RollupWatcher;
      await new Promise<void>((resolve, reject) => w.on("event", (e) => (e.code === "END" ? resolve() : e.code === "ERROR" ? reject(e.error) : undefined)));
      return w;
    });
    try {
      expect(printed).toMatch(/\[tsgrad\] wrote .*src\/model\.grad\.ts \(\d+ ms\)/);
      expect(readFileSync(join(dir, "src/model.grad.ts"), "utf8")).toContain("export function f_grad(");
      expect(await run(join(dir, "web/main.js"))).toEqual({ value: 18, grad: { x: 12 } });

      watcher.on("event", (e) => {
        ends.push(e.code);
      });
      write("src/helpers.ts", helper(5));
      // the bundle is rebuilt from the new gradient: f(x) = 5 x² now
      let at3 = await run(join(dir, "web/main.js"));
      for (const start = Date.now(); at3.value !== 45; at3 = await run(join(dir, "web/main.js"))) {
        if (Date.now() - start > 30_000) throw new Error(`no rebuild after the helper changed: ${ends.join(" ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(at3).toEqual({ value: 45, grad: { x: 30 } });
      expect(readFileSync(join(dir, "src/model.grad.ts"), "utf8")).toContain("5 * x");
    } finally {
      await watcher.close();
    }
  });

  it("in a Vite dev server, writes the gradient when it starts and again when a helper it inlines changes", async () => {
    const { createServer } = await import("vite");
    const { result: server } = await quietly(async () => {
      const s = await createServer({ root: dir, logLevel: "silent", configFile: false, plugins: [tsgradVite()], server: { port: 0, host: "127.0.0.1" } });
      await s.listen();
      return s;
    });
    try {
      const grad = () => readFileSync(join(dir, "src/model.grad.ts"), "utf8");
      for (const start = Date.now(); !grad().includes("2 * x"); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - start > 30_000) throw new Error("the dev server wrote no gradient");
      }
      // the dev server's watcher misses changes made before it is ready: wait until it sees one
      let seen = false;
      server.watcher.on("all", (_event, path) => (seen ||= path.endsWith("probe.txt")));
      for (let k = 0; !seen; k++) {
        if (k > 300) throw new Error("the dev server's watcher saw no change");
        write("probe.txt", String(k));
        await new Promise((r) => setTimeout(r, 100));
      }
      await quietly(async () => {
        write("src/helpers.ts", helper(7));
        for (const start = Date.now(); !grad().includes("7 * x"); await new Promise((r) => setTimeout(r, 50))) {
          if (Date.now() - start > 30_000) throw new Error(`no new gradient after the helper changed:\n${grad()}`);
        }
      });
      // served as the browser gets it
      const served = await server.transformRequest("/src/main.ts");
      expect(served?.code).toContain("model.grad");
    } finally {
      await server.close();
    }
  });

  it("in an esbuild build, writes the gradient before esbuild reads it", async () => {
    const esbuild = await import("esbuild");
    const { printed } = await quietly(() => esbuild.build({
      absWorkingDir: dir, entryPoints: ["src/main.ts"], bundle: true, format: "esm", outfile: "out/main.js", logLevel: "silent",
      plugins: [tsgradEsbuild({ include: [join(dir, "src")] })],
    }));
    expect(printed).toMatch(/\[tsgrad\] wrote .*model\.grad\.ts/);
    expect(await run(join(dir, "out/main.js"))).toEqual({ value: 18, grad: { x: 12 } });
  });

  it("in a Rollup build, compiles at build start too", async () => {
    const { rollup } = await import("rollup");
    write("src/entry.js", "export const answer = 42;\n");
    const { printed } = await quietly(async () => (await rollup({ input: join(dir, "src/entry.js"), plugins: [tsgradRollup({ include: [join(dir, "src")] })] })).close());
    expect(printed).toMatch(/\[tsgrad\] wrote .*model\.grad\.ts/);
    expect(readFileSync(join(dir, "src/model.grad.ts"), "utf8")).toContain("dx += 2 * dscale;");
  });

  it("fails a one-off build on a model with errors, naming the file, line and column", async () => {
    write("src/helpers.ts", helper(2).replace("2 * v", "v * Math.random()"));
    const esbuild = await import("esbuild");
    const failed = await quietly(() => esbuild.build({
      absWorkingDir: dir, entryPoints: ["src/main.ts"], bundle: true, write: false, logLevel: "silent",
      plugins: [tsgradEsbuild({ include: [join(dir, "src")] })],
    }).then(() => "built", (e: Error) => e.message));
    expect(failed.result).toMatch(/helpers\.ts:2:14: error: `Math\.random\(\)` is not supported here/);
  });
});
