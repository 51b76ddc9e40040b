/**
 * `tsgrad --watch <dir | file> ...`: compiles every module, then recompiles each changed
 * module and every module whose gradient inlines it (incremental.ts), printing one line
 * per module with the time it took; errors are printed and the last good output stays.
 *
 * The watching is chokidar's: it follows editors' atomic saves (write a temporary file,
 * rename it over the old one), new files in new subdirectories and removed files the same
 * way on every platform, which node's own fs.watch leaves to its caller.
 */
import { IncrementalBuild, reportLine, type ModuleReport } from "./incremental.ts";
import { shown, type FileOptions } from "./files.ts";

/** Where watch mode prints. */
export interface Output {
  write(text: string): unknown;
}

/** A running watch, returned once the first build is done and changes are being watched. */
export interface Watcher {
  /** Resolves when the watcher has stopped. */
  readonly closed: Promise<void>;
  /** Stops watching. */
  close(): Promise<void>;
}

/** Changes that arrive within this many milliseconds of each other are one build (an editor's save is several events). */
const SETTLE_MS = 50;

export async function watch(roots: readonly string[], options: FileOptions, out: Output, err: Output): Promise<Watcher> {
  const build = new IncrementalBuild(roots, options);
  const print = (reports: readonly ModuleReport[]) => {
    for (const r of reports) {
      for (const e of r.errors) err.write(e + "\n");
      (r.outcome === "failed" ? err : out).write(reportLine(r) + "\n");
    }
  };
  print(await build.buildAll());

  const { watch: chokidar } = await import("chokidar");
  const watcher = chokidar(build.watched, {
    ignoreInitial: true,
    // generated files are tsgrad's own writes; a module reading one is rebuilt when it is written
    ignored: (path: string) => /\.grad\.(m|c)?ts$/.test(path) || /(^|[\\/])(node_modules|\.[^\\/.][^\\/]*)$/.test(path),
  });

  // one build at a time; changes arriving meanwhile wait for the next
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const flush = () => {
    timer = undefined;
    const paths = [...pending];
    pending = new Set();
    running = running.then(async () => {
      try {
        const before = new Set(build.watched);
        print(await build.changed(paths));
        const added = build.watched.filter((p) => !before.has(p));
        if (added.length > 0) watcher.add(added);
      } catch (e) {
        // a bug in tsgrad: said in one line, and the watch goes on
        err.write(`tsgrad: internal error: ${e instanceof Error ? e.message : String(e)}. This is a bug in tsgrad; please report it.\n`);
      }
    });
  };
  watcher.on("all", (event, path) => {
    if (event !== "add" && event !== "change" && event !== "unlink") return;
    pending.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, SETTLE_MS);
  });
  watcher.on("error", (e) => err.write(`tsgrad: watching failed: ${e instanceof Error ? e.message : String(e)}\n`));

  // said once the watcher is ready: a change before that could go unseen
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  const modules = build.modules.length;
  out.write(`tsgrad: watching ${roots.map(shown).join(", ")} (${modules} module${modules === 1 ? "" : "s"} with @differentiable functions); Ctrl-C stops\n`);

  let stop!: () => void;
  const closed = new Promise<void>((resolve) => (stop = resolve));
  return {
    closed,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
      await running;
      stop();
    },
  };
}
