import { defineConfig } from "vitest/config";

// Every test has an explicit budget: the first test of a file pays for loading TypeScript,
// ts-morph and prettier (1-5 s on a loaded 2-core machine), which vitest's 5 s default
// does not cover. A test that needs more than this is a test to make faster.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ["test/helpers/build-kernels.ts"],
  },
});
