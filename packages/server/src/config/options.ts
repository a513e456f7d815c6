import { SIGNING_ALGORITHMS } from "@hush/protocol";
import type { Transporter } from "nodemailer";
import type { Logger } from "pino";
import type { SecurityEvent } from "../events/security-events.js";
import { defaultMailFrom, defaultOutboxDir } from "../mail/defaults.js";
import type { MailTemplates } from "../mail/templates.js";
import { type RateLimitSettings, resolveRateLimits } from "../security/rate-limits.js";
import type { PoolSettings } from "../storage/open-storage.js";
import {
  COOKIE_SAMESITE_VALUES,
  defaultChoice,
  defaultInteger,
  defaultSeconds,
  EMAIL_VERIFICATION_MODES,
  LOG_LEVELS,
  REFRESH_MODES,
  settingOf,
} from "./settings.js";

/** Algorithms an access token may be signed with (one per deployment); the list lives in @hush/protocol. */
export { SIGNING_ALGORITHMS };
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export { COOKIE_SAMESITE_VALUES, LOG_LEVELS, REFRESH_MODES };
export type RefreshMode = (typeof REFRESH_MODES)[number];
export type CookieSameSite = (typeof COOKIE_SAMESITE_VALUES)[number];
export type EmailVerificationMode = (typeof EMAIL_VERIFICATION_MODES)[number];

/** A nodemailer transporter of the application's own (`nodemailer.createTransport(…)`). */
export type CustomMailTransport = Transporter;

/** Delivery timing: timeouts of one SMTP exchange and the outbox worker's retries. */
export interface MailDeliverySettings {
  /** Give up connecting, or waiting for the greeting, after this long. Default 10,000 ms. */
  connectionTimeoutMs?: number;
  /** Give up on an idle SMTP socket after this long. Default 20,000 ms. */
  socketTimeoutMs?: number;
  /** How often the worker looks for due mails besides being woken. Default 2,000 ms. */
  pollIntervalMs?: number;
  /** A worker holds a claimed mail this long; if it dies, another instance sends the mail after. Default 60,000 ms. */
  leaseMs?: number;
  /** Attempts before a temporarily failing mail is given up. Default 8. */
  maxAttempts?: number;
  /** Delay before retry number `attempt` (1, 2, …). Default 2 s doubling, at most 10 minutes. */
  backoffMs?: (attempt: number) => number;
}

/** The user data an `accessTokenClaims` hook sees. */
export interface ClaimsHookUser {
  id: string;
  email: string;
}

/**
 * Options of `createAuthServer()`. Durations are whole seconds; every option but `secret` and
 * `issuer` has the default of the matching environment variable (docs/api.md, Configuration).
 */
