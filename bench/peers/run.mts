/**
 * Benchmark case (b), the two-layer net, against peer JavaScript autodiff libraries.
 *
 *   cd bench/peers && npm ci && npx tsx run.mts       (BENCH_REPEATS=15 by default)
 *
 * Every implementation gets the same seeded problem from ../twolayer.ts (N=256, D=100, H=256,
 * C=10) and computes the same loss, softmax cross-entropy plus L2 on W1 and W2. Each one is timed
 * twice per repeat: forward (the loss, read back as a JS number) and forward+gradient (loss and
 * the four gradients, all read back into JS typed arrays). Repeats are interleaved across all
 * implementations so machine drift hits them alike; figures are medians.
 *
 * Before timing, every implementation's loss and gradients are compared with tsgrad's float64
 * hand-written gradient, so a fast wrong answer would show.
 */

import type * as TF from "@tensorflow/tfjs";

// Node 20 (V8 11.3) has no Float16Array global and no V8 flag for one. jax-js 0.1.25 tests
// `data instanceof Float16Array` whenever it builds an array from a Float64Array, so every
// float64 array throws "ReferenceError: Float16Array is not defined". A stand-in class makes
// that test simply false; nothing here uses float16. (Hence the dynamic imports below: the
// stand-in must exist before jax-js runs.)
(globalThis as { Float16Array?: unknown }).Float16Array ??= class Float16ArrayUnavailable {};

const { readFileSync } = await import("node:fs");
const { makeTwoLayerProblem, twoLayerLoopsForward, twoLayerLoopsGrad } = await import("../twolayer.ts");
const { loss } = await import("../../examples/spiral/model.ts");
const { astype } = await import("../../runtime/tensor.ts");
const { loss_grad } = await import("../../examples/spiral/model.grad.ts");
const jax = await import("@jax-js/jax");
const tf = await import("@tensorflow/tfjs");
type JaxArray = InstanceType<typeof jax.numpy.Array>;

const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const [N, D, H, C] = [256, 100, 256, 10];
const P = makeTwoLayerProblem(N, D, H, C, 1);
const { reg } = P;
const PARAMS = ["W1", "b1", "W2", "b2"] as const;
type ParamName = (typeof PARAMS)[number];

/** What a gradient call hands back, in plain JS arrays. */
interface GradOut {
  value: number;
  grad: Record<ParamName, ArrayLike<number>>;
}

interface Impl {
  readonly name: string;
  readonly dtype: string;
  readonly forward: () => number;
  readonly grad: () => GradOut;
}

// ---------------------------------------------------------------------------
// tsgrad: runtime tensor ops, and hand-written loops (both float64)

const args = [P.W1, P.b1, P.W2, P.b2, P.X, P.y, reg] as const;
const f32 = (t: (typeof args)[0]) => astype(t, "float32");
const args32 = [f32(P.W1), f32(P.b1), f32(P.W2), f32(P.b2), f32(P.X), P.y, reg] as const;
const fromTensors = (r: ReturnType<typeof loss_grad>): GradOut => ({
  value: r.value,
  grad: { W1: r.grad.W1.data, b1: r.grad.b1.data, W2: r.grad.W2.data, b2: r.grad.b2.data },
});
const impls: Impl[] = [
  {
    name: "tsgrad (generated loss_grad, runtime ops)",
    dtype: "float64",
    forward: () => loss(...args),
    grad: () => fromTensors(loss_grad(...args)),
  },
  {
    name: "tsgrad (generated loss_grad, runtime ops)",
    dtype: "float32",
    forward: () => loss(...args32),
    grad: () => fromTensors(loss_grad(...args32)),
  },
  {
    name: "hand-written loops",
    dtype: "float64",
    forward: () => twoLayerLoopsForward(...args),
    grad: () => fromTensors(twoLayerLoopsGrad(...args)),
  },
];
const notes: string[] = [];

// ---------------------------------------------------------------------------
// jax-js: wasm device (single-threaded on Node 20, which has no global Worker), own autodiff

