/// <reference path="./postgres.global.ts" />
import { inject } from "vitest";

/** The databases every HTTP and storage suite runs on: one test body, looped over them. */
export type TestDatabase = "sqlite" | "postgres";

export const POSTGRES_URL = inject("postgresUrl");
export const TEST_DATABASES: TestDatabase[] = POSTGRES_URL ? ["sqlite", "postgres"] : ["sqlite"];
