import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "source" export condition, which
// only they declare), so tests never run against a stale build. Nothing else changes: adding
// "import" here, say, would hand CommonJS `require()` callers an ES module.
export default defineConfig({
  resolve: { conditions: ["source", ...defaultClientConditions] },
  ssr: { resolve: { conditions: ["source", ...defaultServerConditions], externalConditions: ["source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/*/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // CI asks for a JSON report too, to prove that every suite ran and none was skipped.
    reporters: process.env.HUSH_TEST_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.HUSH_TEST_REPORT ? { json: process.env.HUSH_TEST_REPORT } : undefined,
  },
});
