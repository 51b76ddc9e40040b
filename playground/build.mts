/**
 * Builds the playground with esbuild: playground/src/main.ts and everything it imports
 * (the compiler, ts-morph, prettier's standalone build, CodeMirror) into one script beside
 * playground/index.html, in playground/dist/. Node-only imports of the compiler are aliased
 * to small browser versions (src/shims/); the seeds' examples are read from fixtures/.
 *
 *   tsx playground/build.mts            build
 *   tsx playground/build.mts --serve    build, then serve playground/dist on http://127.0.0.1:5173
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { EXAMPLES } from "./examples.ts";

const root = new URL("..", import.meta.url).pathname;
const src = `${root}playground/src/`;

const browserShims: esbuild.Plugin = {
  name: "browser-shims",
  setup(build) {
    build.onResolve({ filter: /^(node:)?path$/ }, () => ({ path: `${src}shims/path.ts` }));
    build.onResolve({ filter: /^prettier$/ }, () => ({ path: `${src}shims/prettier.ts` }));
    // the seeds' examples, with their sources as they are in fixtures/
    build.onResolve({ filter: /^virtual:examples$/ }, () => ({ path: "examples", namespace: "examples" }));
    build.onLoad({ filter: /.*/, namespace: "examples" }, () => ({
      contents: `export default ${JSON.stringify(EXAMPLES.map((e) => ({ ...e, source: readFileSync(`${root}${e.file}`, "utf8") })))};`,
      loader: "js",
    }));
  },
};

export async function buildPlayground(outdir = `${root}playground/dist`): Promise<{ bytes: number; gzip: number }> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: [`${src}main.ts`],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    outfile: `${outdir}/main.js`,
    plugins: [browserShims],
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  copyFileSync(`${root}playground/index.html`, `${outdir}/index.html`);
  copyFileSync(`${root}playground/style.css`, `${outdir}/style.css`);
  const js = readFileSync(`${outdir}/main.js`);
  const bytes = statSync(`${outdir}/main.js`).size + statSync(`${outdir}/style.css`).size + statSync(`${outdir}/index.html`).size;
  return { bytes, gzip: gzipSync(js).length };
}

if (process.argv[1] && /build\.mts$/.test(process.argv[1])) {
  const { bytes, gzip } = await buildPlayground();
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  writeFileSync(`${root}playground/dist/size.txt`, `${bytes}\n`);
  console.log(`playground/dist: ${mb(bytes)} (main.js ${mb(gzip)} gzipped)`);
  if (process.argv.includes("--serve")) {
    const ctx = await esbuild.context({});
    const { port } = await ctx.serve({ servedir: `${root}playground/dist`, host: "127.0.0.1", port: 5173 });
    console.log(`serving http://127.0.0.1:${port}/ (Ctrl-C to stop)`);
  }
}
