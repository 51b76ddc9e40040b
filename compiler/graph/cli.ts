/**
 * `tsgrad graph FILE.ts [--fn NAME] --at x=3,y=-4 [--dout 1] [--unroll [N]] [--depth D] [-o OUT.svg]`:
 * draws a function's computational graph at a point, with every wire's value and gradient,
 * as SVG. The pure work is in index.ts; this reads the file, loads the module when the
 * graph must call its functions (custom gradients), and writes the picture.
 */
import { formatIoError, readSource, writeOutputs } from "../io.ts";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatDiagnostic } from "../diagnostics.ts";
import { drawGraph } from "./index.ts";
import type { Callable } from "./interpret.ts";

export const GRAPH_USAGE = `Usage: tsgrad graph <file.ts> [--fn NAME] --at x=3,y=-4 [options]

Draws the computational graph of a function tagged @differentiable at a point, as SVG:
inputs on the left, one node per gate, each wire with its value (green, above) and the
gradient of the result flowing back along it (red, below).

Options:
  --fn NAME       the function to draw (needed when the module has more than one)
  --at POINT      the point: name=value pairs, comma-separated; arrays as xs=[1,2,3],
                  tensors as nested arrays W=[[1,2],[3,4]], booleans as true/false
  --dout VALUE    the upstream gradient of the result (default 1 for a number result;
                  required, shaped like the result, for an array or Tensor result)
  --unroll [N]    draw loops that run at most N times (default 8) iteration by iteration;
                  without it every loop is one box with its iteration count
  --depth D       draw calls, loops and branches nested deeper than D as one box each
  -o FILE         write the SVG to FILE (default: <dir>/<function>.graph.svg; - for stdout)
  -h, --help      show this help`;

interface GraphArgs {
  file: string | null;
  fn?: string;
  at?: string;
  dout?: string;
  unroll: number;
  depth: number;
  out?: string;
}

function parseGraphArgs(argv: readonly string[]): GraphArgs | string {
  const o: GraphArgs = { file: null, unroll: 0, depth: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value (see graph --help)`);
      return v;
    };
    try {
      if (a === "--fn") o.fn = value();
      else if (a === "--at") o.at = value();
      else if (a === "--dout") o.dout = value();
      else if (a === "-o" || a === "--out") o.out = value();
      else if (a === "--unroll") {
        const next = argv[i + 1];
        o.unroll = next !== undefined && /^\d+$/.test(next) ? Number(argv[++i]) : 8;
      } else if (a === "--depth") {
        const v = value();
        if (!/^\d+$/.test(v)) return `--depth takes a whole number, not '${v}'`;
        o.depth = Number(v);
      } else if (a.startsWith("-")) return `unknown option '${a}' (see graph --help)`;
      else if (o.file === null) o.file = a;
      else return `graph draws one file at a time (given '${o.file}' and '${a}')`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (o.file === null) return "no input file (see graph --help)";
  if (o.at === undefined) return "give the point to draw the graph at with --at, e.g. --at x=3,y=-4";
  return o;
}

interface Output {
  write(text: string): unknown;
}

/** The module's exports, for the functions the graph calls by name (custom gradients): loaded only when one is asked for. */
function lazyModule(path: string) {
  let exports: Record<string, unknown> | undefined;
  let missed = false;
  return {
    get missed() {
      return missed && exports === undefined;
    },
    load: async () => {
      exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
    },
    external: (name: string): Callable | undefined => {
      if (exports === undefined) missed = true;
      const f = exports?.[name];
      return typeof f === "function" ? (f as Callable) : undefined;
    },
  };
}

export async function graphMain(argv: readonly string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    out.write(GRAPH_USAGE + "\n");
    return 0;
  }
  const args = parseGraphArgs(argv);
  if (typeof args === "string") {
    err.write(`tsgrad graph: error: ${args}\n`);
    return 2;
  }
  const file = args.file!;
  // read and written as the compiler's CLI does (compiler/io.ts): regular files only, all or nothing
  const read = readSource(file);
  if ("error" in read) {
    err.write(`${file}: error: cannot read the file: ${read.error}\n`);
    return 1;
  }
  const text = read.text;
  const sources = new Map<string, string>([[file, text]]);
  const readFile = (p: string) => {
    const source = readSource(p);
    if ("text" in source) {
      sources.set(p, source.text);
      return source.text;
    }
    if (source.missing) return undefined;
    throw new Error(source.error);
  };
  const module = lazyModule(file);
  const options = { fn: args.fn, at: args.at!, dout: args.dout, unroll: args.unroll, depth: args.depth, readFile, external: module.external };
  let result = drawGraph(text, file, options);
  if (result.svg === null && module.missed) {
    // the graph calls the module's own functions (a custom gradient, a package function): load it and draw again
    try {
      await module.load();
    } catch (e) {
      err.write(`${file}: error: cannot load the module to run its functions: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    result = drawGraph(text, file, options);
  }
  for (const d of result.diagnostics) err.write(formatDiagnostic({ ...d, file: d.file ?? file }, sources.get(d.file ?? file)) + "\n");
  for (const m of result.errors) err.write(`${file}: error: ${m}\n`);
  if (result.svg === null) {
    err.write("tsgrad graph: nothing written: fix the errors above\n");
    return 1;
  }
  const fnName = result.evaluation!.fn.name;
  const target = args.out ?? join(dirname(file), `${basename(file).replace(/\.(m|c)?ts$/, "")}.${fnName}.graph.svg`);
  if (target === "-") {
    out.write(result.svg);
    return 0;
  }
  const { errors } = writeOutputs([{ target, text: result.svg }]);
  for (const e of errors) err.write(formatIoError(e) + "\n");
  if (errors.length > 0) return 1;
  out.write(`wrote ${target}\n`);
  return 0;
}
