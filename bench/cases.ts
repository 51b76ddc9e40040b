/**
 * The cases of `npm run bench`: each a forward function, the tsgrad-generated gradient and a
 * gradient written by hand, over the same inputs; and, for the memory figures, one call of
 * each gradient whose tape (what it keeps for its backward pass) bench/probe.ts measures.
 * `CASES` holds factories, so a process measuring one case's memory builds only that case.
 */
import { staged } from "../fixtures/staged.ts";
import { staged_grad } from "../fixtures/staged.grad.ts";
import { sigmoid } from "../runtime/index.ts";
import { astype, setTensorBackend, type Tensor } from "../runtime/tensor.ts";
import { loss } from "../examples/spiral/model.ts";
import { loss_grad } from "../examples/spiral/model.grad.ts";
import { loss_grad as twoLayerHandGrad } from "../examples/spiral/hand.ts";
import { makeTwoLayerProblem } from "./twolayer.ts";
import { recurrence, rosenbrock } from "../fixtures/loops.ts";
import { recurrence_grad, rosenbrock_grad } from "../fixtures/loops.grad.ts";
import { tapeProbe } from "./probe.ts";

/** One gradient for the tape measurement: a module, its function, and one call of it. */
export interface TapeSide {
  readonly module: URL;
  readonly fn: string;
  /** The line before which its backward pass starts (default: the first `// line N: expr` comment). */
  readonly marker?: RegExp;
  /** Calls the function it is given (the instrumented copy of `fn`) once. */
  readonly call: (grad: never) => unknown;
}

export interface Case {
  readonly name: string;
  /** Calls per timed sample, for cases too quick to time one call at a time (figures are per call). */
  readonly reps?: number;
  readonly forward: () => number;
  readonly generated: () => number;
  readonly hand: () => number;
  /** Work any gradient of this case must do (a fresh result array), timed alongside, as a floor. */
  readonly floor?: { readonly what: string; readonly run: () => number };
  /** One call of each gradient, for the bytes its tape keeps; a function is hand-written code that calls tapeProbe() itself. */
  readonly tape?: { readonly generated: TapeSide; readonly hand: TapeSide | (() => unknown) };
}

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const spiral = (name: string) => new URL(`../examples/spiral/${name}`, import.meta.url);
/** (a) the staged scalar function of the notes over 10^6 points. */
function stagedCase(): Case {
  const n = 1_000_000;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = Math.sin(i) * 3;
    ys[i] = Math.cos(i * 0.7) * 3;
  }
  // the notes' flat backward code, by hand
  let probing = false;
  const handGrad = (x: number, y: number) => {
    const sigy = sigmoid(y);
    const num = x + sigy;
    const sigx = sigmoid(x);
    const xpy = x + y;
    const xpysqr = xpy ** 2;
    const den = sigx + xpysqr;
    const invden = 1 / den;
    const f = num * invden;
    if (probing) tapeProbe();
    const dnum = invden;
    const dinvden = num;
    const dden = (-1 / den ** 2) * dinvden;
    const dxpy = 2 * xpy * dden;
    const dx = dxpy + (1 - sigx) * sigx * dden + dnum;
    const dy = dxpy + (1 - sigy) * sigy * dnum;
    return { value: f, grad: { x: dx, y: dy } };
  };
  return {
    name: "(a) staged f(x, y), 10^6 points",
    forward: () => {
      let s = 0;
      for (let i = 0; i < n; i++) s += staged(xs[i]!, ys[i]!);
      return s;
    },
    generated: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = staged_grad(xs[i]!, ys[i]!);
        s += r.value + r.grad.x + r.grad.y;
      }
      return s;
    },
    hand: () => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const r = handGrad(xs[i]!, ys[i]!);
        s += r.value + r.grad.x + r.grad.y;
      }
      return s;
    },
    tape: {
      generated: { module: fixture("staged.grad.ts"), fn: "staged_grad", call: (g: typeof staged_grad) => g(3, -4) },
      hand: () => {
        probing = true;
        handGrad(3, -4);
        probing = false;
      },
    },
  };
}

/**
 * (b) the two-layer net of the spiral example (examples/spiral/model.ts) at N=256, D=100,
 * H=256, C=10: forward is the user's `loss`, generated is tsgrad's `loss_grad`, hand is the
 * notes' CS231n backward written with the same runtime ops (examples/spiral/hand.ts). In
 * float64 and float32 on the WebAssembly SIMD kernels, and in float64 on the JavaScript
 * loops (what runs where SIMD WebAssembly is missing).
 */
function twoLayerCase(dtype: "float64" | "float32", backend: "wasm" | "js"): Case {
  const P = makeTwoLayerProblem(256, 100, 256, 10, 1);
  const t = (x: Tensor) => (dtype === "float32" ? astype(x, "float32") : x);
  const [W1, b1, W2, b2, X, y, reg] = [t(P.W1), t(P.b1), t(P.W2), t(P.b2), t(P.X), P.y, P.reg] as const;
  const checksum = (r: { value: number; grad: { W1: { data: ArrayLike<number> } } }) => r.value + r.grad.W1.data[0]!;
  // each call sets the backend, so the js row runs the loops while the others run the kernels
  const on = <R>(f: () => R) => () => {
    setTensorBackend(backend);
    const r = f();
    setTensorBackend("wasm");
    return r;
  };
  const args = [W1, b1, W2, b2, X, y, reg] as const;
  return {
    name: `(b) two-layer net, N=256 D=100 H=256 C=10, ${dtype}${backend === "js" ? ", JS loops (no SIMD)" : ""}`,
    forward: on(() => loss(...args)),
    generated: on(() => checksum(loss_grad(...args))),
    hand: on(() => checksum(twoLayerHandGrad(...args))),
    tape: {
      generated: { module: spiral("model.grad.ts"), fn: "loss_grad", call: (g: typeof loss_grad) => on(() => g(...args))() },
      hand: { module: spiral("hand.ts"), fn: "loss_grad", marker: /\/\/ Backward pass\./, call: (g: typeof loss_grad) => on(() => g(...args))() },
    },
  };
}