const { numpy: np, nn } = jax;
// init() with no arguments also probes WebGPU and throws "ReferenceError: navigator is not
// defined" on Node 20, so ask for the CPU devices only.
const jaxDevices = await jax.init("wasm", "cpu");
jax.defaultDevice("wasm");
const jaxVersion = JSON.parse(readFileSync(new URL("./node_modules/@jax-js/jax/package.json", import.meta.url), "utf8")).version;
notes.push(`jax-js ${jaxVersion}: devices ${jaxDevices.join(", ")}; using wasm`);

// The "cpu" device (interpreted JS, which jax-js calls a debugging device) is slow; opt in with BENCH_JAX_CPU=1.
const JAX_CONFIGS: ["float32" | "float64", "wasm" | "cpu"][] = [["float64", "wasm"], ["float32", "wasm"]];
if (process.env.BENCH_JAX_CPU === "1") JAX_CONFIGS.push(["float64", "cpu"]);

type JaxParams = { W1: JaxArray; b1: JaxArray; W2: JaxArray; b2: JaxArray };

function jaxImpls(dtype: "float32" | "float64", device: "wasm" | "cpu"): Impl[] {
  const typed = (t: { data: Float64Array; shape: readonly number[] }) =>
    np.array(dtype === "float64" ? Float64Array.from(t.data) : Float32Array.from(t.data), { shape: [...t.shape], dtype: dtype === "float64" ? np.float64 : np.float32, device });
  const params: JaxParams = { W1: typed(P.W1), b1: typed(P.b1), W2: typed(P.W2), b2: typed(P.b2) };
  const X = typed(P.X);
  const oneHot = new Float64Array(N * C);
  for (let r = 0; r < N; r++) oneHot[r * C + P.y[r]!] = 1;
  const Y = typed({ data: oneHot, shape: [N, C] });

  // jax-js arrays are reference counted: every use consumes one reference, `.ref` adds one.
  const loss = (p: JaxParams, x: JaxArray, y: JaxArray): JaxArray => {
    const hidden = nn.relu(np.matmul(x, p.W1.ref).add(p.b1));
    const scores = np.matmul(hidden, p.W2.ref).add(p.b2);
    const dataLoss = nn.logSoftmax(scores, 1).mul(y).sum().mul(-1 / N);
    const regLoss = np.square(p.W1).sum().add(np.square(p.W2).sum()).mul(0.5 * reg);
    return dataLoss.add(regLoss);
  };
  const refs = (): [JaxParams, JaxArray, JaxArray] => [
    { W1: params.W1.ref, b1: params.b1.ref, W2: params.W2.ref, b2: params.b2.ref },
    X.ref,
    Y.ref,
  ];
  const read = ([value, g]: [JaxArray, JaxParams]): GradOut => ({
    value: value.dataSync()[0]!,
    grad: { W1: g.W1.dataSync(), b1: g.b1.dataSync(), W2: g.W2.dataSync(), b2: g.b2.dataSync() },
  });
  const eagerVG = jax.valueAndGrad(loss);
  const jitF = jax.jit(loss);
  const jitVG = jax.jit(jax.valueAndGrad(loss));
  return [
    {
      name: `jax-js ${device} eager`,
      dtype,
      forward: () => loss(...refs()).dataSync()[0]!,
      grad: () => read(eagerVG(...refs()) as [JaxArray, JaxParams]),
    },
    {
      name: `jax-js ${device} jit`,
      dtype,
      forward: () => (jitF(...refs()) as JaxArray).dataSync()[0]!,
      grad: () => read(jitVG(...refs()) as unknown as [JaxArray, JaxParams]),
    },
  ];
}

