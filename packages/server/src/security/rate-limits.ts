import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { parseDurationSeconds } from "../config/durations.js";
import { HushError } from "../errors.js";
import type { RateLimiterSpec } from "../storage/contract.js";

/** A limit: at most `points` events in any `durationSeconds` window. */
export interface RateLimit {
  points: number;
  durationSeconds: number;
}

/** The rate limits of docs/api.md, HTTP API. Never per IP alone for refresh: many users share one NAT. */
export interface RateLimitSettings {
  /**
   * Failed logins per account (email), from clients without a trusted device cookie. Default 10
   * per 15 minutes. Reserved before the password is checked, so concurrency cannot exceed it.
   */
  loginFailuresPerAccount: RateLimit;
  /**
   * Failed logins per trusted device (a browser that signed in to the account before, OWASP's
   * device cookies): such a browser is never locked out by the account's limit. Default 10 per 15 minutes.
   */
  loginFailuresPerDevice: RateLimit;
  /** Login attempts per client IP. Default 100 per 15 minutes. */
  loginsPerIp: RateLimit;
  /** Sign-up attempts per client IP. Default 30 per 15 minutes. */
  signupsPerIp: RateLimit;
  /** Refreshes per session. Default 60 per 15 minutes. */
  refreshesPerSession: RateLimit;
  /** Refused refresh tokens per client IP (IPv6 by /64): forged or stale cookies. Default 100 per 15 minutes. */
  failedRefreshesPerIp: RateLimit;
  /**
   * Mails of any kind per target address and requesting client (IPv6 by /64), counted whether
   * or not an account exists. Default 5 per hour. An address also gets at most four times this
   * from all requesters together (`mailsPerAddressTotal`, derived), so one requester cannot use
   * up the owner's mails and many cannot flood the owner.
   */
  mailsPerAddress: RateLimit;
}

const FIFTEEN_MINUTES = 900;

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  loginFailuresPerAccount: { points: 10, durationSeconds: FIFTEEN_MINUTES },
  loginFailuresPerDevice: { points: 10, durationSeconds: FIFTEEN_MINUTES },
  loginsPerIp: { points: 100, durationSeconds: FIFTEEN_MINUTES },
  signupsPerIp: { points: 30, durationSeconds: FIFTEEN_MINUTES },
  refreshesPerSession: { points: 60, durationSeconds: FIFTEEN_MINUTES },
  failedRefreshesPerIp: { points: 100, durationSeconds: FIFTEEN_MINUTES },
  mailsPerAddress: { points: 5, durationSeconds: 3600 },
};

/** Fills in defaults and checks every value once. */
export function resolveRateLimits(partial: Partial<RateLimitSettings>): RateLimitSettings {
  const settings = { ...DEFAULT_RATE_LIMITS, ...partial };
  for (const [name, limit] of Object.entries(settings)) {
    if (
      !Number.isSafeInteger(limit.points) ||
      limit.points < 1 ||
      !Number.isSafeInteger(limit.durationSeconds) ||
      limit.durationSeconds < 1
    ) {
      throw new Error(`options.rateLimits.${name} must have positive integer points and durationSeconds`);
    }
  }
  return settings;
}

/** Parses `10/15m` style limits (points per duration). */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = /^(\d+)\/(.+)$/.exec(text.trim());
  if (!match) return undefined;
  const points = Number(match[1]);
  const durationSeconds = parseDurationSeconds(match[2] ?? "");
  return points > 0 && durationSeconds ? { points, durationSeconds } : undefined;
}

/** A limit by name: each setting, and the per-address cap derived from `mailsPerAddress`. */
export type LimitName = keyof RateLimitSettings | "mailsPerAddressTotal";

/** How many times the per-requester mail limit one address may receive from everybody together. */
export const MAILS_PER_ADDRESS_TOTAL_FACTOR = 4;

/**
 * The server's limiters. Each check either returns or throws `429 rate_limited` with
 * `Retry-After`. With limits off every check is a no-op.
 */
export class RateLimits {
  private constructor(
    private readonly limiters: Map<LimitName, RateLimiterAbstract> | undefined,
    private readonly onLimited: (name: LimitName, key: string) => void,
  ) {}

  /**
   * Creates the limiters: in memory for one instance, or through `shared` — the storage's own
   * limiters (PostgreSQL), whose counters every instance shares — so that a limit holds across
   * instances.
   */
  static async create(
    settings: RateLimitSettings | false,
    onLimited: (name: LimitName, key: string) => void,
    shared?: (spec: RateLimiterSpec) => Promise<RateLimiterAbstract>,
  ): Promise<RateLimits> {
    if (!settings) return new RateLimits(undefined, onLimited);
    const limiters = new Map<LimitName, RateLimiterAbstract>();
    const all: Record<LimitName, RateLimit> = {
      ...settings,
      mailsPerAddressTotal: {
        points: settings.mailsPerAddress.points * MAILS_PER_ADDRESS_TOTAL_FACTOR,
        durationSeconds: settings.mailsPerAddress.durationSeconds,
      },
    };
    for (const name of Object.keys(all) as LimitName[]) {
      const spec = { keyPrefix: name, points: all[name].points, durationSeconds: all[name].durationSeconds };
      limiters.set(
        name,
        shared ? await shared(spec) : new RateLimiterMemory({ keyPrefix: name, points: spec.points, duration: spec.durationSeconds }),
      );
    }
    return new RateLimits(limiters, onLimited);
  }

  /** False with limits off: a hot path may then skip its checks without an await. */
  get enabled(): boolean {
    return this.limiters !== undefined;
  }

  /**
   * Counts one event against `key`; throws when the limit is exceeded. The count is atomic
   * (in memory, or one upsert on PostgreSQL), so calling it *before* checking a secret
   * reserves the attempt: of any number of concurrent guesses, at most the limit get checked.
   */
  async consume(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters?.get(name);
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (error) {
      throw this.limited(name, key, error);
    }
  }

  /** Counts one event like `consume`, but never throws for the limit (it still reports it). */
  async count(name: LimitName, key: string): Promise<void> {
    await this.consume(name, key).catch((error: unknown) => {
      if (!(error instanceof HushError) || error.code !== "rate_limited") throw error;
    });
  }

  /** Throws if `key` has already used up its limit, without counting this call. */
  async check(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters?.get(name);
    if (!limiter) return;
    const state = await limiter.get(key);
    if (state && state.consumedPoints >= limiter.points) throw this.limited(name, key, state);
  }

  /** Clears the count of `key` (after a successful login). */
  async reset(name: LimitName, key: string): Promise<void> {
    await this.limiters?.get(name)?.delete(key);
  }

  private limited(name: LimitName, key: string, error: unknown): unknown {
    if (!(error instanceof RateLimiterRes)) return error;
    this.onLimited(name, key);
    const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
    return new HushError("rate_limited", `Too many attempts. Try again in ${retryAfter} seconds.`, {
      "retry-after": String(retryAfter),
    });
  }
}
