import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRateLimit, type RateLimitSettings } from "../security/rate-limits.js";
import { dataFolderOf, parseDatabaseUrl } from "../storage/open-storage.js";
import { parseDurationSeconds } from "./durations.js";
import {
  type AuthServerOptions,
  COOKIE_SAMESITE_VALUES,
  ConfigError,
  decodeSecret,
  parseOrigin,
  REFRESH_MODES,
  SIGNING_ALGORITHMS,
} from "./options.js";

type Env = Record<string, string | undefined>;

/** Where the server listens, besides the server's own options. */
export interface ListenConfig {
  port: number;
  host: string;
}

/** Environment-only rate-limit overrides: `HUSH_RATE_LIMIT_<NAME>=POINTS/DURATION`. */
const RATE_LIMIT_VARIABLES: Record<string, keyof RateLimitSettings> = {
  HUSH_RATE_LIMIT_LOGIN_FAILURES: "loginFailuresPerAccount",
  HUSH_RATE_LIMIT_LOGIN_FAILURES_DEVICE: "loginFailuresPerDevice",
  HUSH_RATE_LIMIT_LOGIN_IP: "loginsPerIp",
  HUSH_RATE_LIMIT_SIGNUP_IP: "signupsPerIp",
  HUSH_RATE_LIMIT_REFRESH: "refreshesPerSession",
  HUSH_RATE_LIMIT_REFRESH_FAILURES_IP: "failedRefreshesPerIp",
};

function duration(env: Env, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new ConfigError(`${name}: "${text}" is not a duration (use e.g. 30s, 10m, 1h, 30d)`);
  return seconds;
}

function choice<T extends string>(env: Env, name: string, allowed: readonly T[]): T | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const found = allowed.find((a) => a.toLowerCase() === text.trim().toLowerCase());
  if (!found) throw new ConfigError(`${name}: "${text}" is not one of ${allowed.join(", ")}`);
  return found;
}

