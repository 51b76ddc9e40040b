// Optimisers over named parameter records.
//
// Tensors, number[] and Float64Array parameters are updated in place; plain numbers
// cannot be, so every step returns the parameter record with new numbers filled in
// (the same array/tensor objects, a fresh record). Gradients are looked up by key;
// extra gradient keys (e.g. for data inputs) are ignored, a missing one throws.

import { formatShape, isTensor, shapeEq, TensorShapeError, type Tensor, type TensorData } from "./tensor.ts";

/** A trainable value: a tensor, a plain number, or a flat array of numbers. */
export type Param = Tensor | number | number[] | Float64Array;

/** Named parameters (or gradients), e.g. `{ W, b }`. */
export type Params = Record<string, Param>;

/** Options for `createAdam`; defaults are the usual lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8. */
export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** A stateful Adam optimiser; `step` applies one update and returns the (updated) parameter record. */
export interface Adam {
  step<P extends Params>(params: P, grads: Params): P;
}

/** Flat view of a parameter's values (writable for arrays and tensors, a copy for numbers). */
function values(value: Param): TensorData | number[] {
  if (typeof value === "number") return [value];
  return isTensor(value) ? value.data : value;
}

/** The gradient for `key` as a flat view, after checking it matches the parameter's size and shape. */
function gradFor(op: string, key: string, param: Param, grads: Params): TensorData | number[] {
  const grad = grads[key];
  if (grad === undefined) throw new Error(`${op}: no gradient for parameter "${key}"`);
  const p = values(param);
  const g = values(grad);
  const shapesDiffer = isTensor(param) && isTensor(grad) && !shapeEq(param.shape, grad.shape);
  if (p.length !== g.length || shapesDiffer) {
    throw new TensorShapeError(
      `${op}: gradient for "${key}" has shape ${formatShape(shapeOf(grad))} but the parameter has ${formatShape(shapeOf(param))}`,
    );
  }
  return g;
}

function shapeOf(value: Param): readonly number[] {
  if (typeof value === "number") return [];
  return isTensor(value) ? value.shape : [value.length];
}

/** One step of plain gradient descent, p ← p − lr·g, for every parameter. */
export function sgd<P extends Params>(params: P, grads: Params, lr: number): P {
  const next: Params = { ...params };
  for (const key of Object.keys(params)) {
    const param = params[key];
    const g = gradFor("sgd", key, param, grads);
    if (typeof param === "number") {
      next[key] = param - lr * g[0];
      continue;
    }
    const p = values(param);
    for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
  }
  return next as P;
}

/** Creates an Adam optimiser (Kingma & Ba) holding its moment estimates per parameter key. */
export function createAdam({ lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 }: AdamOptions = {}): Adam {
  const moments = new Map<string, { m: Float64Array; v: Float64Array }>();
  let t = 0;

  function step<P extends Params>(params: P, grads: Params): P {
    t++;
    const correction1 = 1 - beta1 ** t;
    const correction2 = 1 - beta2 ** t;
    const next: Params = { ...params };
    for (const key of Object.keys(params)) {
      const param = params[key];
      const g = gradFor("adam", key, param, grads);
      const p = values(param);
      let state = moments.get(key);
      if (state === undefined) {
        state = { m: new Float64Array(p.length), v: new Float64Array(p.length) };
        moments.set(key, state);
      } else if (state.m.length !== p.length) {
        throw new TensorShapeError(
          `adam: parameter "${key}" changed size from ${state.m.length} to ${p.length} between steps`,
        );
      }
      const { m, v } = state;
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        p[i] -= (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + eps);
      }
      if (typeof param === "number") next[key] = p[0];
    }
    return next as P;
  }

  return { step };
}