export interface AuthServerOptions {
  /** `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. Default `sqlite:./data/hush.db`. */
  databaseUrl?: string;
  /** Master secret, at least 32 bytes, as base64url or hex text or raw bytes. */
  secret: string | Uint8Array;
  /** `iss` of every token, and the origin that cookie endpoints accept by default. */
  issuer: string;
  /** `aud` of access tokens. Default `["hush"]`. */
  audience?: string | readonly string[];
  /** Access-token lifetime. Default 600 (10 minutes). */
  accessTokenTtlSeconds?: number;
  /** Absolute lifetime of a session. Default 2,592,000 (30 days). */
  refreshTokenTtlSeconds?: number;
  /** A session not refreshed for this long expires. Default 604,800 (7 days). */
  refreshIdleTtlSeconds?: number;
  /** Default `rotating`. */
  refreshMode?: RefreshMode;
  /** How long a just-rotated refresh token is still honoured with the same successor. Default 10. */
  reuseGraceSeconds?: number;
  /** Default `EdDSA`. */
  signingAlgorithm?: SigningAlgorithm;
  /** How long a rotated-in signing key is published before it signs. Default 60. */
  keyActivationDelaySeconds?: number;
  /** How often the key ring is re-read from the database (other instances may rotate). Default 30. */
  keyReloadSeconds?: number;
  /** How often the janitor deletes ended sessions and expired revocations, in seconds; 0 turns it off. Default 300. */
  pruneIntervalSeconds?: number;
  /** How recent a sign-in must be for sensitive operations, in seconds. Default 600. */
  reauthWindowSeconds?: number;
  /** Browser origins allowed to call cookie endpoints, besides the issuer's own origin. */
  allowedOrigins?: readonly string[];
  /** Default `Strict`. `None` is accepted only with `allowSameSiteNone` (an explicit cross-site setup). */
  cookieSameSite?: CookieSameSite;
  /** Confirms an explicit cross-site setup, the only one where `cookieSameSite: "None"` is accepted. Default false. */
  allowSameSiteNone?: boolean;
  /** Shortest accepted password, in characters. Default 8. */
  passwordMinLength?: number;
  /** PostgreSQL connection pool: size and timeouts. */
  databasePool?: PoolSettings;
  /** Serve Prometheus metrics at `GET /metrics`. Off by default: not for the public. */
  metrics?: boolean;
  /** `false` turns every rate limit off (benchmarks, load tests). */
  rateLimits?: Partial<RateLimitSettings> | false;
  /** Trust `X-Forwarded-For` (its last entry) as the client address, behind one reverse proxy. Default false. */
  trustProxy?: boolean;
  /** A pino logger; by default one is made at `logLevel`. */
  logger?: Logger;
  /** Default `info`. */
  logLevel?: string;
  /** Called with every security event (docs/api.md, Security events) after it is logged. Errors it throws are logged, never raised. */
  onEvent?: (event: SecurityEvent) => void;
  /** Extra claims for every access token of a user. Registered claim names cannot be overridden. */
  accessTokenClaims?: (user: ClaimsHookUser) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The web app, where emailed links point (`/verify-email`, `/reset-password`, …). Default: the first allowed origin, else the issuer's. Its origin is always allowed. */
  appUrl?: string;
  /** Mail delivery: SMTP, the development outbox folder, the From address, templates or a transport of your own. */
  mail?: MailOptions;
  /** Default `optional`. */
  emailVerification?: EmailVerificationMode;
  /** Lifetime of verification and email-change links. Default 86,400 (24 hours). */
  verifyLinkTtlSeconds?: number;
  /** Lifetime of password-reset links. Default 1,800 (30 minutes). */
  resetLinkTtlSeconds?: number;
  /** Lifetime of sign-in links. Default 900 (15 minutes). */
  signInLinkTtlSeconds?: number;
  /** Password-less sign-in links. Default false. */
  signInLinks?: boolean;
  /** Sign-in with other providers, by name (`google`, `microsoft`, `github` are presets; any other needs an `issuer`). */
  oauthProviders?: Record<string, ProviderConfig>;
  /** WebAuthn relying-party id. Default: the host of `appUrl`. */
  rpId?: string;
  /** The name passkey prompts show. Default `Hush`. */
  rpName?: string;
  /** The clock, in milliseconds since the epoch. Tests inject one. */
  now?: () => number;
}

/** One provider to sign in with (docs/api.md, Providers). */
export interface ProviderConfig {
  /** An OpenID Connect issuer, found by discovery; presets (`google`, `microsoft`, `github`) need none. */
  issuer?: string;
  clientId: string;
  clientSecret?: string;
  /** Default `openid email profile` (GitHub: `read:user user:email`). */
  scopes?: string;
  /** Whether this provider's verified emails may join an existing account. Default: on for `google` and `github`, off otherwise. */
  trustEmail?: boolean;
  /** The button's text. Default: the preset's name, or the provider's name. */
  label?: string;
}

/** How the server sends mail (docs/api.md, Email). */
export interface MailOptions {
  /** `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…`. */
  smtpUrl?: string;
  /** Without SMTP: the folder each mail is written to as an `.eml` file (development). */
  outboxDir?: string;
  /** The `From` of every mail. Default `Hush <no-reply@ISSUER-HOST>`. */
  from?: string;
  /** The product name the mails show. Default `Hush`. */
  appName?: string;
  /** Templates replacing the built-in ones, by kind. */
  templates?: Partial<MailTemplates>;
  /** A nodemailer transport of the application's own (instead of SMTP or the outbox folder). */
  transport?: CustomMailTransport;
  /** Timeouts and retries of delivery (tests shorten them). */
  delivery?: MailDeliverySettings;
}

