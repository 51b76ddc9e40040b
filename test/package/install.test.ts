/**
 * End to end, as a user gets tsgrad: `npm pack`, the tarball installed into a fresh project
 * of their own (strict tsconfig, NodeNext, no tsx, nothing global), then the bin, tsc, node,
 * an esbuild browser bundle, `--watch` and the Vite plugin, each checked by the gradient's
 * numbers; and the same package installed from a path and from a git URL.
 *
 * It needs the npm registry, or its cache, for the project's typescript, esbuild and vite
 * (`--prefer-offline`). Budget: a few minutes on a loaded 2-core machine, most of it npm.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT, printed, sh, shInBackground, STAGED, writeProject, type Ran } from "./project.ts";

const repo = join(import.meta.dirname, "..", "..");
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];
/** What the project installs beside tsgrad, pinned as the repository pins them. */
const TOOLS = ["typescript@5.9.3", "esbuild@0.28.2", "vite@8.3.8"];
const tsxOfRepo = join(repo, "node_modules", ".bin", "tsx");
/** Each test's budget: its commands share the machine with the path and git installs running meanwhile. */
const BUDGET = 300_000;

let work: string;
let project: string;
let tarball: string;
/** A PATH with node and nothing else: the bin must need no tsx, npx or global install. */
let bare: string;

const bin = (dir: string, ...args: string[]) => sh(join(dir, "node_modules", ".bin", "tsgrad"), args, { cwd: dir, ok: false, env: { ...process.env, PATH: bare } });
const expectStaged = (got: { value: number; x: number; y: number }, factor = 1) => {
  expect(got.value).toBeCloseTo(STAGED.value * factor, 12);
  expect(got.x).toBeCloseTo(STAGED.x * factor, 12);
  expect(got.y).toBeCloseTo(STAGED.y * factor, 12);
};

/** The projects that install tsgrad from a path and from a git URL: their npm installs run while the tarball's tests do. */
const others = new Map<string, Promise<Ran>>();

