/**
 * An ordered list of stages, each a named function from what the stage before it left to
 * what the next one reads, with a dump of its result for `--dump-ir`. The lists themselves
 * are in ./index.ts; this is only what runs them. Built one stage at a time so that
 * TypeScript checks that each stage takes what the one before it gives:
 *
 *   stages<Start, Options>().then("a", a, dumpA).then("b", b, dumpB)   // Stages<Start, ReturnType<typeof b>, Options>
 *
 * `Options` is what an optional stage is told to decide whether it runs (`--no-fuse`).
 */
export interface StageHooks<Options> {
  readonly options: Options;
  /** Receives each stage's dump, made only when this is given. */
  readonly dump?: (stage: string, text: string) => void;
  /** Called as each stage begins. */
  readonly progress?: (stage: string) => void;
  /** Stops after the stage of this name (its result is returned). */
  readonly until?: string;
}

interface Stage {
  readonly name: string;
  /** Skips the stage (it then must give what it takes) when this says no. */
  readonly when: ((options: never) => boolean) | null;
  readonly run: (unit: unknown) => unknown;
  readonly dump: (unit: unknown) => string;
}

export class Stages<In, Out, Options> {
  private constructor(readonly list: readonly Stage[]) {}

  static start<T, Options>(): Stages<T, T, Options> {
    return new Stages<T, T, Options>([]);
  }

  /** The list with one more stage at its end. */
  then<Next>(name: string, run: (unit: Out) => Next, dump: (unit: Next) => string): Stages<In, Next, Options> {
    return new Stages<In, Next, Options>([...this.list, { name, when: null, run: run as Stage["run"], dump: dump as Stage["dump"] }]);
  }

  /** A stage that only some units go through (an option turned it off): it gives what it takes. */
  optional(name: string, when: (options: Options) => boolean, run: (unit: Out) => Out, dump: (unit: Out) => string): Stages<In, Out, Options> {
    return new Stages<In, Out, Options>([...this.list, { name, when: when as Stage["when"], run: run as Stage["run"], dump: dump as Stage["dump"] }]);
  }

  get names(): string[] {
    return this.list.map((s) => s.name);
  }

  /**
   * Runs the stages in order. With `until`, up to that one: the result is then that stage's,
   * which the caller must know to be `Out` (only optional stages come after it).
   */
  run(unit: In, hooks: StageHooks<Options>): Out {
    let u: unknown = unit;
    for (const stage of this.list) {
      if (stage.when && !(stage.when as (o: Options) => boolean)(hooks.options)) continue;
      hooks.progress?.(stage.name);
      u = stage.run(u);
      if (hooks.dump) hooks.dump(stage.name, stage.dump(u));
      if (stage.name === hooks.until) break;
    }
    return u as Out;
  }
}

export const stages = Stages.start;