/** Mail options after defaults: the From address, app name and outbox folder are always known. */
export type ResolvedMailOptions = Readonly<MailOptions & { from: string; appName: string; outboxDir: string }>;

/** Options after validation: every value present, checked once, frozen. */
export interface ResolvedOptions {
  readonly databaseUrl: string;
  readonly secret: Uint8Array;
  readonly issuer: string;
  readonly issuerOrigin: string;
  readonly audience: readonly string[];
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly refreshIdleTtlSeconds: number;
  readonly refreshMode: RefreshMode;
  readonly reuseGraceSeconds: number;
  readonly signingAlgorithm: SigningAlgorithm;
  readonly keyActivationDelaySeconds: number;
  readonly keyReloadSeconds: number;
  readonly pruneIntervalSeconds: number;
  readonly reauthWindowSeconds: number;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly cookieSameSite: CookieSameSite;
  readonly passwordMinLength: number;
  readonly rateLimits: RateLimitSettings | false;
  readonly databasePool: PoolSettings;
  readonly metrics: boolean;
  readonly trustProxy: boolean;
  readonly onEvent: ((event: SecurityEvent) => void) | undefined;
  readonly accessTokenClaims: AuthServerOptions["accessTokenClaims"];
  readonly now: () => number;
  readonly logger: Logger | undefined;
  readonly appUrl: string;
  readonly mail: ResolvedMailOptions;
  readonly emailVerification: EmailVerificationMode;
  readonly verifyLinkTtlSeconds: number;
  readonly resetLinkTtlSeconds: number;
  readonly signInLinkTtlSeconds: number;
  readonly signInLinks: boolean;
  readonly oauthProviders: Readonly<Record<string, ProviderConfig>>;
  readonly rpId: string;
  readonly rpName: string;
  readonly logLevel: string;
}

/** A setting that is missing or malformed; the message names the exact option or variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const MIN_SECRET_BYTES = 32;
/** Longest accepted password; longer ones are refused, never truncated. */
export const PASSWORD_MAX_LENGTH = 256;

/** Decodes a master secret given as hex or base64url text; `undefined` if it is neither. */
export function decodeSecret(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(trimmed)) return new Uint8Array(Buffer.from(trimmed, "hex"));
  if (/^[A-Za-z0-9_-]+$/.test(trimmed) && trimmed.length % 4 !== 1) {
    return new Uint8Array(Buffer.from(trimmed, "base64url"));
  }
  return undefined;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min) {
    throw new ConfigError(`options.${name} must be an integer of at least ${min}, got ${String(value)}`);
  }
  return result;
}

function oneOf<T extends string>(name: string, allowed: readonly T[], value: string | undefined, fallback: T): T {
  const result = value ?? fallback;
  if (!(allowed as readonly string[]).includes(result)) {
    throw new ConfigError(`options.${name} must be one of ${allowed.join(", ")}, got ${result}`);
  }
  return result as T;
}

/** Parses an origin exactly as browsers send it: scheme, host and port, nothing else. */
export function parseOrigin(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name}: "${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name}: "${text}" must be an http: or https: origin`);
  }
  return url.origin;
}