function integer(env: Env, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new ConfigError(`${name}: "${text}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (text === undefined || text === "") return fallback;
  if (["on", "true", "1", "yes"].includes(text)) return true;
  if (["off", "false", "0", "no"].includes(text)) return false;
  throw new ConfigError(`${name}: "${env[name]}" must be on or off`);
}

/**
 * The master secret: `HUSH_SECRET`, or in development one generated once into the data
 * folder (with a warning). In production its absence is a start-up error.
 */
function resolveSecret(env: Env, databaseUrl: string, warn: (message: string) => void): Uint8Array {
  const text = env.HUSH_SECRET;
  if (text !== undefined && text !== "") {
    const secret = decodeSecret(text);
    if (!secret) throw new ConfigError("HUSH_SECRET: must be base64url or hex text");
    if (secret.byteLength < 32) throw new ConfigError(`HUSH_SECRET: must be at least 32 bytes, got ${secret.byteLength}`);
    return secret;
  }
  if (env.NODE_ENV === "production") {
    throw new ConfigError(
      "HUSH_SECRET: required when NODE_ENV=production (generate one with: openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')",
    );
  }
  const location = parseDatabaseUrl(databaseUrl);
  const folder = location ? dataFolderOf(location) : undefined;
  if (!folder) {
    warn("HUSH_SECRET is not set: using a random secret for this process only; every token dies with it");
    return new Uint8Array(randomBytes(32));
  }
  const file = join(folder, "hush.secret");
  if (existsSync(file)) {
    const secret = decodeSecret(readFileSync(file, "utf8"));
    if (!secret || secret.byteLength < 32) throw new ConfigError(`HUSH_SECRET: the generated secret in ${file} is damaged`);
    return secret;
  }
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString("base64url")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  warn(`HUSH_SECRET is not set: generated one into ${file}. Set HUSH_SECRET in production.`);
  return new Uint8Array(secret);
}

/**
 * Reads the configuration of API.md §1 from environment variables. Every bad value throws a
 * `ConfigError` whose message starts with the variable's name; nothing silently falls back.
 */
export function configFromEnv(env: Env, warn: (message: string) => void): { listen: ListenConfig; options: AuthServerOptions } {
  const port = integer(env, "PORT", 0, 65_535) ?? 4000;
  const host = env.HOST?.trim() || "127.0.0.1";
  const databaseUrl = env.HUSH_DATABASE_URL?.trim() || "sqlite:./data/hush.db";
  if (!parseDatabaseUrl(databaseUrl)) {
    throw new ConfigError(`HUSH_DATABASE_URL: "${databaseUrl}" is not sqlite:PATH, sqlite::memory: or postgres://…`);
  }
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const issuer = env.HUSH_ISSUER?.trim() || `http://${urlHost}:${port}`;
  parseOrigin("HUSH_ISSUER", issuer);
  const audience = env.HUSH_AUDIENCE?.split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  if (env.HUSH_AUDIENCE !== undefined && !audience?.length) throw new ConfigError("HUSH_AUDIENCE: must name at least one audience");
  const allowedOrigins = env.HUSH_ALLOWED_ORIGINS?.split(",")
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => parseOrigin("HUSH_ALLOWED_ORIGINS", o));
  const cookieSameSite = choice(env, "HUSH_COOKIE_SAMESITE", COOKIE_SAMESITE_VALUES);
  if (cookieSameSite === "None" && env.HUSH_COOKIE_SAMESITE_NONE_CROSS_SITE !== "1") {
    throw new ConfigError(
      "HUSH_COOKIE_SAMESITE: None weakens CSRF defences; also set HUSH_COOKIE_SAMESITE_NONE_CROSS_SITE=1 for an explicit cross-site setup",
    );
  }
  let rateLimits: AuthServerOptions["rateLimits"] = onOff(env, "HUSH_RATE_LIMITS", true) ? {} : false;
  if (rateLimits) {
    for (const [variable, name] of Object.entries(RATE_LIMIT_VARIABLES)) {
      const text = env[variable];
      if (!text) continue;
      const limit = parseRateLimit(text);
      if (!limit) throw new ConfigError(`${variable}: "${text}" must look like 10/15m (points per duration)`);
      rateLimits = { ...rateLimits, [name]: limit };
    }
  }
  const options: AuthServerOptions = {
    databaseUrl,
    secret: resolveSecret(env, databaseUrl, warn),
    issuer,
    audience,
    accessTokenTtlSeconds: duration(env, "HUSH_ACCESS_TTL"),
    refreshTokenTtlSeconds: duration(env, "HUSH_REFRESH_TTL"),
    refreshIdleTtlSeconds: duration(env, "HUSH_REFRESH_IDLE_TTL"),
    refreshMode: choice(env, "HUSH_REFRESH_MODE", REFRESH_MODES),
    reuseGraceSeconds: env.HUSH_REUSE_GRACE === "0" ? 0 : duration(env, "HUSH_REUSE_GRACE"),
    signingAlgorithm: choice(env, "HUSH_SIGNING_ALG", SIGNING_ALGORITHMS),
    keyActivationDelaySeconds: env.HUSH_KEY_ACTIVATION_DELAY === "0" ? 0 : duration(env, "HUSH_KEY_ACTIVATION_DELAY"),
    keyReloadSeconds: duration(env, "HUSH_KEY_RELOAD"),
    pruneIntervalSeconds: env.HUSH_PRUNE_INTERVAL === "0" ? 0 : duration(env, "HUSH_PRUNE_INTERVAL"),
    reauthWindowSeconds: duration(env, "HUSH_REAUTH_WINDOW"),
    allowedOrigins,
    cookieSameSite,
    passwordMinLength: integer(env, "HUSH_PASSWORD_MIN_LENGTH", 1, 256),
    rateLimits,
    trustProxy: onOff(env, "HUSH_TRUST_PROXY", false),
    metrics: onOff(env, "HUSH_METRICS", false),
    databasePool: {
      maxConnections: integer(env, "HUSH_DATABASE_POOL_MAX", 1, 1000),
      connectTimeoutMs: ((seconds) => (seconds === undefined ? undefined : seconds * 1000))(duration(env, "HUSH_DATABASE_TIMEOUT")),
    },
    logLevel: choice(env, "HUSH_LOG_LEVEL", ["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
  };
  return { listen: { port, host }, options };
}
