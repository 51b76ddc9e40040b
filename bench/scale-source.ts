/**
 * Generated inputs for the compile-time bench (bench/scale.mts) and its test
 * (test/reliability/scale.test.ts): straight-line `@differentiable` functions of any length,
 * a chain that mixes `+`, `*`, `Math.sin` and `Math.exp` and reads earlier values again
 * (fan-out), so the backward pass sums several contributions into most adjoints.
 */

/** The body of one function of `statements` statements over (x, y), its values bounded. */
export function chainFunction(name: string, statements: number): string {
  const lines = [`/** @differentiable */`, `export function ${name}(x: number, y: number): number {`];
  const v = (i: number) => (i < 0 ? (i % 2 === 0 ? "x" : "y") : `v${i}`);
  for (let i = 0; i < statements; i++) {
    const a = v(i - 1);
    // fan-out: an earlier value, up to 37 statements back, read again
    const b = v(i - 2 - ((i * 7) % 37));
    let expr: string;
    switch (i % 5) {
      case 0: expr = `Math.sin(${a}) * ${b}`; break;
      case 1: expr = `${a} * 0.5 + ${b} * 0.25`; break;
      case 2: expr = `Math.exp(Math.sin(${a})) * 0.3 - ${b} * 0.1`; break;
      case 3: expr = `${a} * Math.sin(${b}) + x`; break;
      default: expr = `(${a} + ${b}) * 0.4 + y * ${a}`; break;
    }
    lines.push(`  const v${i} = ${expr};`);
  }
  lines.push(`  return ${v(statements - 1)};`, `}`);
  return lines.join("\n");
}

/** A module of `statements` statements in one function. */
export function chainModule(statements: number): string {
  return chainFunction("f", statements) + "\n";
}

/** A module of about `lines` lines: functions of `perFunction` statements each. */
export function manyFunctionsModule(lines: number, perFunction = 50): string {
  const functions: string[] = [];
  let count = 0;
  for (let k = 0; count < lines; k++) {
    const fn = chainFunction(`f${k}`, perFunction);
    functions.push(fn);
    count += fn.split("\n").length + 1;
  }
  return functions.join("\n\n") + "\n";
}