/** Validates options once and freezes the result. Throws `ConfigError` naming the bad option. */
export function resolveOptions(options: AuthServerOptions): ResolvedOptions {
  const secret = typeof options.secret === "string" ? decodeSecret(options.secret) : options.secret;
  if (!secret) throw new ConfigError("options.secret must be base64url or hex text");
  if (secret.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`options.secret must be at least ${MIN_SECRET_BYTES} bytes, got ${secret.byteLength}`);
  }
  const issuerOrigin = parseOrigin("options.issuer", options.issuer);
  const audience = typeof options.audience === "string" ? [options.audience] : [...(options.audience ?? ["hush"])];
  if (audience.length === 0 || audience.some((a) => typeof a !== "string" || a.trim() === "")) {
    throw new ConfigError("options.audience must be one or more non-empty strings");
  }
  const accessTokenTtlSeconds = positiveInteger(
    "accessTokenTtlSeconds",
    options.accessTokenTtlSeconds,
    defaultSeconds("accessTokenTtlSeconds"),
  );
  const refreshTokenTtlSeconds = positiveInteger(
    "refreshTokenTtlSeconds",
    options.refreshTokenTtlSeconds,
    defaultSeconds("refreshTokenTtlSeconds"),
  );
  const refreshIdleTtlSeconds = positiveInteger(
    "refreshIdleTtlSeconds",
    options.refreshIdleTtlSeconds,
    defaultSeconds("refreshIdleTtlSeconds"),
  );
  const cookieSameSite = oneOf(
    "cookieSameSite",
    COOKIE_SAMESITE_VALUES,
    options.cookieSameSite,
    defaultChoice("cookieSameSite", COOKIE_SAMESITE_VALUES),
  );
  // The same guard as HUSH_COOKIE_SAMESITE: SameSite=None weakens CSRF defence.
  if (cookieSameSite === "None" && options.allowSameSiteNone !== true) {
    throw new ConfigError(
      "options.cookieSameSite: None weakens CSRF defences; set options.allowSameSiteNone: true for an explicit cross-site setup",
    );
  }
  const passwordMinLength = positiveInteger("passwordMinLength", options.passwordMinLength, defaultInteger("passwordMinLength"));
  if (passwordMinLength > PASSWORD_MAX_LENGTH) {
    throw new ConfigError(`options.passwordMinLength must be at most ${PASSWORD_MAX_LENGTH}`);
  }
  const allowedOrigins = new Set([issuerOrigin]);
  const listed = (options.allowedOrigins ?? []).map((origin) => parseOrigin("options.allowedOrigins", origin));
  for (const origin of listed) allowedOrigins.add(origin);
  const appUrl = resolveAppUrl(options.appUrl, listed[0] ?? issuerOrigin);
  allowedOrigins.add(new URL(appUrl).origin);
  return Object.freeze({
    databaseUrl: options.databaseUrl ?? settingOf("databaseUrl").default,
    secret,
    issuer: options.issuer,
    issuerOrigin,
    audience: Object.freeze(audience.map((a) => a.trim())),
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    refreshIdleTtlSeconds,
    refreshMode: oneOf("refreshMode", REFRESH_MODES, options.refreshMode, defaultChoice("refreshMode", REFRESH_MODES)),
    reuseGraceSeconds: positiveInteger("reuseGraceSeconds", options.reuseGraceSeconds, defaultSeconds("reuseGraceSeconds"), 0),
    signingAlgorithm: oneOf(
      "signingAlgorithm",
      SIGNING_ALGORITHMS,
      options.signingAlgorithm,
      defaultChoice("signingAlgorithm", SIGNING_ALGORITHMS),
    ),
    keyActivationDelaySeconds: positiveInteger(
      "keyActivationDelaySeconds",
      options.keyActivationDelaySeconds,
      defaultSeconds("keyActivationDelaySeconds"),
      0,
    ),
    keyReloadSeconds: positiveInteger("keyReloadSeconds", options.keyReloadSeconds, defaultSeconds("keyReloadSeconds")),
    pruneIntervalSeconds: positiveInteger("pruneIntervalSeconds", options.pruneIntervalSeconds, defaultSeconds("pruneIntervalSeconds"), 0),
    reauthWindowSeconds: positiveInteger("reauthWindowSeconds", options.reauthWindowSeconds, defaultSeconds("reauthWindowSeconds")),
    allowedOrigins,
    cookieSameSite,
    passwordMinLength,
    rateLimits: options.rateLimits === false ? false : resolveRateLimits(options.rateLimits ?? {}),
    databasePool: Object.freeze({ ...options.databasePool }),
    metrics: options.metrics ?? false,
    trustProxy: options.trustProxy ?? false,
    onEvent: options.onEvent,
    accessTokenClaims: options.accessTokenClaims,
    now: options.now ?? Date.now,
    logger: options.logger,
    logLevel: oneOf("logLevel", LOG_LEVELS, options.logLevel, defaultChoice("logLevel", LOG_LEVELS)),
    appUrl,
    mail: resolveMail(options.mail ?? {}, issuerOrigin, options.databaseUrl ?? settingOf("databaseUrl").default),
    emailVerification: oneOf(
      "emailVerification",
      EMAIL_VERIFICATION_MODES,
      options.emailVerification,
      defaultChoice("emailVerification", EMAIL_VERIFICATION_MODES),
    ),
    verifyLinkTtlSeconds: positiveInteger("verifyLinkTtlSeconds", options.verifyLinkTtlSeconds, defaultSeconds("verifyLinkTtlSeconds")),
    resetLinkTtlSeconds: positiveInteger("resetLinkTtlSeconds", options.resetLinkTtlSeconds, defaultSeconds("resetLinkTtlSeconds")),
    signInLinkTtlSeconds: positiveInteger("signInLinkTtlSeconds", options.signInLinkTtlSeconds, defaultSeconds("signInLinkTtlSeconds")),
    signInLinks: options.signInLinks ?? false,
    oauthProviders: resolveProviders(options.oauthProviders ?? {}),
    rpId: resolveRpId(options.rpId, appUrl),
    rpName: options.rpName ?? settingOf("rpName").default,
  });
}