/**
 * (c) Rosenbrock's function over 100 000 inputs, a `number[]` loop (fixtures/loops.ts).
 * Twice: each gradient in a new array, as a one-off call makes it; and each written into
 * the same array every call (`@into`), as a minimisation loop would. The hand-written
 * gradient is the fastest we could write, the limit: a `Float64Array` (the type tsgrad's
 * gradient of a `number[]` has), one pass that reads each x[i] once and writes each element
 * of the gradient once, carrying x[i + 1] and its term's share of dx[i + 1] to the next step.
 */
function rosenbrockCase(into: boolean): Case {
  const n = 100_000;
  const x = Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
  let probing = false;
  const handGrad = (x: number[], into?: Float64Array) => {
    if (probing) tapeProbe();
    const m = x.length;
    const dx = into ?? new Float64Array(m);
    if (m === 0) return { value: 0, grad: { x: dx } };
    let s = 0;
    let xi = x[0]!;
    let carried = 0; // what term i - 1 adds to dx[i]
    for (let i = 0; i < m - 1; i++) {
      const next = x[i + 1]!;
      const a = next - xi * xi;
      const b = 1 - xi;
      s += 100 * a * a + b * b;
      dx[i] = carried - 400 * a * xi - 2 * b;
      carried = 200 * a;
      xi = next;
    }
    dx[m - 1] = carried;
    return { value: s, grad: { x: dx } };
  };
  const [mine, theirs] = [new Float64Array(n), new Float64Array(n)];
  const tape = {
    generated: { module: fixture("loops.grad.ts"), fn: "rosenbrock_grad", call: (g: typeof rosenbrock_grad) => (into ? g(x, 1, { x: mine }) : g(x)) },
    hand: () => {
      probing = true;
      handGrad(x, into ? theirs : undefined);
      probing = false;
    },
  };
  if (into) {
    return {
      name: "(c) Rosenbrock, number[] of 10^5, gradient @into one array",
      reps: 20,
      forward: () => rosenbrock(x),
      generated: () => { const r = rosenbrock_grad(x, 1, { x: mine }); return r.value + r.grad.x[7]!; },
      hand: () => { const r = handGrad(x, theirs); return r.value + r.grad.x[7]!; },
      tape,
    };
  }
  return {
    name: "(c) Rosenbrock, number[] of 10^5, new gradient array",
    reps: 20,
    forward: () => rosenbrock(x),
    generated: () => { const r = rosenbrock_grad(x); return r.value + r.grad.x[7]!; },
    hand: () => { const r = handGrad(x); return r.value + r.grad.x[7]!; },
    floor: {
      what: "a new Float64Array of 10^5, each element written once",
      run: () => {
        const d = new Float64Array(n);
        for (let i = 0; i < n; i++) d[i] += x[i]!;
        return d[7]!;
      },
    },
    tape,
  };
}

/** (d) the recurrence h = tanh(w·h + u·x[t] + b) over 100 000 steps (fixtures/loops.ts). */
function recurrenceCase(): Case {
  const n = 100_000;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.1));
  const [w, u, b] = [0.6, 0.9, -0.1];
  // by hand: keep every h (n + 1 of them), then walk back
  let probing = false;
  const handGrad = (w: number, u: number, b: number, x: Float64Array) => {
    const hs = new Float64Array(x.length + 1);
    let h = 0;
    for (let t = 0; t < x.length; t++) {
      h = Math.tanh(w * h + u * x[t]! + b);
      hs[t + 1] = h;
    }
    if (probing) tapeProbe();
    let dh = 1, dw = 0, du = 0, db = 0;
    const dx = new Float64Array(x.length);
    for (let t = x.length - 1; t >= 0; t--) {
      const da = (1 - hs[t + 1]! * hs[t + 1]!) * dh;
      dw += hs[t]! * da;
      du += x[t]! * da;
      db += da;
      dx[t] = u * da;
      dh = w * da;
    }
    return { value: h, grad: { w: dw, u: du, b: db, x: dx } };
  };
  return {
    name: "(d) recurrence h = tanh(w·h + u·x[t] + b), 10^5 steps",
    forward: () => recurrence(w, u, b, x),
    generated: () => { const r = recurrence_grad(w, u, b, x); return r.value + r.grad.w + r.grad.x[3]!; },
    hand: () => { const r = handGrad(w, u, b, x); return r.value + r.grad.w + r.grad.x[3]!; },
    tape: {
      generated: { module: fixture("loops.grad.ts"), fn: "recurrence_grad", call: (g: typeof recurrence_grad) => g(w, u, b, x) },
      hand: () => {
        probing = true;
        handGrad(w, u, b, x);
        probing = false;
      },
    },
  };
}

/** Every case, as a factory: building one allocates its inputs. */
export const CASES: readonly (() => Case)[] = [
  stagedCase,
  () => twoLayerCase("float64", "wasm"),
  () => twoLayerCase("float32", "wasm"),
  () => twoLayerCase("float64", "js"),
  () => rosenbrockCase(false),
  () => rosenbrockCase(true),
  recurrenceCase,
];
