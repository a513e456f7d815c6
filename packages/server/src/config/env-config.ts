import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRateLimit, type RateLimitSettings } from "../security/rate-limits.js";
import { dataFolderOf, parseDatabaseUrl } from "../storage/open-storage.js";
import { parseDurationSeconds } from "./durations.js";
import { type AuthServerOptions, ConfigError, decodeSecret, PROVIDER_PRESETS, type ProviderConfig, parseOrigin } from "./options.js";
import { SETTINGS, type Setting } from "./settings.js";

type Env = Record<string, string | undefined>;

/** Where the server listens, besides the server's own options. */
export interface ListenConfig {
  port: number;
  host: string;
}

const ON = ["on", "true", "1", "yes"];
const OFF = ["off", "false", "0", "no"];

/** Reads one setting's text by its declared type; throws a `ConfigError` naming the variable. */
function parseSetting(setting: Setting, text: string): unknown {
  const { env: name, type } = setting;
  switch (type.kind) {
    case "duration": {
      if (type.zeroAllowed && text === "0") return 0;
      const seconds = parseDurationSeconds(text);
      if (seconds === undefined) throw new ConfigError(`${name}: "${text}" is not a duration (use e.g. 30s, 10m, 1h, 30d)`);
      return seconds;
    }
    case "integer": {
      const value = Number(text);
      if (!/^\d+$/.test(text) || value < type.min || value > type.max) {
        throw new ConfigError(`${name}: "${text}" must be a whole number from ${type.min} to ${type.max}`);
      }
      return value;
    }
    case "choice": {
      const found = type.values.find((v) => v.toLowerCase() === text.toLowerCase());
      if (!found) throw new ConfigError(`${name}: "${text}" is not one of ${type.values.join(", ")}`);
      return found;
    }
    case "on-off": {
      if (ON.includes(text.toLowerCase())) return true;
      if (OFF.includes(text.toLowerCase())) return false;
      throw new ConfigError(`${name}: "${text}" must be on or off`);
    }
    case "rate-limit": {
      const limit = parseRateLimit(text);
      if (!limit) throw new ConfigError(`${name}: "${text}" must look like 10/15m (points per duration)`);
      return limit;
    }
    case "special":
      return text;
  }
}

/** A setting's text: trimmed, and `undefined` when unset or empty (the default applies). */
function textOf(env: Env, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === undefined || text === "" ? undefined : text;
}

/**
 * The master secret: `HUSH_SECRET`, or in development one generated once into the data
 * folder (with a warning). In production its absence is a start-up error.
 */
