/** The bundler plugin's options (`tsgrad/vite`, `tsgrad/rollup`, `tsgrad/esbuild`). */
export interface PluginOptions {
  /**
   * Directories searched for modules that tag a function `@differentiable` (and files named
   * one by one), relative to the project root: Vite's `root`, otherwise the working
   * directory. Default `["src"]`.
   */
  readonly include?: readonly string[];
  /** As `--no-fuse` when false. */
  readonly fuse?: boolean;
  /** As `--no-combine` when false. */
  readonly combine?: boolean;
  /**
   * Whether a module with errors fails the build. Default: it does in a one-off build
   * (`vite build`), and in a dev server or watch mode the errors are printed and the last
   * good output stays.
   */
  readonly failOnError?: boolean;
}
