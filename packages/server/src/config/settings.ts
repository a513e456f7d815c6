import { SIGNING_ALGORITHMS } from "@hush/protocol";
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from "../security/rate-limits.js";
import { parseDurationSeconds } from "./durations.js";

/** `rotating`: stored sessions, rotation and reuse detection. `stateless`: signed refresh JWTs. */
export const REFRESH_MODES = ["rotating", "stateless"] as const;
export const COOKIE_SAMESITE_VALUES = ["Strict", "Lax", "None"] as const;
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
/** `off`: no verification mails; `optional`: a mail at sign-up, nothing blocked; `required`: no session until verified. */
export const EMAIL_VERIFICATION_MODES = ["off", "optional", "required"] as const;

/**
 * One setting, declared once: its environment variable, the `createAuthServer` option it
 * sets, its type and default as an operator writes them, and one line of help. The
 * environment parser, the programmatic defaults, `hush serve --help` and the README's
 * configuration table are derived from (or checked against) this table.
 */
export interface Setting {
  env: string;
  /** The option it sets (`accessTokenTtlSeconds`), or where it goes (`listen.port`). */
  option: string;
  type: SettingType;
  /** The default as written in the environment (`10m`), or how it is derived. */
  default: string;
  help: string;
}

/** How a setting's text is read. */
export type SettingType =
  | { kind: "duration"; zeroAllowed?: boolean }
  | { kind: "integer"; min: number; max: number }
  | { kind: "choice"; values: readonly string[] }
  | { kind: "on-off" }
  | { kind: "rate-limit"; limit: keyof RateLimitSettings }
  /** Read by code of its own (`env-config.ts`): a URL, a list, the secret. */
  | { kind: "special" };

const duration = (zeroAllowed = false): SettingType => ({ kind: "duration", zeroAllowed });
const special: SettingType = { kind: "special" };
const rateLimit = (limit: keyof RateLimitSettings): SettingType => ({ kind: "rate-limit", limit });
const limitText = (limit: keyof RateLimitSettings) => {
  const { points, durationSeconds } = DEFAULT_RATE_LIMITS[limit];
  if (durationSeconds % 3600 === 0) return `${points}/${durationSeconds / 3600}h`;
  return `${points}/${durationSeconds % 60 === 0 ? `${durationSeconds / 60}m` : `${durationSeconds}s`}`;
};

