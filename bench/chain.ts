/**
 * The benchmark of nested calls (bench/run.mts): a chain of depth 8, each level calling the
 * next once, against the same computation written flat. tsgrad inlines calls, so both
 * gradients should be the same code and run alike.
 */

/** The innermost level: one tanh unit. */
function level0(x: number, w: number): number {
  return Math.tanh(w * x + 0.25);
}

/** Each level applies one more unit to what the level below it computes. */
function level1(x: number, w: number): number {
  const h = level0(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level2(x: number, w: number): number {
  const h = level1(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level3(x: number, w: number): number {
  const h = level2(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level4(x: number, w: number): number {
  const h = level3(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level5(x: number, w: number): number {
  const h = level4(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level6(x: number, w: number): number {
  const h = level5(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level7(x: number, w: number): number {
  const h = level6(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

function level8(x: number, w: number): number {
  const h = level7(x, w);
  return Math.tanh(w * h + 0.25) + 0.5 * h;
}

/**
 * The chain through eight nested calls.
 * @differentiable
 */
export function nested(x: number, w: number): number {
  return level8(x, w);
}

/**
 * The same computation written out by hand, without calls.
 * @differentiable
 */
export function flat(x: number, w: number): number {
  const h0 = Math.tanh(w * x + 0.25);
  const h1 = Math.tanh(w * h0 + 0.25) + 0.5 * h0;
  const h2 = Math.tanh(w * h1 + 0.25) + 0.5 * h1;
  const h3 = Math.tanh(w * h2 + 0.25) + 0.5 * h2;
  const h4 = Math.tanh(w * h3 + 0.25) + 0.5 * h3;
  const h5 = Math.tanh(w * h4 + 0.25) + 0.5 * h4;
  const h6 = Math.tanh(w * h5 + 0.25) + 0.5 * h5;
  const h7 = Math.tanh(w * h6 + 0.25) + 0.5 * h6;
  const h8 = Math.tanh(w * h7 + 0.25) + 0.5 * h7;
  return h8;
}