for (const [dtype, device] of JAX_CONFIGS) {
  try {
    impls.push(...jaxImpls(dtype, device));
  } catch (e) {
    notes.push(`jax-js ${device} ${dtype}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// TensorFlow.js: pure-JS CPU backend (no tfjs-node), float32 only, own autodiff

await tf.setBackend("cpu");
await tf.ready();
notes.push(`tfjs ${tf.version.tfjs}: backend ${tf.getBackend()}`);
try {
  tf.tensor([1, 2], [2], "float64" as "float32");
} catch (e) {
  notes.push(`tfjs float64: tf.tensor(..., "float64") throws "${(e as Error).message}" (dtypes are float32, int32, bool, complex64, string)`);
}
{
  const t32 = (t: { data: Float64Array; shape: readonly number[] }) => tf.tensor(Float32Array.from(t.data), [...t.shape], "float32");
  const W1 = t32(P.W1), b1 = t32(P.b1), W2 = t32(P.W2), b2 = t32(P.b2), X = t32(P.X);
  const Y = tf.oneHot(tf.tensor1d(P.y, "int32"), C).toFloat();
  const loss = (w1: TF.Tensor, bb1: TF.Tensor, w2: TF.Tensor, bb2: TF.Tensor): TF.Scalar => {
    const hidden = tf.relu(tf.add(tf.matMul(X, w1), bb1));
    const scores = tf.add(tf.matMul(hidden, w2), bb2);
    const dataLoss = tf.mul(tf.sum(tf.mul(tf.logSoftmax(scores, 1), Y)), -1 / N);
    const regLoss = tf.mul(tf.add(tf.sum(tf.square(w1)), tf.sum(tf.square(w2))), 0.5 * reg);
    return tf.add(dataLoss, regLoss) as TF.Scalar;
  };
  const vg = tf.valueAndGrads(loss as (...xs: TF.Tensor[]) => TF.Scalar);
  impls.push({
    name: "tfjs cpu",
    dtype: "float32",
    forward: () => tf.tidy(() => loss(W1, b1, W2, b2)).dataSync()[0]!,
    grad: () => {
      const out = tf.tidy(() => {
        const { value, grads } = vg([W1, b1, W2, b2]);
        return [value, ...grads] as TF.Tensor[];
      });
      const [value, g1, gb1, g2, gb2] = out.map((t) => t.dataSync());
      out.forEach((t) => t.dispose());
      return { value: value![0]!, grad: { W1: g1!, b1: gb1!, W2: g2!, b2: gb2! } };
    },
  });
}

// ---------------------------------------------------------------------------
// Agreement with tsgrad's float64 gradient, then timing

const ref = fromTensors(loss_grad(...args));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const agreement = new Map<Impl, string>();
const failed = new Set<Impl>();
for (const impl of impls) {
  try {
    const fwd = impl.forward();
    const g = impl.grad();
    const gradErr = Math.max(...PARAMS.map((k) => maxDiff(g.grad[k], ref.grad[k])));
    const valErr = Math.max(Math.abs(fwd - ref.value), Math.abs(g.value - ref.value));
    agreement.set(impl, `${valErr.toExponential(1)} / ${gradErr.toExponential(1)}`);
  } catch (e) {
    failed.add(impl);
    notes.push(`${impl.name} ${impl.dtype}: ${(e as Error).stack?.split("\n").slice(0, 2).join(" ")}`);
  }
}
const timed = impls.filter((i) => !failed.has(i));

function time(f: () => unknown): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

for (let w = 0; w < WARMUP; w++) for (const impl of timed) (time(impl.forward), time(impl.grad));
const samples = new Map(timed.map((i) => [i, { fwd: [] as number[], grad: [] as number[] }]));
for (let r = 0; r < REPEATS; r++) {
  for (const impl of timed) {
    samples.get(impl)!.fwd.push(time(impl.forward));
    samples.get(impl)!.grad.push(time(impl.grad));
  }
}

const base = samples.get(impls[0]!)!;
const [baseF, baseG] = [median(base.fwd), median(base.grad)];
console.log(
  `two-layer net N=${N} D=${D} H=${H} C=${C}: medians of ${REPEATS} interleaved repeats after ${WARMUP} warm-up (Node ${process.version})\n`,
);
const header = ["implementation", "dtype", "forward ms", "fwd+grad ms", "grad/fwd", "fwd ×ops", "grad ×ops", "max |Δ| value / grad"];
const rows = [header];
for (const impl of timed) {
  const s = samples.get(impl)!;
  const [f, g] = [median(s.fwd), median(s.grad)];
  rows.push([impl.name, impl.dtype, f.toFixed(2), g.toFixed(2), (g / f).toFixed(2), (f / baseF).toFixed(2), (g / baseG).toFixed(2), agreement.get(impl)!]);
}
const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
console.log(`\n×ops = time relative to "${impls[0]!.name}" (lower is faster); Δ is against tsgrad's float64 gradient.`);
for (const n of notes) console.log(`note: ${n}`);