/** Every setting of `hush serve`, in the order the docs list them. */
export const SETTINGS: readonly Setting[] = [
  {
    env: "PORT",
    option: "listen.port",
    type: { kind: "integer", min: 0, max: 65_535 },
    default: "4000",
    help: "where the server listens (0: any free port)",
  },
  { env: "HOST", option: "listen.host", type: special, default: "127.0.0.1", help: "the address it listens on" },
  {
    env: "HUSH_DATABASE_URL",
    option: "databaseUrl",
    type: special,
    default: "sqlite:./data/hush.db",
    help: "`sqlite:PATH`, `sqlite::memory:` or `postgres://user:pass@host:5432/db`",
  },
  {
    env: "HUSH_DATABASE_POOL_MAX",
    option: "databasePool.maxConnections",
    type: { kind: "integer", min: 1, max: 1000 },
    default: "10",
    help: "PostgreSQL connections per instance",
  },
  {
    env: "HUSH_DATABASE_TIMEOUT",
    option: "databasePool.connectTimeoutMs",
    type: duration(),
    default: "5s",
    help: "give up connecting to PostgreSQL (or waiting for a pooled connection) after this long: `503 unavailable`, never a hang",
  },
  {
    env: "HUSH_SECRET",
    option: "secret",
    type: special,
    default: "generated into the data folder (required with NODE_ENV=production)",
    help: "master secret, ≥ 32 bytes, base64url or hex",
  },
  {
    env: "HUSH_ISSUER",
    option: "issuer",
    type: special,
    default: "http://HOST:PORT",
    help: "`iss` of every token; its origin is always allowed to call cookie endpoints",
  },
  { env: "HUSH_AUDIENCE", option: "audience", type: special, default: "hush", help: "`aud` of access tokens (comma list allowed)" },
  {
    env: "HUSH_ACCESS_TTL",
    option: "accessTokenTtlSeconds",
    type: duration(),
    default: "10m",
    help: "access-token lifetime (`30s`, `10m`, `1h`, `30d`, `2w`, or bare seconds)",
  },
  { env: "HUSH_REFRESH_TTL", option: "refreshTokenTtlSeconds", type: duration(), default: "30d", help: "absolute lifetime of a session" },
  {
    env: "HUSH_REFRESH_IDLE_TTL",
    option: "refreshIdleTtlSeconds",
    type: duration(),
    default: "7d",
    help: "a session not refreshed for this long expires",
  },
  {
    env: "HUSH_REFRESH_MODE",
    option: "refreshMode",
    type: { kind: "choice", values: REFRESH_MODES },
    default: "rotating",
    help: "`rotating` (stored sessions, rotation, reuse detection) or `stateless` (signed refresh JWTs)",
  },
  {
    env: "HUSH_REUSE_GRACE",
    option: "reuseGraceSeconds",
    type: duration(true),
    default: "10s",
    help: "how long a rotated refresh token still gets the session's current token",
  },
  {
    env: "HUSH_SIGNING_ALG",
    option: "signingAlgorithm",
    type: { kind: "choice", values: SIGNING_ALGORITHMS },
    default: "EdDSA",
    help: "`EdDSA`, `ES256`, `RS256` or `HS256`; a change is a publish-before-use rotation",
  },
  {
    env: "HUSH_KEY_ACTIVATION_DELAY",
    option: "keyActivationDelaySeconds",
    type: duration(true),
    default: "60s",
    help: "how long a rotated-in key is published before it signs",
  },
  {
    env: "HUSH_KEY_RELOAD",
    option: "keyReloadSeconds",
    type: duration(),
    default: "30s",
    help: "how often each instance re-reads the key set (keep it below the activation delay)",
  },
  {
    env: "HUSH_PRUNE_INTERVAL",
    option: "pruneIntervalSeconds",
    type: duration(true),
    default: "5m",
    help: "how often the janitor deletes ended sessions and revocations nobody needs (`0`: never)",
  },
  {
    env: "HUSH_REAUTH_WINDOW",
    option: "reauthWindowSeconds",
    type: duration(),
    default: "10m",
    help: "how recent a sign-in must be for sensitive operations",
  },
  {
    env: "HUSH_ALLOWED_ORIGINS",
    option: "allowedOrigins",
    type: special,
    default: "the issuer's origin",
    help: "comma list of exact browser origins allowed to call cookie endpoints (CORS with credentials + CSRF)",
  },
  {
    env: "HUSH_COOKIE_SAMESITE",
    option: "cookieSameSite",
    type: { kind: "choice", values: COOKIE_SAMESITE_VALUES },
    default: "Strict",
    help: "`Strict` or `Lax`; `None` only with `HUSH_COOKIE_SAMESITE_NONE_CROSS_SITE=1`",
  },
  {
    env: "HUSH_COOKIE_SAMESITE_NONE_CROSS_SITE",
    option: "allowSameSiteNone",
    type: { kind: "on-off" },
    default: "off",
    help: "`1` confirms an explicit cross-site setup, the only one where `SameSite=None` is accepted",
  },
  {
    env: "HUSH_PASSWORD_MIN_LENGTH",
    option: "passwordMinLength",
    type: { kind: "integer", min: 1, max: 256 },
    default: "8",
    help: "NIST SP 800-63B-4 asks for 15 where the password is the only factor",
  },
  {
    env: "HUSH_RATE_LIMITS",
    option: "rateLimits",
    type: { kind: "on-off" },
    default: "on",
    help: "`off` disables every rate limit (benchmarks, load tests)",
  },
  {
    env: "HUSH_RATE_LIMIT_LOGIN_FAILURES",
    option: "rateLimits.loginFailuresPerAccount",
    type: rateLimit("loginFailuresPerAccount"),
    default: limitText("loginFailuresPerAccount"),
    help: "failed password checks per account from browsers without its device cookie; reserved before the hash",
  },
  {
    env: "HUSH_RATE_LIMIT_LOGIN_FAILURES_DEVICE",
    option: "rateLimits.loginFailuresPerDevice",
    type: rateLimit("loginFailuresPerDevice"),
    default: limitText("loginFailuresPerDevice"),
    help: "failed password checks per trusted device (a browser with the account's device cookie)",
  },
  {
    env: "HUSH_RATE_LIMIT_LOGIN_IP",
    option: "rateLimits.loginsPerIp",
    type: rateLimit("loginsPerIp"),
    default: limitText("loginsPerIp"),
    help: "login attempts per client (IPv6 by /64)",
  },
  {
    env: "HUSH_RATE_LIMIT_SIGNUP_IP",
    option: "rateLimits.signupsPerIp",
    type: rateLimit("signupsPerIp"),
    default: limitText("signupsPerIp"),
    help: "sign-ups per client (IPv6 by /64)",
  },
  {
    env: "HUSH_RATE_LIMIT_REFRESH",
    option: "rateLimits.refreshesPerSession",
    type: rateLimit("refreshesPerSession"),
    default: limitText("refreshesPerSession"),
    help: "refreshes per session (never per IP: many users share one NAT)",
  },
  {
    env: "HUSH_RATE_LIMIT_REFRESH_FAILURES_IP",
    option: "rateLimits.failedRefreshesPerIp",
    type: rateLimit("failedRefreshesPerIp"),
    default: limitText("failedRefreshesPerIp"),
    help: "refused refreshes per client (IPv6 by /64); good refreshes are never counted",
  },
  {
    env: "HUSH_RATE_LIMIT_EMAIL",
    option: "rateLimits.mailsPerAddress",
    type: rateLimit("mailsPerAddress"),
    default: limitText("mailsPerAddress"),
    help: "mails of any kind per target address and requesting client, counted whether or not an account exists; an address also gets at most four times this from all requesters",
  },
  {
    env: "HUSH_APP_URL",
    option: "appUrl",
    type: special,
    default: "the first allowed origin",
    help: "the web app: emailed links are this URL + `/verify-email`, `/reset-password`, `/confirm-email` or `/sign-in-link`, the token in the fragment; its origin is always allowed",
  },
  {
    env: "HUSH_SMTP_URL",
    option: "mail.smtpUrl",
    type: special,
    default: "unset",
    help: "`smtp://user:pass@host:port` (STARTTLS when offered; add `?requireTLS=true` to refuse a server without it) or `smtps://…`: mail goes out over SMTP (required with NODE_ENV=production)",
  },
  {
    env: "HUSH_MAIL_FROM",
    option: "mail.from",
    type: special,
    default: "`Hush <no-reply@ISSUER-HOST>`",
    help: "the `From` of every mail",
  },
  {
    env: "HUSH_MAIL_OUTBOX",
    option: "mail.outboxDir",
    type: special,
    default: "`outbox` beside the SQLite file, else `./data/outbox` (without SMTP)",
    help: "development without SMTP: each mail written there as an `.eml` file and its link logged at `info`",
  },
  {
    env: "HUSH_MAIL_LEASE",
    option: "mail.delivery.leaseMs",
    type: duration(),
    default: "60s",
    help: "how long an instance holds a mail it is sending; if it dies, another sends the mail after this (keep it above the SMTP timeouts)",
  },
  {
    env: "HUSH_EMAIL_VERIFICATION",
    option: "emailVerification",
    type: { kind: "choice", values: EMAIL_VERIFICATION_MODES },
    default: "optional",
    help: "`off`, `optional` (a verification mail on sign-up, nothing blocked) or `required` (no session until the address is verified)",
  },
  {
    env: "HUSH_VERIFY_TTL",
    option: "verifyLinkTtlSeconds",
    type: duration(),
    default: "24h",
    help: "lifetime of verification and email-change links",
  },
  { env: "HUSH_RESET_TTL", option: "resetLinkTtlSeconds", type: duration(), default: "30m", help: "lifetime of password-reset links" },
  { env: "HUSH_SIGNIN_LINK_TTL", option: "signInLinkTtlSeconds", type: duration(), default: "15m", help: "lifetime of sign-in links" },
  {
    env: "HUSH_SIGNIN_LINKS",
    option: "signInLinks",
    type: { kind: "on-off" },
    default: "off",
    help: "`on` enables password-less sign-in links",
  },
  {
    env: "HUSH_OAUTH_PROVIDERS",
    option: "oauthProviders",
    type: special,
    default: "none",
    help: "comma list of provider names for sign-in with other providers (`google`, `microsoft`, `github` are presets)",
  },
  {
    env: "HUSH_OAUTH_<NAME>_ISSUER",
    option: "oauthProviders.<name>.issuer",
    type: special,
    default: "the preset's",
    help: "an OpenID Connect issuer, found by discovery (`https:`; `http:` only on loopback)",
  },
  {
    env: "HUSH_OAUTH_<NAME>_CLIENT_ID",
    option: "oauthProviders.<name>.clientId",
    type: special,
    default: "required",
    help: "the client id registered at the provider; the redirect URI is `HUSH_ISSUER/auth/oauth/<name>/callback`",
  },
  {
    env: "HUSH_OAUTH_<NAME>_CLIENT_SECRET",
    option: "oauthProviders.<name>.clientSecret",
    type: special,
    default: "none",
    help: "its client secret",
  },
  {
    env: "HUSH_OAUTH_<NAME>_SCOPES",
    option: "oauthProviders.<name>.scopes",
    type: special,
    default: "`openid email profile`",
    help: "the scopes asked for",
  },
  {
    env: "HUSH_OAUTH_<NAME>_TRUST_EMAIL",
    option: "oauthProviders.<name>.trustEmail",
    type: special,
    default: "`on` for google and github",
    help: "whether the provider's verified emails may join an existing account by address",
  },
  {
    env: "HUSH_OAUTH_<NAME>_LABEL",
    option: "oauthProviders.<name>.label",
    type: special,
    default: "the preset's name, or NAME",
    help: "the text of the provider's sign-in button",
  },
  {
    env: "HUSH_RP_ID",
    option: "rpId",
    type: special,
    default: "the host of `HUSH_APP_URL`",
    help: "WebAuthn relying-party id (passkeys): the app's host name or a registrable suffix of it",
  },
  { env: "HUSH_RP_NAME", option: "rpName", type: special, default: "Hush", help: "the name passkey prompts show" },
  {
    env: "HUSH_TRUST_PROXY",
    option: "trustProxy",
    type: { kind: "on-off" },
    default: "off",
    help: "`on` behind exactly one reverse proxy: the last `X-Forwarded-For` hop is the client",
  },
  {
    env: "HUSH_METRICS",
    option: "metrics",
    type: { kind: "on-off" },
    default: "off",
    help: "`on` serves Prometheus metrics at `GET /metrics` (keep that path off the public network)",
  },
  {
    env: "HUSH_LOG_LEVEL",
    option: "logLevel",
    type: { kind: "choice", values: LOG_LEVELS },
    default: "info",
    help: "pino level; logs are one JSON object per line",
  },
];

