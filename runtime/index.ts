/** tsgrad's runtime: what generated code and user code import. */
export { sigmoid, relu } from "./scalar.ts";
export { gradcheck, hvpcheck, jvpcheck, parameterNames, type GradcheckOptions, type JvpcheckOptions, type GradcheckResult, type GradcheckRow } from "./gradcheck.ts";
export * from "./tensor.ts";
export * from "./optim.ts";
