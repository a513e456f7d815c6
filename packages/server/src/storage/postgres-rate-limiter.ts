import { type RateLimiterAbstract, RateLimiterPostgres } from "rate-limiter-flexible";
import type { RateLimiterSpec } from "./contract.js";
import { withUnavailableErrors } from "./unavailable.js";

/** The table every instance shares for rate-limit counters. */
const TABLE = "hush_rate_limits";

/**
 * Rate limiters whose counters live in PostgreSQL (rate-limiter-flexible's store), so that a
 * limit holds across instances. The table is created by the first limiter, then reused.
 */
export function postgresRateLimiters(pool: unknown): (spec: RateLimiterSpec) => Promise<RateLimiterAbstract> {
  let tableCreated = false;
  return async (spec) => {
    // The library creates its table, then calls back — synchronously when told the table exists.
    const limiter = await new Promise<RateLimiterPostgres>((resolve, reject) => {
      let created: RateLimiterPostgres | undefined;
      let readyEarly = false;
      created = new RateLimiterPostgres(
        {
          keyPrefix: spec.keyPrefix,
          points: spec.points,
          duration: spec.durationSeconds,
          storeClient: pool,
          storeType: "pool",
          tableName: TABLE,
          tableCreated,
          clearExpiredByTimeout: true,
        },
        (error?: unknown) => {
          if (error) reject(error);
          else if (created) resolve(created);
          else readyEarly = true;
        },
      );
      if (readyEarly) resolve(created);
    });
    tableCreated = true;
    return withUnavailableErrors(limiter);
  };
}