/** Presets that need no issuer. */
export const PROVIDER_PRESETS: ReadonlySet<string> = new Set(["google", "microsoft", "github"]);

/** Loopback host names (as `URL.hostname` spells them), which browsers and Hush treat as secure. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "127.0.0.1" || hostname === "localhost" || hostname === "[::1]";
}

/** Checks each provider: a name of letters, digits, `-` or `_`; a client id; an `https:` (or loopback) issuer unless a preset. */
function resolveProviders(providers: Record<string, ProviderConfig>): Readonly<Record<string, ProviderConfig>> {
  for (const [name, provider] of Object.entries(providers)) {
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name))
      throw new ConfigError(`options.oauthProviders: "${name}" must be lower-case letters, digits, - or _`);
    if (!provider.clientId) throw new ConfigError(`options.oauthProviders.${name}.clientId is required`);
    if (provider.issuer === undefined) {
      if (!PROVIDER_PRESETS.has(name))
        throw new ConfigError(`options.oauthProviders.${name}.issuer is required (only google, microsoft and github are presets)`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(provider.issuer);
    } catch {
      throw new ConfigError(`options.oauthProviders.${name}.issuer: "${provider.issuer}" is not a URL`);
    }
    const loopback = isLoopbackHost(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
      throw new ConfigError(`options.oauthProviders.${name}.issuer must be https: (http: only on a loopback host)`);
    }
  }
  return Object.freeze({ ...providers });
}

/** The RP id: the app's host, or a registrable suffix of it (WebAuthn refuses any other). */
function resolveRpId(rpId: string | undefined, appUrl: string): string {
  const host = new URL(appUrl).hostname;
  if (rpId === undefined) return host;
  const id = rpId.trim().toLowerCase();
  if (!id || (host !== id && !host.endsWith(`.${id}`))) {
    throw new ConfigError(`options.rpId: "${rpId}" must be the app's host (${host}) or a domain it belongs to`);
  }
  return id;
}

/** The app's URL without a trailing slash: links are built from it and a fixed path, never from a request. */
function resolveAppUrl(text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback;
  parseOrigin("options.appUrl", text);
  const url = new URL(text);
  if (url.search || url.hash) throw new ConfigError(`options.appUrl: "${text}" must not have a query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** Mail options with their defaults: SMTP when given, else the outbox folder beside the SQLite file. */
function resolveMail(mail: MailOptions, issuerOrigin: string, databaseUrl: string): ResolvedMailOptions {
  if (mail.smtpUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(mail.smtpUrl);
    } catch {
      throw new ConfigError("options.mail.smtpUrl: not a URL (use smtp://user:pass@host:port or smtps://…)");
    }
    if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
      throw new ConfigError(`options.mail.smtpUrl: must be smtp:// or smtps://, got ${url.protocol}`);
    }
  }
  return Object.freeze({
    ...mail,
    from: mail.from ?? defaultMailFrom(issuerOrigin),
    appName: mail.appName ?? "Hush",
    outboxDir: mail.outboxDir ?? defaultOutboxDir(databaseUrl),
  });
}
