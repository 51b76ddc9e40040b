/**
 * A user's own project for the end-to-end tests: its package.json and strict tsconfig,
 * models that import tsgrad's runtime by its package names, and a program that prints the
 * gradients. Nothing here knows where tsgrad comes from (tarball, path or git).
 */
import { spawn, spawnSync, type SpawnOptions, type SpawnSyncOptions } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The seeds' staged example at (3, -4): f, df/dx, df/dy. */
export const STAGED = { value: 1.5456448841066441, x: 2.0595697955721652, y: 1.5922327514838093 };

/** The files of the project, by path. */
export const PROJECT: Record<string, string> = {
  "package.json": JSON.stringify({ name: "user-project", version: "1.0.0", private: true, type: "module" }, null, 2) + "\n",
  // strict, NodeNext, no allowImportingTsExtensions: relative imports end in .js
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noUncheckedIndexedAccess: true,
      noUnusedLocals: true, outDir: "out", rootDir: "src", lib: ["ES2022", "DOM"], types: [],
    },
    include: ["src"],
  }, null, 2) + "\n",
  "src/helpers.ts": `/** A helper the model calls: its body is inlined into the gradient. */\nexport function scale(v: number): number {\n  return 1 * v;\n}\n`,
  "src/model.ts": `import { sigmoid } from "tsgrad/runtime";
import { scale } from "./helpers.js";

/** The staged example of the CS231n notes: f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²). */
/** @differentiable */
export function staged(x: number, y: number): number {
  const sigy = sigmoid(y);
  const num = x + sigy;
  const sigx = sigmoid(x);
  const xpy = x + y;
  const xpysqr = xpy ** 2;
  const den = sigx + xpysqr;
  const invden = 1 / den;
  return scale(num * invden);
}

/**
 * Written as this project's tsconfig (noUncheckedIndexedAccess) asks: \`x[i]!\`.
 * @differentiable
 */
export function sumSquares(x: number[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return s;
}
`,
  // a tensor model: the backward pass adds runtime helpers (sumTo for the broadcast bias)
  "src/net.ts": `import { relu } from "tsgrad/runtime";
import { add, item, matmul, mean, tanh, type Tensor } from "tsgrad/tensor";

/** @differentiable */
export function layer(W: Tensor, b: Tensor, X: Tensor, k: number): number {
  const h = tanh(add(matmul(X, W), b));
  return item(mean(h)) * relu(k);
}
`,
  // a custom gradient: the generated module imports this module back, as ./custom.js (NodeNext needs the extension)
  "src/custom.ts": `/** @gradient cubeBackward */
export function cube(x: number): number {
  return x * x * x;
}

export function cubeBackward(x: number, out: number, dout: number): number {
  return 3 * x * x * dout;
}

/** @differentiable */
export function twiceCube(x: number): number {
  return 2 * cube(x);
}
`,
  "src/main.ts": `import { gradcheck } from "tsgrad/runtime";
import { tensor } from "tsgrad/tensor";
import { layer } from "./net.js";
import { layer_grad } from "./net.grad.js";
import { staged_grad, sumSquares_grad } from "./model.grad.js";
import { twiceCube_grad } from "./custom.grad.js";

const { value, grad } = staged_grad(3, -4);
const W = tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]);
const b = tensor([0.05, -0.05]);
const X = tensor([[1, 2, 3], [-1, 0.5, 2]]);
// names: a bundler may rename the parameters gradcheck would read them from
const check = gradcheck(layer, layer_grad, [W, b, X, 0.7], { names: ["W", "b", "X", "k"] });
console.log(JSON.stringify({ value, x: grad.x, y: grad.y, tensorGradcheck: check.ok, db: Array.from(layer_grad(W, b, X, 0.7).grad.b.data), custom: twiceCube_grad(2).grad.x, squares: Array.from(sumSquares_grad([1, -2]).grad.x) }));
`,
  "src/api.ts": `import { compile, type CompileResult } from "tsgrad";

const result: CompileResult = await compile("/** @differentiable */\\nexport function f(x: number): number {\\n  return x * x;\\n}\\n", "f.ts");
console.log(JSON.stringify({ compiled: result.functions, errors: result.diagnostics.length, hasGrad: result.output?.includes("export function f_grad") ?? false }));
`,
  "vite.config.ts": `import { defineConfig } from "vite";
import tsgrad from "tsgrad/vite";

export default defineConfig({
  plugins: [tsgrad()],
  build: { outDir: "web", emptyOutDir: true, lib: { entry: "src/main.ts", formats: ["es"], fileName: "main" } },
});
`,
};

export function writeProject(dir: string, files: Record<string, string> = PROJECT): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; its output in the message when it fails. */
export function sh(command: string, args: readonly string[], options: SpawnSyncOptions & { ok?: boolean } = {}): Ran {
  const r = spawnSync(command, args, { encoding: "utf8", timeout: 300_000, ...options });
  const ran = { status: r.status, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
  if (options.ok !== false && r.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.status}${r.error ? ` (${r.error.message})` : ""}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`);
  }
  return ran;
}

/** Runs a command in the background (an npm install the tests need later); fails as `sh` does. */
export function shInBackground(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => {
      if (status === 0) resolve({ status, stdout, stderr });
      else reject(new Error(`${command} ${args.join(" ")} exited ${status}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    });
  });
}

/** The JSON line a run of main prints. */
export function printed(ran: Ran): { value: number; x: number; y: number; tensorGradcheck: boolean; db: number[]; custom: number; squares: number[] } {
  const line = ran.stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error(`no JSON line in:\n${ran.stdout}\n${ran.stderr}`);
  return JSON.parse(line);
}
