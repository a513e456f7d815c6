import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "source" export condition),
// so tests never run against a stale build.
const conditions = ["source", "import", "module", "node", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // CI asks for a JSON report too, to prove that every suite ran and none was skipped.
    reporters: process.env.HUSH_TEST_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.HUSH_TEST_REPORT ? { json: process.env.HUSH_TEST_REPORT } : undefined,
  },
});
