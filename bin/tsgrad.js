#!/usr/bin/env node
// The `tsgrad` command of the installed package: plain Node running the compiled CLI
// (dist/, built by `npm run build` on prepare). In the repository: npx tsx compiler/cli.ts.
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDirFor, enableCompileCache } from "../dist/compile-cache.js";

// V8's compiled code for ts-morph, TypeScript and prettier, kept between runs (see compiler/compile-cache.ts)
if (!process.env.TSGRAD_NO_COMPILE_CACHE) enableCompileCache(cacheDirFor(dirname(dirname(realpathSync(fileURLToPath(import.meta.url))))));
const { run } = await import("../dist/cli.js");
run(process.argv.slice(2));