/** The setting of an option name; throws for a name the table does not declare (a bug). */
export function settingOf(option: string): Setting {
  const found = SETTINGS.find((s) => s.option === option);
  if (!found) throw new Error(`no setting declares option ${option}`);
  return found;
}

/** An option's default in seconds, read from the table (`10m` → 600). */
export function defaultSeconds(option: string): number {
  const text = settingOf(option).default;
  if (text === "0") return 0;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new Error(`the default of ${option} is not a duration`);
  return seconds;
}

/** An option's default integer, read from the table. */
export function defaultInteger(option: string): number {
  return Number(settingOf(option).default);
}

/** An option's default choice, read from the table. */
export function defaultChoice<T extends string>(option: string, values: readonly T[]): T {
  const text = settingOf(option).default;
  const found = values.find((v) => v === text);
  if (!found) throw new Error(`the default of ${option} is not one of its values`);
  return found;
}

/** The table as `hush serve --help` prints it: one line per variable. */
export function settingsHelp(): string {
  const width = Math.max(...SETTINGS.map((s) => s.env.length));
  return SETTINGS.map((s) => `  ${s.env.padEnd(width)}  ${s.help.replaceAll("`", "")} (default: ${s.default.replaceAll("`", "")})`).join(
    "\n",
  );
}

/** The README's configuration table, generated from the settings (a test keeps the README in step). */
export function settingsTable(): string {
  const rows = SETTINGS.map(
    (s) => `| \`${s.env}\` | ${s.default.startsWith("`") || /\s/.test(s.default) ? s.default : `\`${s.default}\``} | ${s.help} |`,
  );
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}
