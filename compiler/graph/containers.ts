/**
 * The boxes a picture groups gates into: inlined calls (named for the callee), loops (one
 * box per run, holding one box per iteration when unrolled), and branches (the arm taken).
 * Each entry of an evaluation gets its chain of boxes, outermost first; a box deeper than
 * `depth`, or a loop not unrolled, is *collapsed*: drawn as one node that stands for all it
 * holds.
 *
 * Calls are found from the IR's source locations: consecutive statements whose `loc.fn`
 * names the same function (not the one drawn) are one call, and a statement that repeats a
 * location already seen in that run (not the one just before it) starts the next call of
 * the same function. Calls nested in calls show as boxes side by side.
 */
import type { FunctionIR, IfStmt, LoopStmt, SourceLoc, Stmt } from "../ir/ir.ts";
import type { Entry, Evaluation } from "./evaluate.ts";

export type ContainerKind = "call" | "loop" | "iteration" | "if";

export interface Container {
  readonly key: string;
  readonly kind: ContainerKind;
  readonly label: string;
  readonly parent: string | null;
  /** Drawn as one node (a loop not unrolled, a box deeper than --depth). */
  readonly collapsed: boolean;
  /** The source lines of what it holds (for a collapsed box). */
  readonly lines: string[];
  readonly line: number;
}

export interface ContainerOptions {
  /** Loops that ran at most this many times are drawn iteration by iteration (0: none). */
  readonly unroll: number;
  /** Boxes nested deeper than this are collapsed (0: every call, loop and branch is one node). */
  readonly depth: number;
}

/** Statement grouping: which call each statement belongs to (0: the function drawn itself). */
function callGroups(fn: FunctionIR) {
  const group = new Map<Stmt, number>();
  const callee = new Map<number, { name: string; line: number }>();
  const root = `${fn.loc.fn ?? fn.name}|${fn.loc.file ?? ""}`;
  let current = 0;
  let runKey = root;
  let seen = new Set<string>();
  let previous = "";
  const locKey = (l: SourceLoc) => `${l.line}:${l.col}:${l.text}`;
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      const key = `${s.loc.fn ?? fn.name}|${s.loc.file ?? ""}`;
      const at = locKey(s.loc);
      if (key === root) {
        current = 0;
        runKey = root;
      } else if (key !== runKey || (seen.has(at) && at !== previous)) {
        current = callee.size + 1;
        callee.set(current, { name: s.loc.fn ?? "call", line: s.loc.line });
        runKey = key;
        seen = new Set();
      }
      seen.add(at);
      previous = at;
      group.set(s, current);
      if (s.kind === "loop") {
        visit(s.test);
        visit(s.body);
      } else if (s.kind === "if") {
        visit(s.then);
        visit(s.else);
      }
    }
  };
  visit(fn.body);
  return { group, callee };
}

