/**
 * The bundler plugin, one implementation for Vite, Rollup and esbuild (unplugin): at the
 * start of a build it compiles every module under the included directories that tags a
 * function `@differentiable`, writing each `NAME.grad.ts` to disk beside it, so that tsc,
 * editors and tests read the same files the bundle is made of; when one of them, or a
 * module its gradient inlines, changes, it compiles the modules affected again
 * (incremental.ts, as `--watch` does). The bundler then reads the new `.grad.ts` like any
 * other source.
 */
import { resolve } from "node:path";
import { createUnplugin, type UnpluginBuildContext } from "unplugin";
import { IncrementalBuild, reportLine, type ModuleReport } from "../incremental.ts";
import type { PluginOptions } from "./options.ts";

export const unplugin = createUnplugin<PluginOptions | undefined, false>((options) => {
  let root = process.cwd();
  /** Whether the bundler keeps running (a dev server, watch mode): errors are printed, not fatal. */
  let watching = false;
  let build: IncrementalBuild | undefined;

  /** Prints what a build did, hands the bundler the files to watch, and fails a one-off build on errors. */
  const handle = (context: UnpluginBuildContext, reports: readonly ModuleReport[]) => {
    const failed = reports.filter((r) => r.outcome === "failed");
    const fatal = failed.length > 0 && (options?.failOnError ?? !watching);
    for (const r of reports) {
      if (!fatal) for (const e of r.errors) process.stderr.write(e + "\n");
      process.stdout.write(`[tsgrad] ${reportLine(r)}\n`);
    }
    for (const file of build?.watched ?? []) {
      try {
        context.addWatchFile(file);
      } catch {
        // esbuild has no watch files outside its resolve/load hooks: it finds changes by rebuilding
      }
    }
    if (fatal) {
      // the errors are the user's, not the plugin's: no stack trace of tsgrad's own
      const error = new Error(`tsgrad: ${failed.map((r) => r.input).join(", ")} did not compile:\n${failed.flatMap((r) => r.errors).join("\n")}`);
      error.stack = error.message;
      throw error;
    }
  };

  return {
    name: "tsgrad",
    enforce: "pre",
    async buildStart() {
      const meta = (this as { meta?: { watchMode?: boolean } }).meta;
      if (meta?.watchMode) watching = true;
      if (!build) {
        build = new IncrementalBuild((options?.include ?? ["src"]).map((p) => resolve(root, p)), { fuse: options?.fuse, combine: options?.combine });
        handle(this, await build.buildAll());
      } else {
        // a rebuild: compile what changed since (esbuild tells no more than that it builds again)
        handle(this, await build.refresh());
      }
    },
    async watchChange(id) {
      if (build) handle(this, await build.changed([id]));
    },
    vite: {
      configResolved(config) {
        root = config.root;
        watching = config.command === "serve" || Boolean(config.build.watch);
      },
    },
  };
});