/** A new project with only tsgrad (from `spec`) and typescript, its install started. */
function startProject(name: string, spec: string): void {
  const dir = join(work, name);
  writeProject(dir, { "package.json": PROJECT["package.json"]!, "tsconfig.json": PROJECT["tsconfig.json"]!, "src/helpers.ts": PROJECT["src/helpers.ts"]!, "src/model.ts": PROJECT["src/model.ts"]! });
  writeFileSync(join(dir, "src", "main.ts"), `import { staged_grad } from "./model.grad.js";\nconst { value, grad } = staged_grad(3, -4);\nconsole.log(JSON.stringify({ value, x: grad.x, y: grad.y }));\n`);
  const install = shInBackground("npm", ["install", ...NPM_FLAGS, spec, "typescript@5.9.3"], { cwd: dir });
  install.catch(() => {}); // awaited by its test
  others.set(name, install);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "tsgrad-package-"));
  bare = join(work, "bare-path");
  mkdirSync(bare);
  symlinkSync(process.execPath, join(bare, "node"));
  sh("npm", ["pack", "--pack-destination", work, "--loglevel=error"], { cwd: repo });
  tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz"))!);
  // a clone of what is committed, as a user's git URL gives it
  const clone = join(work, "tsgrad.git");
  sh("git", ["clone", "--quiet", "--no-hardlinks", repo, clone]);
  startProject("from-git", `git+file://${clone}`);
  // its prepare rebuilds this repository's dist/, which nothing here reads meanwhile
  startProject("from-path", repo);
  project = join(work, "project");
  writeProject(project);
  sh("npm", ["install", ...NPM_FLAGS, tarball, ...TOOLS], { cwd: project });
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed tarball installed into a user's project", () => {
  it("is a public package whose bin is JavaScript run by node, with no tsx anywhere in the install", () => {
    const pkg = JSON.parse(readFileSync(join(project, "node_modules", "tsgrad", "package.json"), "utf8"));
    expect(pkg.private).toBeUndefined();
    expect(Object.keys(pkg.dependencies)).not.toContain("tsx");
    expect(readFileSync(join(project, "node_modules", "tsgrad", pkg.bin.tsgrad), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    expect(existsSync(join(project, "node_modules", "tsx"))).toBe(false);
  }, BUDGET);

  it("npx tsgrad src/model.ts writes src/model.grad.ts importing the runtime by its package name, and tsc --strict then node run it", () => {
    const r = bin(project, "src/model.ts", "src/net.ts", "src/custom.ts");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("wrote src/model.grad.ts\nwrote src/net.grad.ts\nwrote src/custom.grad.ts\n");
    expect(readFileSync(join(project, "src", "custom.grad.ts"), "utf8")).toContain(`import { cube, cubeBackward } from "./custom.js";`);
    const model = readFileSync(join(project, "src", "model.grad.ts"), "utf8");
    expect(model).toContain(`import { sigmoid } from "tsgrad/runtime";`);
    // the backward pass of a broadcast add needs sumTo, imported from where the model's tensor ops came from
    expect(readFileSync(join(project, "src", "net.grad.ts"), "utf8")).toMatch(/import \{[^}]*\bsumTo\b[^}]*\} from "tsgrad\/tensor";/);
    sh(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: project });
    const ran = printed(sh(process.execPath, ["out/main.js"], { cwd: project }));
    expectStaged(ran);
    expect(ran.tensorGradcheck).toBe(true);
    expect(ran.db).toHaveLength(2);
    // d/dx 2 x³ at 2, through the user's own backward
    expect(ran.custom).toBe(24);
    // an array model, its generated element reads checked by the project's noUncheckedIndexedAccess
    expect(ran.squares).toEqual([2, -4]);
    // and as the user types it
    expect(sh("npx", ["tsgrad", "--version"], { cwd: project }).stdout).toMatch(/^tsgrad \d+\.\d+\.\d+\n$/);
  }, BUDGET);

  it("import { compile } from \"tsgrad\" type-checks and runs", () => {
    const ran = sh(process.execPath, ["out/api.js"], { cwd: project });
    expect(JSON.parse(ran.stdout)).toEqual({ compiled: ["f"], errors: 0, hasGrad: true });
  }, BUDGET);

  it("the generated modules run under tsx too", () => {
    expectStaged(printed(sh(tsxOfRepo, ["src/main.ts"], { cwd: project })));
  }, BUDGET);

  it("esbuild bundles them for the browser, and the bundle runs", () => {
    sh(join(project, "node_modules", ".bin", "esbuild"), ["src/main.ts", "--bundle", "--platform=browser", "--format=esm", "--outfile=bundle/main.js", "--log-level=error"], { cwd: project });
    const bundle = readFileSync(join(project, "bundle", "main.js"), "utf8");
    expect(bundle).not.toMatch(/ts-morph|prettier/);
    const ran = printed(sh(process.execPath, ["bundle/main.js"], { cwd: project }));
    expectStaged(ran);
    expect(ran.tensorGradcheck).toBe(true);
  }, BUDGET);

  it("--help, a missing file and --check behave as the repository's CLI does", () => {
    const repoCli = (...args: string[]) => sh(tsxOfRepo, [join(repo, "compiler", "cli.ts"), ...args], { cwd: project, ok: false });
    const help = bin(project, "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tsgrad \[options\]/m);
    expect(help.stdout).toBe(repoCli("--help").stdout);
    const missing = bin(project, "src/nope.ts");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(repoCli("src/nope.ts").stderr);
    expect(missing.stderr).toMatch(/^src\/nope\.ts: error: cannot read the file/);
    expect(bin(project, "--check", "src/model.ts").status).toBe(0);
    writeFileSync(join(project, "src", "model.ts"), PROJECT["src/model.ts"]!.replace("return scale(num * invden);", "return scale(num / den);"));
    const stale = bin(project, "--check", "src/model.ts");
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/src\/model\.grad\.ts: error: out of date with src\/model\.ts/);
    expect(repoCli("--check", "src/model.ts").status).toBe(1);
    writeFileSync(join(project, "src", "model.ts"), PROJECT["src/model.ts"]!);
    expect(bin(project, "--frobnicate").status).toBe(2);
  }, BUDGET);

  it("--watch src/ recompiles a model when a helper its gradient inlines changes, keeps the last good output on an error, and stops on SIGINT", async () => {
    const child = spawn(join(project, "node_modules", ".bin", "tsgrad"), ["--watch", "src/"], { cwd: project, env: { ...process.env, PATH: bare } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const until = async (what: () => boolean, label: string) => {
      for (const start = Date.now(); !what(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - start > 60_000) throw new Error(`watch: no ${label} in 60 s\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      }
    };
    try {
      await until(() => stdout.includes("tsgrad: watching src"), "start");
      expect(stdout).toMatch(/^src\/model\.grad\.ts is up to date \(\d+ ms\)$/m);
      const helper = join(project, "src", "helpers.ts");
      writeFileSync(helper, PROJECT["src/helpers.ts"]!.replace("1 * v", "2 * v"));
      await until(() => /^wrote src\/model\.grad\.ts \(\d+ ms\)$/m.test(stdout), "rebuild after the helper changed");
      expectStaged(printed(sh(tsxOfRepo, ["src/main.ts"], { cwd: project })), 2);

      const good = readFileSync(join(project, "src", "model.grad.ts"), "utf8");
      writeFileSync(helper, PROJECT["src/helpers.ts"]!.replace("1 * v", "v * Math.random()"));
      await until(() => stderr.includes("src/model.ts: 1 error; src/model.grad.ts left as it was"), "error report");
      expect(stderr).toContain("src/helpers.ts:3:14: error: `Math.random()` is not supported here");
      expect(readFileSync(join(project, "src", "model.grad.ts"), "utf8")).toBe(good);
      expect(child.exitCode).toBeNull();
    } finally {
      writeFileSync(join(project, "src", "helpers.ts"), PROJECT["src/helpers.ts"]!);
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  }, BUDGET);

  it("the Vite plugin writes every model's gradient at build start, and the built bundle gives the gradient's numbers", () => {
    for (const f of ["model.grad.ts", "net.grad.ts", "custom.grad.ts"]) rmSync(join(project, "src", f));
    const build = sh(join(project, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], { cwd: project });
    expect(build.stdout).toMatch(/\[tsgrad\] wrote src\/model\.grad\.ts \(\d+ ms\)/);
    expect(build.stdout).toMatch(/\[tsgrad\] wrote src\/net\.grad\.ts \(\d+ ms\)/);
    expect(build.stdout).toMatch(/\[tsgrad\] wrote src\/custom\.grad\.ts \(\d+ ms\)/);
    expect(build.stdout).not.toMatch(/api\.ts/);
    const ran = printed(sh(process.execPath, ["web/main.js"], { cwd: project }));
    expectStaged(ran);
    expect(ran.tensorGradcheck).toBe(true);
    expect(ran.custom).toBe(24);
  }, BUDGET);

  it("the Vite plugin fails a build whose model has an error, with the located message and no stack trace of tsgrad's", () => {
    const model = join(project, "src", "model.ts");
    writeFileSync(model, PROJECT["src/model.ts"]!.replace("const xpy = x + y;", "const xpy = x + y + Math.random();"));
    try {
      const build = sh(join(project, "node_modules", ".bin", "vite"), ["build", "--logLevel", "warn"], { cwd: project, ok: false });
      expect(build.status).not.toBe(0);
      expect(build.stdout + build.stderr).toContain("src/model.ts:10:23: error: `Math.random()` is not supported here");
      expect(build.stdout + build.stderr).not.toMatch(/at .*tsgrad\/dist\//);
    } finally {
      writeFileSync(model, PROJECT["src/model.ts"]!);
    }
  }, BUDGET);
});

describe("tsgrad installed from a path and from a git URL", () => {
  /** The bin and tsc give the numbers in the project `name`, once its install is done. */
  const check = async (name: string) => {
    await others.get(name);
    const dir = join(work, name);
    const r = bin(dir, "src/model.ts");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("wrote src/model.grad.ts\n");
    sh(join(dir, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: dir });
    expectStaged(printed(sh(process.execPath, ["out/main.js"], { cwd: dir })));
  };

  it("from a path (npm links the directory and runs its prepare, which builds dist/)", async () => {
    await check("from-path");
  }, 300_000);

  it("from a git URL (npm clones it, installs its devDependencies and builds dist/ on prepare)", async () => {
    await check("from-git");
  }, 600_000);
});