const firstLine = (text: string, max = 48) => {
  const line = text.split(/\{|\n/)[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * The source of a loop's or branch's statements that compute something the result depends
 * on, once each, in order; a part of a longer one (`c1 * x` in `c0 + c1 * x`) is left out.
 */
function sourceLines(stmts: readonly Stmt[], active: (value: number) => boolean): string[] {
  const texts: string[] = [];
  const visit = (ss: readonly Stmt[]) => {
    for (const s of ss) {
      if (s.kind === "op") {
        const text = s.loc.text.replace(/\s+/g, " ").trim();
        if (active(s.out) && !texts.includes(text)) texts.push(text);
      } else if (s.kind === "loop") visit([...s.test, ...s.body]);
      else visit([...s.then, ...s.else]);
    }
  };
  visit(stmts);
  const whole = texts.filter((t) => !texts.some((u) => u !== t && u.includes(t)));
  const clipped = whole.map((t) => (t.length > 44 ? `${t.slice(0, 43)}…` : t));
  return clipped.length > 8 ? [...clipped.slice(0, 7), `… (${clipped.length - 7} more)`] : clipped;
}

export interface Containers {
  readonly byKey: ReadonlyMap<string, Container>;
  /** Per entry: its boxes, outermost first. */
  readonly chains: readonly (readonly string[])[];
  /** Per entry: the collapsed box that stands for it, or null. */
  readonly absorbedBy: readonly (string | null)[];
}

export function containersOf(ev: Evaluation, options: ContainerOptions): Containers {
  const { fn } = ev;
  const { group, callee } = callGroups(fn);
  const active = (value: number) => ev.activity.isActive(value);
  const ids = new Map<Stmt, number>();
  let nextId = 0;
  const idOf = (s: Stmt) => {
    if (!ids.has(s)) ids.set(s, nextId++);
    return ids.get(s)!;
  };
  const byKey = new Map<string, Container>();
  const add = (c: Omit<Container, "collapsed">, depth: number, collapse: boolean) => {
    if (!byKey.has(c.key)) byKey.set(c.key, { ...c, collapsed: collapse || depth >= options.depth });
  };

  const chains = ev.entries.map((e: Entry) => {
    const chain: string[] = [];
    let path = "";
    let current = 0;
    let depth = 0;
    const parent = () => chain[chain.length - 1] ?? null;
    const enterCall = (g: number) => {
      if (g === current || g === 0) return;
      current = g;
      const info = callee.get(g)!;
      const key = `call${g}${path}`;
      add({ key, kind: "call", label: `${info.name}  (line ${info.line})`, parent: parent(), lines: [], line: info.line }, depth++, false);
      chain.push(key);
    };
    for (const f of e.frames) {
      enterCall(group.get(f.stmt) ?? 0);
      if (f.kind === "loop") {
        const s: LoopStmt = f.stmt;
        const loopKey = `loop${idOf(s)}${path}r${f.run}`;
        const trips = ev.trips.get(s)![f.run]!;
        const tooLong = trips > options.unroll;
        const label = `${firstLine(s.loc.text)}  (line ${s.loc.line}): ${trips} iteration${trips === 1 ? "" : "s"}`;
        add({ key: loopKey, kind: "loop", label, parent: parent(), lines: sourceLines([...s.test, ...s.body], active), line: s.loc.line }, depth++, tooLong);
        chain.push(loopKey);
        const iterKey = `${loopKey}i${f.iteration}`;
        add({ key: iterKey, kind: "iteration", label: iterationLabel(ev, s, f.iteration), parent: loopKey, lines: [], line: s.loc.line }, 0, false);
        chain.push(iterKey);
        path += `/L${idOf(s)}r${f.run}i${f.iteration}`;
      } else {
        const s: IfStmt = f.stmt;
        const key = `if${idOf(s)}${path}`;
        const label = `${firstLine(s.loc.text)}  (line ${s.loc.line}): ${f.arm === "then" ? "true" : "false"}`;
        add({ key, kind: "if", label, parent: parent(), lines: sourceLines(f.arm === "then" ? s.then : s.else, active), line: s.loc.line }, depth++, false);
        chain.push(key);
        path += `/I${idOf(s)}${f.arm}`;
      }
    }
    if (e.stmt) enterCall(group.get(e.stmt) ?? 0);
    return chain;
  });
  const absorbedBy = chains.map((chain) => chain.find((k) => byKey.get(k)!.collapsed) ?? null);
  return { byKey, chains, absorbedBy };
}

/** `iteration 2`, with the loop index when the loop counts one (`i = 2`). */
function iterationLabel(ev: Evaluation, s: LoopStmt, iteration: number): string {
  const lo = s.counted?.lo;
  if (s.counted && lo) {
    const name = lo.kind === "value" ? ev.fn.values[lo.id]!.name : null;
    const start = lo.kind === "const" ? (typeof lo.value === "number" ? lo.value : null) : firstValue(ev, lo.id);
    if (name && typeof start === "number") return `${name} = ${start + iteration}`;
  }
  return `iteration ${iteration + 1}`;
}

/** The value an IR value had the first time it was computed. */
function firstValue(ev: Evaluation, value: number): number | null {
  const inst = ev.instances.find((i) => i.value === value);
  return inst && typeof inst.val === "number" ? inst.val : null;
}
