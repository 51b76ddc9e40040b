/**
 * Builds dist/, what the package ships (npm runs this on `prepare`: before `npm pack` and
 * publishing, on `npm ci` in the repository, and when a project installs tsgrad from git):
 *
 * - dist/*.js: the compiler, its CLI, the bundler plugin and the runtime as ES modules, by
 *   esbuild. Shared code goes in chunks, so `tsgrad/runtime` and `tsgrad/tensor` share one
 *   Tensor implementation. Dependencies stay imports of their packages.
 * - dist/types/: declarations, by tsc (tsconfig.build.json).
 *
 * ts-morph is CommonJS. Imported from an ES module, Node first scans its 1 MB of source for
 * its export names (0.2-0.3 s of a cold start); the bundle loads it with `require` instead,
 * through a small module that re-exports its names, read from ts-morph itself here.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const dist = join(root, "dist");

/**
 * Packages loaded with require(), not import: ts-morph, CommonJS big enough for Node's export
 * scan to show, and prettier's pieces, whose CommonJS builds the bin's code cache can keep
 * (compiler/compile-cache.ts; Node 20 caches no ES module).
 */
const REQUIRED = ["ts-morph", "prettier/standalone", "prettier/plugins/estree", "prettier/plugins/babel"];

const requireInstead = {
  name: "require-commonjs",
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${REQUIRED.map((r) => r.replace(/[/]/g, "\\/")).join("|")})$`) }, (args) => ({ path: args.path, namespace: "required" }));
    build.onLoad({ filter: /.*/, namespace: "required" }, (args) => {
      const names = Object.keys(require(args.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
      const lines = [
        `import { createRequire } from "node:module";`,
        `const required = createRequire(import.meta.url)(${JSON.stringify(args.path)});`,
        ...names.map((n) => `export const ${n} = required.${n};`),
      ];
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};

rmSync(dist, { recursive: true, force: true });

await esbuild.build({
  absWorkingDir: root,
  entryPoints: {
    api: "compiler/api.ts",
    cli: "compiler/cli.ts",
    "compile-cache": "compiler/compile-cache.ts",
    vite: "compiler/plugin/vite.ts",
    rollup: "compiler/plugin/rollup.ts",
    esbuild: "compiler/plugin/esbuild.ts",
    runtime: "runtime/index.ts",
    tensor: "runtime/tensor.ts",
  },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  plugins: [requireInstead],
  sourcemap: true,
  logLevel: "warning",
});

const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (tsc.status !== 0) {
  console.error("build: tsc could not write the declarations (see above)");
  process.exit(1);
}