function resolveSecret(env: Env, databaseUrl: string, warn: (message: string) => void): Uint8Array {
  const text = textOf(env, "HUSH_SECRET");
  if (text !== undefined) {
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

/** A comma list, each entry trimmed, empty ones dropped. */
function listOf(text: string | undefined): string[] | undefined {
  return text
    ?.split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** `HUSH_OAUTH_PROVIDERS` and each provider's `HUSH_OAUTH_<NAME>_*` variables; a missing or bad one names itself. */
function providersFromEnv(env: Env): Record<string, ProviderConfig> | undefined {
  const names = listOf(env.HUSH_OAUTH_PROVIDERS);
  if (!names?.length) return undefined;
  const providers: Record<string, ProviderConfig> = {};
  for (const raw of names) {
    const name = raw.toLowerCase();
    const prefix = `HUSH_OAUTH_${name.toUpperCase().replace(/-/g, "_")}_`;
    const clientId = textOf(env, `${prefix}CLIENT_ID`);
    if (!clientId) throw new ConfigError(`${prefix}CLIENT_ID: required for provider ${name} (listed in HUSH_OAUTH_PROVIDERS)`);
    const trust = textOf(env, `${prefix}TRUST_EMAIL`);
    if (trust !== undefined && !ON.includes(trust.toLowerCase()) && !OFF.includes(trust.toLowerCase())) {
      throw new ConfigError(`${prefix}TRUST_EMAIL: "${trust}" must be on or off`);
    }
    const issuer = textOf(env, `${prefix}ISSUER`);
    if (issuer === undefined && !PROVIDER_PRESETS.has(name)) {
      throw new ConfigError(`${prefix}ISSUER: required for provider ${name} (only google, microsoft and github are presets)`);
    }
    providers[name] = {
      issuer,
      clientId,
      clientSecret: textOf(env, `${prefix}CLIENT_SECRET`),
      scopes: textOf(env, `${prefix}SCOPES`),
      trustEmail: trust === undefined ? undefined : ON.includes(trust.toLowerCase()),
      label: textOf(env, `${prefix}LABEL`),
    };
  }
  return providers;
}

/**
 * Reads the configuration of docs/api.md, Configuration from environment variables, as the settings table
 * (`settings.ts`) declares them. Every bad value throws a `ConfigError` whose message starts
 * with the variable's name; nothing silently falls back.
 */
export function configFromEnv(env: Env, warn: (message: string) => void): { listen: ListenConfig; options: AuthServerOptions } {
  // Every simple setting, by its declared type, into a bag keyed by its option path.
  const values = new Map<string, unknown>();
  const rateLimits: Partial<RateLimitSettings> = {};
  for (const setting of SETTINGS) {
    const text = textOf(env, setting.env);
    if (text === undefined || setting.type.kind === "special") continue;
    const value = parseSetting(setting, text);
    if (setting.type.kind === "rate-limit") rateLimits[setting.type.limit] = value as RateLimitSettings[keyof RateLimitSettings];
    else values.set(setting.option, value);
  }
  const value = <T>(option: string): T | undefined => values.get(option) as T | undefined;

  const port = value<number>("listen.port") ?? 4000;
  const host = textOf(env, "HOST") ?? "127.0.0.1";
  const databaseUrl = textOf(env, "HUSH_DATABASE_URL") ?? "sqlite:./data/hush.db";
  if (!parseDatabaseUrl(databaseUrl)) {
    throw new ConfigError(`HUSH_DATABASE_URL: "${databaseUrl}" is not sqlite:PATH, sqlite::memory: or postgres://…`);
  }
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const issuer = textOf(env, "HUSH_ISSUER") ?? `http://${urlHost}:${port}`;
  parseOrigin("HUSH_ISSUER", issuer);
  const audience = listOf(env.HUSH_AUDIENCE);
  if (env.HUSH_AUDIENCE !== undefined && !audience?.length) throw new ConfigError("HUSH_AUDIENCE: must name at least one audience");
  const allowedOrigins = listOf(env.HUSH_ALLOWED_ORIGINS)?.map((o) => parseOrigin("HUSH_ALLOWED_ORIGINS", o));
  const cookieSameSite = value<AuthServerOptions["cookieSameSite"]>("cookieSameSite");
  const allowSameSiteNone = value<boolean>("allowSameSiteNone") ?? false;
  if (cookieSameSite === "None" && !allowSameSiteNone) {
    throw new ConfigError(
      "HUSH_COOKIE_SAMESITE: None weakens CSRF defences; also set HUSH_COOKIE_SAMESITE_NONE_CROSS_SITE=1 for an explicit cross-site setup",
    );
  }
  const timeoutSeconds = value<number>("databasePool.connectTimeoutMs");
  const secondsToMs = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);
  const smtpUrl = textOf(env, "HUSH_SMTP_URL");
  const appUrl = textOf(env, "HUSH_APP_URL");
  if (appUrl !== undefined) parseOrigin("HUSH_APP_URL", appUrl);
  const secret = resolveSecret(env, databaseUrl, warn);
  if (smtpUrl === undefined && env.NODE_ENV === "production") {
    throw new ConfigError("HUSH_SMTP_URL: required when NODE_ENV=production (mail would only go to the development outbox folder)");
  }
  const options: AuthServerOptions = {
    databaseUrl,
    secret,
    issuer,
    audience,
    accessTokenTtlSeconds: value("accessTokenTtlSeconds"),
    refreshTokenTtlSeconds: value("refreshTokenTtlSeconds"),
    refreshIdleTtlSeconds: value("refreshIdleTtlSeconds"),
    refreshMode: value("refreshMode"),
    reuseGraceSeconds: value("reuseGraceSeconds"),
    signingAlgorithm: value("signingAlgorithm"),
    keyActivationDelaySeconds: value("keyActivationDelaySeconds"),
    keyReloadSeconds: value("keyReloadSeconds"),
    pruneIntervalSeconds: value("pruneIntervalSeconds"),
    reauthWindowSeconds: value("reauthWindowSeconds"),
    allowedOrigins,
    cookieSameSite,
    allowSameSiteNone,
    passwordMinLength: value("passwordMinLength"),
    rateLimits: value<boolean>("rateLimits") === false ? false : rateLimits,
    trustProxy: value("trustProxy"),
    metrics: value("metrics"),
    databasePool: {
      maxConnections: value("databasePool.maxConnections"),
      connectTimeoutMs: secondsToMs(timeoutSeconds),
    },
    logLevel: value("logLevel"),
    appUrl,
    mail: {
      smtpUrl,
      from: textOf(env, "HUSH_MAIL_FROM"),
      outboxDir: textOf(env, "HUSH_MAIL_OUTBOX"),
      delivery: { leaseMs: secondsToMs(value<number>("mail.delivery.leaseMs")) },
    },
    emailVerification: value("emailVerification"),
    verifyLinkTtlSeconds: value("verifyLinkTtlSeconds"),
    resetLinkTtlSeconds: value("resetLinkTtlSeconds"),
    signInLinkTtlSeconds: value("signInLinkTtlSeconds"),
    signInLinks: value("signInLinks"),
    oauthProviders: providersFromEnv(env),
    rpId: textOf(env, "HUSH_RP_ID"),
    rpName: textOf(env, "HUSH_RP_NAME"),
  };
  return { listen: { port, host }, options };
}
