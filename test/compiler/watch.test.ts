/**
 * Watch mode as the CLI runs it: one line per module with its time, errors printed while
 * the watch goes on, new modules in new directories picked up, and nothing left running
 * after close.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { watch } from "../../compiler/watch.ts";

const PLAIN = (name: string, body: string) => `/** @differentiable */\nexport function ${name}(y: number): number {\n  return ${body};\n}\n`;

describe("tsgrad --watch", () => {
  it("recompiles a changed module and a new one in a new directory, prints errors without stopping, and stops on close", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsgrad-watch-"));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    let out = "";
    let err = "";
    write("src/a.ts", PLAIN("a", "y * y"));
    const watcher = await watch([join(dir, "src")], {}, { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) });
    const until = async (what: () => boolean, label: string) => {
      for (const start = Date.now(); !what(); await new Promise((r) => setTimeout(r, 25))) {
        if (Date.now() - start > 30_000) throw new Error(`no ${label}:\n${out}\n${err}`);
      }
    };
    try {
      expect(out).toMatch(/^wrote .*src\/a\.grad\.ts \(\d+ ms\)\ntsgrad: watching .*src \(1 module with @differentiable functions\); Ctrl-C stops\n$/);
      write("src/a.ts", PLAIN("a", "y * y * y"));
      await until(() => out.split("\n").filter((l) => /a\.grad\.ts/.test(l)).length === 2, "rebuild of a.ts");
      expect(readFileSync(join(dir, "src/a.grad.ts"), "utf8")).toContain("const value = prod * y;");

      write("src/deep/er/b.ts", PLAIN("b", "Math.sin(y)"));
      await until(() => /wrote .*src\/deep\/er\/b\.grad\.ts \(\d+ ms\)/.test(out), "build of the new module");
      expect(readFileSync(join(dir, "src/deep/er/b.grad.ts"), "utf8")).toContain("export function b_grad(");

      write("src/a.ts", PLAIN("a", "y * Math.random()"));
      await until(() => /a\.ts: 1 error; .*a\.grad\.ts left as it was \(\d+ ms\)/.test(err), "error report");
      expect(err).toMatch(/a\.ts:3:14: error: `Math\.random\(\)` is not supported here/);
      expect(readFileSync(join(dir, "src/a.grad.ts"), "utf8")).toContain("const value = prod * y;");
    } finally {
      await watcher.close();
      rmSync(dir, { recursive: true, force: true });
    }
    await watcher.closed;
  });
});
