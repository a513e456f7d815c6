import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources (the "source" export condition, which
// only they declare), so tests never run against a stale build. Nothing else changes: adding
// "import" here, say, would hand CommonJS `require()` callers an ES module.
const resolve = { conditions: ["source", ...defaultClientConditions] };
const ssr = { resolve: { conditions: ["source", ...defaultServerConditions], externalConditions: ["source"] } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    pool: "forks",
    // CI asks for a JSON report too, to prove that every suite ran and none was skipped.
    reporters: process.env.HUSH_TEST_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.HUSH_TEST_REPORT ? { json: process.env.HUSH_TEST_REPORT } : undefined,
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: "unit",
          // One throwaway PostgreSQL for the whole run (or HUSH_TEST_DATABASE_URL).
          globalSetup: ["test-support/postgres.global.ts"],
          include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/*/**/*.test.ts", "test-support/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The browser suite runs after the others, one file at a time: its timing claims
        // (refreshes per token lifetime) must not compete with other suites for the 2 cores.
        resolve,
        ssr,
        test: {
          name: "e2e",
          include: ["e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
