/**
 * What the transforms share about one function: on top of its structure (./structure.ts),
 * the symbol of each IR value and of its adjoint, and how a value is spelled in emitted
 * code (a variable, a literal, or an expression recomputed where it is read).
 */
import { add, bool, forEachSym, newOf, num, prop, ref, rt, str, zeroRows, type Ex, type Sym } from "../ir/expr.ts";
import { isNestedArray, type Atom, type LoopStmt, type OpStmt, type Param } from "../ir/ir.ts";
import { costOf, ruleOf } from "../rules/rules.ts";
import { ProgramIndex } from "./structure.ts";
import { adjointName, Symbols, versionName } from "../emit/names.ts";

export class TransformContext extends ProgramIndex {
  private readonly symbols = new Symbols();
  private readonly valueSyms = new Map<number, Sym>();
  private readonly adjointSyms = new Map<number, Sym>();

  /** The first index of a counted loop, as the header writes it: `0` in `for (let i = 0; ...)`. */
  loEx(loop: LoopStmt): Ex {
    const lo = loop.counted!.lo;
    const index = this.countedIndex(loop);
    const def = lo.kind === "value" ? this.defs.get(lo.id) : undefined;
    if (lo.kind === "value" && index !== null && def?.kind === "op" && this.valueSym(lo.id) === this.valueSym(index)) {
      return this.opEx(def, (a) => this.atomEx(a));
    }
    return this.atomEx(lo);
  }

  /** A new variable (names are made in one place: ../emit/names.ts). */
  fresh(hint: string, user = false, adjointOf?: Sym): Sym {
    return this.symbols.fresh(hint, user, adjointOf);
  }

  /**
   * The variable holding a value: the user's name (a later version gets `name_2`, ...) or a
   * temporary. A loop's phi shares the variable of its initial value when that value is the
   * same user variable and nothing else reads it: `let s = 0; for (...) s += ...`.
   *
   * Inside another loop, what an outer iteration saves for its backward pass is saved at
   * its end, so an inner loop's exit value must still be in its variable then: the inner
   * loop shares the outer loop's variable only when its exit value is what the outer
   * iteration ends with, and never the variable of a loop before it (which may be saved).
   */
  valueSym(id: number): Sym {
    if (this.isArray(id) && this.root(id) !== id) return this.valueSym(this.root(id));
    let sym = this.valueSyms.get(id);
    if (!sym) {
      const v = this.fn.values[id]!;
      const carried = this.carriedOf(id);
      const init = carried?.carried.init;
      const parent = carried ? this.parentLoop.get(carried.loop) ?? null : null;
      const from = init?.kind === "value" ? this.carriedOf(init.id) : null;
      const kept = parent === null || from === null || (from.loop === parent && from.carried.next.kind === "value" && from.carried.next.id === id);
      if (init?.kind === "value" && this.sameVariable(init.id, id) && this.reads.get(init.id) === 1 && !this.backwardReads(init.id) && kept) {
        sym = this.valueSym(init.id);
      } else {
        // a counted loop's index is declared in its own header: `j` again in a second `for (let j ...)`
        const ownScope = v.name !== null && this.loops.some((l) => l.counted && this.isCounted(l) && l.counted.lo.kind === "value" && l.counted.lo.id === id);
        // an inlined function's variables keep their names where nothing else has them, else
        // are numbered in order of appearance: `t`, `t_1`, `t_2`
        sym = v.name === null ? this.fresh(v.hint)
          : v.scope !== 0 ? this.fresh(v.name)
          : v.version === 1 || ownScope ? this.fresh(v.name, true)
          : this.fresh(versionName(v.name, v.version));
      }
      this.valueSyms.set(id, sym);
    }
    return sym;
  }

  /** Whether the backward pass may read a value that nothing else reads: its rule's vjp uses the output (`exp`, `tanh`). */
  private backwardReads(id: number): boolean {
    const def = this.defs.get(id);
    if (def?.kind !== "op" || !this.activity.isActive(id)) return def?.kind === "if" && this.activity.isActive(id);
    const rule = ruleOf(def);
    if (!rule.vjp) return false;
    const out: Sym = { id: -1, hint: "out", user: false };
    let reads = false;
    const p = { args: def.args.map(() => num(0)), out: ref(out), dout: num(1), types: this.argTypes(def) };
    const shared = rule.shared?.(p);
    const parts = rule.vjp({ ...p, shared: shared && num(0) });
    for (const part of [...parts, shared ?? null]) {
      if (part === null) continue;
      const e = "at" in part ? part.grad : part;
      forEachSym(e, (x) => { if (x === out) reads = true; });
    }
    return reads;
  }

  /** The variable the forward pass writes a value to: a loop's `next` goes straight into its phi's variable. */
  forwardSym(id: number): Sym {
    const phi = this.carriedBy.get(id);
    return phi === undefined ? this.valueSym(id) : this.valueSym(phi);
  }

