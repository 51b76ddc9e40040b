/** The seeds' examples, put in by the build (playground/build.mts) from fixtures/. */
declare module "virtual:examples" {
  const examples: readonly { title: string; file: string; fn: string; at: string; dout?: string; unroll?: number; source: string }[];
  export default examples;
}
