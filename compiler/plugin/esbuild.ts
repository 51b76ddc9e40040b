/** `import tsgrad from "tsgrad/esbuild"`: the bundler plugin (unplugin.ts) for esbuild. */
import type { Plugin } from "esbuild";
import type { PluginOptions } from "./options.ts";
import { unplugin } from "./unplugin.ts";

const esbuild: (options?: PluginOptions) => Plugin = unplugin.esbuild;
export default esbuild;
export type { PluginOptions };
