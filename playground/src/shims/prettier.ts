/**
 * `prettier` for the browser: its standalone build with the TypeScript parser and the
 * estree printer, so the compiler's `prettier.format(text, { parser: "typescript" })` runs
 * unchanged.
 */
import { format as formatStandalone } from "prettier/standalone";
import * as typescript from "prettier/plugins/typescript";
import * as estree from "prettier/plugins/estree";

export function format(text: string, options: Parameters<typeof formatStandalone>[1]): Promise<string> {
  return formatStandalone(text, { ...options, plugins: [typescript, estree] });
}
