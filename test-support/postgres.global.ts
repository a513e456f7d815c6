import type { TestProject } from "vitest/node";
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL cluster the suites use, or "" when there is none. */
    postgresUrl: string;
  }
}

let cluster: ThrowawayPostgres | undefined;

/**
 * Once per test run: HUSH_TEST_DATABASE_URL if set, else a throwaway PostgreSQL started here.
 * Without either, PostgreSQL runs are skipped loudly (and CI, which requires them, fails).
 */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.HUSH_TEST_DATABASE_URL ?? "";
  if (!url && findPostgresBin()) {
    cluster = await startThrowawayPostgres();
    url = cluster.url;
  }
  if (!url) {
    console.warn(
      "\n*** PostgreSQL runs SKIPPED: no initdb/pg_ctl on this machine and no HUSH_TEST_DATABASE_URL. Install PostgreSQL (apt-get install -y postgresql) or set the URL. CI requires them. ***\n",
    );
  }
  project.provide("postgresUrl", url);
}

export function teardown(): void {
  cluster?.destroy();
}