  /**
   * The variable holding a value's adjoint, `d` + the value's name: the name of the
   * variable the forward pass writes it to (`dstep` for a loop's `step = ...`, not `dstep_3`).
   */
  adjointSym(id: number): Sym {
    if (this.isArray(id) && this.root(id) !== id) return this.adjointSym(this.root(id));
    let sym = this.adjointSyms.get(id);
    if (!sym) {
      const of = this.forwardSym(id);
      sym = this.fresh(adjointName(of.hint), false, of);
      this.adjointSyms.set(id, sym);
    }
    return sym;
  }

  /**
   * A value's type as written in the emitted code: `number`, `boolean`, the local name of the
   * runtime's `Tensor`, or for an array the type of the array it is (`number[]`,
   * `Float64Array`), which a declaration hoisted out of a branch is written with.
   */
  typeText(id: number): string {
    const type = this.fn.values[id]!.type;
    if (type === "array") return this.fn.values[this.root(id)]!.typeText ?? "number[]";
    if (type !== "tensor") return type;
    return this.fn.imports.find((i) => i.imported === "Tensor")?.local ?? "Tensor";
  }

  /** `@into`'s argument: the arrays to write the array parameters' gradients into. */
  private intoSym: Sym | null = null;

  /** The `into` parameter of a function tagged `@into`, or null. */
  get into(): Sym | null {
    if (!this.fn.into) return null;
    return (this.intoSym ??= this.fresh("into"));
  }

  /** Under `@into`, the differentiated array parameter whose gradient buffer the caller may give (the value is its first). */
  intoParam(id: number): Param | null {
    if (!this.fn.into) return null;
    return this.fn.params.find((p) => p.value === id && p.wrt && p.type === "array") ?? null;
  }

  /**
   * The zero a value's adjoint starts from: `0`, `zerosLike(x)` for a tensor, and for an
   * array, whatever its kind (`number[]` too), a `Float64Array` of its length, which starts
   * as zeros (the contract: README "Arrays"); under `@into`, a parameter's array comes from
   * the caller when given (`into?.x?.fill(0) ?? new Float64Array(x.length)`).
   */
  zeroFor(id: number): Ex {
    const root = this.root(id);
    const v = this.fn.values[root]!;
    const x = this.atomEx({ kind: "value", id });
    if (v.type === "tensor") return rt("zerosLike", x);
    if (v.type === "array") {
      if (isNestedArray(v.typeText)) return this.zeroRows(x);
      const fresh = newOf("Float64Array", prop(x, "length"));
      const param = this.intoParam(root);
      if (!param || !this.into) return fresh;
      const given: Ex = { k: "method", a: { k: "prop", a: ref(this.into), name: param.name, optional: true }, name: "fill", args: [num(0)], optional: true };
      return { k: "bin", op: "??", a: given, b: fresh };
    }
    return num(0);
  }

  /** Zeros shaped like the nested array `x`, a row of zeros per row: `x.map((row) => new Float64Array(row.length))`. */
  zeroRows(x: Ex): Ex {
    return zeroRows(x, this.fresh("row"));
  }

  /** `a + b` for two gradients of the value `id`: an operator for numbers, `add` for tensors. */
  sum(id: number, a: Ex, b: Ex): Ex {
    return this.isTensor(id) ? rt("add", a, b) : add(a, b);
  }

  /**
   * A temporary recomputed where it is read instead of being stored: a comparison (`if (x > 0)`
   * reads better than a temporary), an array's length or element (`x[i]`, `x.length`), and
   * inactive index arithmetic (`x[i + 1]`), when what it reads is a variable or recomputed too.
   */
  isRematerialised(id: number): boolean {
    const def = this.defs.get(id);
    if (def?.kind !== "op" || this.isUser(id)) return false;
    if (this.readsChanging(def)) return false;
    const cost = costOf(def);
    const cheap = cost === "free" || (cost === "arithmetic" && !this.activity.isActive(id) && ruleOf(def).result === "number");
    if (!cheap) return false;
    return def.args.every((a) => a.kind === "const" || this.isUser(a.id) || this.fn.values[a.id]!.param || this.isRematerialised(a.id));
  }

  /** How the emitted code reads an atom: a literal, a variable, or a recomputed comparison. */
  atomEx(a: Atom): Ex {
    if (a.kind === "const") return typeof a.value === "boolean" ? bool(a.value) : typeof a.value === "string" ? str(a.value) : { k: "num", value: a.value, text: a.text };
    if (this.isRematerialised(a.id)) return this.opEx(this.defs.get(a.id) as OpStmt, (x) => this.atomEx(x));
    return ref(this.emittingPrimal ? this.forwardSym(a.id) : this.valueSym(a.id));
  }

  /** An operation's forward expression, with its inputs spelled by `arg`. */
  opEx(op: OpStmt, arg: (a: Atom) => Ex): Ex {
    return ruleOf(op).forward(op.args.map(arg), op.callee ?? op.op);
  }
}
