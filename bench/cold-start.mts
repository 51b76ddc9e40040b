/**
 * npm run bench (second part) — the command line's cold start, as a user's build step
 * starts it: `tsgrad src/model.ts` on a 100-line model (fixtures/arrays.ts), run through
 * `sh -c` with the project's node_modules/.bin on PATH (what `npm run` does), each run a
 * fresh process, beside `node -e 0` (Node's own start) in the same run.
 *
 * The project links tsgrad as an install from a path does, so it runs the built dist/
 * (rebuilt here first). The first run after a build has no code cache
 * (compiler/compile-cache.ts) and is reported apart; the figure is the median of the
 * runs after it, interleaved with `node -e 0`.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDirFor } from "../compiler/compile-cache.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);

const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: repo, stdio: "inherit" });
if (build.status !== 0) throw new Error("npm run build failed");

const project = mkdtempSync(join(tmpdir(), "tsgrad-cold-"));
mkdirSync(join(project, "src"));
mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
writeFileSync(join(project, "package.json"), JSON.stringify({ name: "cold", private: true, type: "module" }));
symlinkSync(repo, join(project, "node_modules", "tsgrad"));
symlinkSync(join("..", "tsgrad", "bin", "tsgrad.js"), join(project, "node_modules", ".bin", "tsgrad"));
copyFileSync(join(repo, "fixtures", "arrays.ts"), join(project, "src", "model.ts"));
const lines = readFileSync(join(project, "src", "model.ts"), "utf8").split("\n").length - 1;

const env = { ...process.env, PATH: `${join(project, "node_modules", ".bin")}:${process.env.PATH}` };
const time = (command: string, args: string[]) => {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd: project, env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${r.stderr}`);
  return ms;
};
const tsgrad = () => time("sh", ["-c", "tsgrad src/model.ts"]);
const node = () => time(process.execPath, ["-e", "0"]);

rmSync(cacheDirFor(repo), { recursive: true, force: true });
const first = tsgrad();
const runs = { tsgrad: [] as number[], node: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  runs.node.push(node());
  runs.tsgrad.push(tsgrad());
}
rmSync(project, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const row = (what: string, xs: number[]) => `| ${what} | ${median(xs).toFixed(0)} ms | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms |`;
console.log(`\nCold start: tsgrad on a ${lines}-line model, fresh processes from node_modules/.bin (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores):\n`);
console.log("| run | median | range |");
console.log("| --- | --- | --- |");
console.log(`| tsgrad src/model.ts, first run after a build (no code cache yet) | ${first.toFixed(0)} ms | one run |`);
console.log(row(`tsgrad src/model.ts, ${RUNS} runs`, runs.tsgrad));
console.log(row(`node -e 0, ${RUNS} runs`, runs.node));
