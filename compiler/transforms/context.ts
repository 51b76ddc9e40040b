/**
 * What the transforms share about one function: the symbol of each IR value and of its
 * adjoint, where each value is defined, and how a value is spelled in emitted code.
 */
import { add, bool, num, ref, rt, type Ex, type Sym } from "../ir/expr.ts";
import { type Atom, type FunctionIR, type OpStmt, type Stmt, type IfStmt, type ValueType } from "../ir/ir.ts";
import { RULES } from "../rules/rules.ts";
import type { Activity } from "../analyses/activity.ts";

export class TransformContext {
  private nextSym = 0;
  private readonly valueSyms = new Map<number, Sym>();
  private readonly adjointSyms = new Map<number, Sym>();
  /** The statement defining each value (params have none). */
  readonly defs = new Map<number, Stmt>();
  /** The block each value is defined in: 0 is the function body, then one per branch. */
  readonly blockOf = new Map<number, number>();
  /** Values defined inside each `if` (at any depth). */
  readonly innerOf = new Map<IfStmt, Set<number>>();
  /** Block ids of each branch. */
  readonly branchIds = new Map<Stmt[], number>();

  constructor(readonly fn: FunctionIR, readonly activity: Activity) {
    let nextBlock = 0;
    const index = (stmts: Stmt[], block: number): number[] => {
      this.branchIds.set(stmts, block);
      const defined: number[] = [];
      for (const s of stmts) {
        if (s.kind === "op") {
          this.defs.set(s.out, s);
          this.blockOf.set(s.out, block);
          defined.push(s.out);
        } else {
          const inner = [...index(s.then, ++nextBlock), ...index(s.else, ++nextBlock)];
          this.innerOf.set(s, new Set(inner));
          for (const o of s.outs) {
            this.defs.set(o.out, s);
            this.blockOf.set(o.out, block);
          }
          defined.push(...inner, ...s.outs.map((o) => o.out));
        }
      }
      return defined;
    };
    index(fn.body, 0);
    for (const p of fn.params) this.blockOf.set(p.value, 0);
  }

  fresh(hint: string, user = false, adjointOf?: Sym): Sym {
    return { id: this.nextSym++, hint, user, adjointOf };
  }

  /** The variable holding a value: the user's name (a later version gets `name_2`, ...) or a temporary. */
  valueSym(id: number): Sym {
    let sym = this.valueSyms.get(id);
    if (!sym) {
      const v = this.fn.values[id]!;
      sym = v.name === null
        ? this.fresh(v.hint)
        : v.version === 1 ? this.fresh(v.name, true) : this.fresh(`${v.name}_${v.version}`);
      this.valueSyms.set(id, sym);
    }
    return sym;
  }

  /** The variable holding a value's adjoint, `d` + the value's name. */
  adjointSym(id: number): Sym {
    let sym = this.adjointSyms.get(id);
    if (!sym) {
      const of = this.valueSym(id);
      sym = this.fresh(`d${of.hint}`, false, of);
      this.adjointSyms.set(id, sym);
    }
    return sym;
  }

  /** A value's type as written in the emitted code (`number`, or the local name of the runtime's `Tensor`). */
  typeText(id: number): string {
    const type = this.fn.values[id]!.type;
    if (type !== "tensor") return type;
    return this.fn.imports.find((i) => i.imported === "Tensor")?.local ?? "Tensor";
  }

  isTensor(id: number): boolean {
    return this.fn.values[id]!.type === "tensor";
  }

  /** The zero a value's adjoint starts from: `0`, or `zerosLike(x)` for a tensor. */
  zeroFor(id: number): Ex {
    return this.isTensor(id) ? rt("zerosLike", this.atomEx({ kind: "value", id })) : num(0);
  }

  /** `a + b` for two gradients of the value `id`: an operator for numbers, `add` for tensors. */
  sum(id: number, a: Ex, b: Ex): Ex {
    return this.isTensor(id) ? rt("add", a, b) : add(a, b);
  }

  /** The types of an operation's inputs. */
  argTypes(op: OpStmt): ValueType[] {
    return op.args.map((a) => (a.kind === "const" ? (typeof a.value === "boolean" ? "boolean" : "number") : this.fn.values[a.id]!.type));
  }

  isUser(id: number): boolean {
    return this.fn.values[id]!.name !== null;
  }

  /**
   * A comparison between user variables (`x > 0`) is recomputed where it is read instead
   * of being stored: `if (x > 0)` reads better than a temporary, and costs nothing.
   */
  isRematerialised(id: number): boolean {
    const def = this.defs.get(id);
    return (
      def?.kind === "op" && !this.isUser(id) && RULES[def.op]!.kind === "logic" &&
      def.args.every((a) => a.kind === "const" || this.isUser(a.id))
    );
  }

  /** How the emitted code reads an atom: a literal, a variable, or a recomputed comparison. */
  atomEx(a: Atom): Ex {
    if (a.kind === "const") return typeof a.value === "boolean" ? bool(a.value) : { k: "num", value: a.value, text: a.text };
    if (this.isRematerialised(a.id)) return this.opEx(this.defs.get(a.id) as OpStmt, (x) => this.atomEx(x));
    return ref(this.valueSym(a.id));
  }

  /** An operation's forward expression, with its inputs spelled by `arg`. */
  opEx(op: OpStmt, arg: (a: Atom) => Ex): Ex {
    return RULES[op.op]!.forward(op.args.map(arg), op.callee ?? op.op);
  }
}
