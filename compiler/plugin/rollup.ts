/** `import tsgrad from "tsgrad/rollup"`: the bundler plugin (unplugin.ts) for Rollup. */
import type { Plugin } from "rollup";
import type { PluginOptions } from "./options.ts";
import { unplugin } from "./unplugin.ts";

const rollup: (options?: PluginOptions) => Plugin = unplugin.rollup;
export default rollup;
export type { PluginOptions };
