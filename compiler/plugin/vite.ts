/** `import tsgrad from "tsgrad/vite"`: the bundler plugin (unplugin.ts) for Vite. */
import type { Plugin } from "vite";
import type { PluginOptions } from "./options.ts";
import { unplugin } from "./unplugin.ts";

const vite: (options?: PluginOptions) => Plugin = unplugin.vite;
export default vite;
export type { PluginOptions };
