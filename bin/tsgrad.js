#!/usr/bin/env node
// The `tsgrad` command of the installed package: plain Node running the compiled CLI
// (dist/, built by `npm run build` on prepare). In the repository: npx tsx compiler/cli.ts.
import { run } from "../dist/cli.js";

run(process.argv.slice(2));
