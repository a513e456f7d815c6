import type { Logger } from "pino";
import { type AuthServerOptions, type ResolvedOptions, resolveOptions } from "./config/options.js";
import { createLogger } from "./events/logger.js";
import { SecurityEvents } from "./events/security-events.js";
import { deriveKey } from "./keys/derive-key.js";
import { KeyRing } from "./keys/key-ring.js";
import { createSecretBox } from "./keys/secret-box.js";
import { createMailer, type Mailer } from "./mail/index.js";
import { createMetrics, type Metrics } from "./metrics/metrics.js";
import { PasswordHasher } from "./passwords/password-hasher.js";
import { PasswordPolicy } from "./passwords/password-policy.js";
import { DeviceTrust } from "./security/device-trust.js";
import { PasswordAttempts } from "./security/password-attempts.js";
import { RateLimits } from "./security/rate-limits.js";
import { Accounts } from "./services/accounts.js";
import { Admin } from "./services/admin.js";
import { EmailFlows } from "./services/email-flows.js";
import { Lifecycle } from "./services/lifecycle.js";
import { Passkeys } from "./services/passkeys.js";
import { Providers } from "./services/providers.js";
import { RotatingSessions } from "./services/rotating-sessions.js";
import type { SessionStrategy } from "./services/session-strategy.js";
import { SignInGate } from "./services/sign-in-gate.js";
import { StatelessSessions } from "./services/stateless-sessions.js";
import { TokenIssuer } from "./services/token-issuer.js";
import { TwoFactor } from "./services/two-factor.js";
import type { Storage } from "./storage/contract.js";
import { openStorage } from "./storage/open-storage.js";
import { AccessTokens } from "./tokens/access-token.js";
import { RefreshChain } from "./tokens/refresh-token.js";
import { StatelessRefreshTokens } from "./tokens/stateless-refresh-token.js";

/** The server's services over one open, migrated database — everything but HTTP. */
export interface Services {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly metrics: Metrics;
  readonly events: SecurityEvents;
  readonly limits: RateLimits;
  /** Device tokens: browsers that signed in to an account before (OWASP device cookies). */
  readonly devices: DeviceTrust;
  /** Loaded from the database, but not initialised: only a server that signs creates keys. */
  readonly keys: KeyRing;
  readonly accounts: Accounts;
  readonly sessions: SessionStrategy;
  readonly lifecycle: Lifecycle;
  /** The durable outbox; its worker runs only in a server (`mailer.start()`), the CLI only queues. */
  readonly mailer: Mailer;
  readonly email: EmailFlows;
  readonly accessTokens: AccessTokens;
  /** Issues tokens for every sign-in and refresh. */
  readonly tokens: TokenIssuer;
  readonly twoFactor: TwoFactor;
  readonly passkeys: Passkeys;
  /** Where every sign-in ends: tokens, or `mfa_required` for a user with a second factor. */
  readonly gate: SignInGate;
  readonly providers: Providers;
  readonly admin: Admin;
  /** Stops background work and closes the database. */
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the database and builds the services on it. Used by `createAuthServer`
 * and by the CLI, which must never change the signing keys a running server uses: the key ring
 * comes back loaded but untouched, and `KeyRing.initialize()` is the server's alone.
 */
export async function openServices(options: AuthServerOptions & { storage?: Storage }): Promise<Services> {
  const resolved = resolveOptions(options);
  const logger = resolved.logger ?? createLogger(resolved.logLevel);
  let storage: Storage | undefined;
  const metrics = await createMetrics(resolved.metrics, () => storage?.poolStats?.());
  storage =
    options.storage ??
    (await openStorage(resolved.databaseUrl, {
      pool: resolved.databasePool,
      observer: metrics.enabled ? { onQuery: (ms, failed) => metrics.observeQuery(ms, failed) } : undefined,
      onPoolError: (error) => logger.warn({ err: error }, "database connection lost; the pool will reconnect"),
    }));
  await storage.migrate();

  // No hook at all when nobody listens, so that an event the log level hides costs nothing.
  const onEvent = resolved.onEvent;
  const events = new SecurityEvents(
    logger,
    metrics.enabled || onEvent
      ? (event) => {
          metrics.onEvent(event);
          onEvent?.(event);
        }
      : undefined,
    resolved.now,
  );
  const keys = new KeyRing(storage, createSecretBox(resolved.secret), {
    algorithm: resolved.signingAlgorithm,
    accessTokenTtlSeconds: resolved.accessTokenTtlSeconds,
    keyActivationDelaySeconds: resolved.keyActivationDelaySeconds,
    kidSeed: deriveKey(resolved.secret, "hush/key-id/v1"),
    now: resolved.now,
  });
  await keys.reload();

  const limits = await RateLimits.create(
    resolved.rateLimits,
    (name, key) =>
      events.emit({
        type: "rate_limited",
        reason: name,
        ...(name === "loginFailuresPerAccount"
          ? { email: key }
          : name === "refreshesPerSession"
            ? { sessionId: key }
            : name === "loginFailuresPerDevice"
              ? { deviceId: key }
              : { ip: key }),
      }),
    // On PostgreSQL the counters live in the database, shared by every instance.
    storage.createRateLimiter?.bind(storage),
  );
  const hasher = new PasswordHasher();
  const policy = new PasswordPolicy(resolved.passwordMinLength);
  const sessions =
    resolved.refreshMode === "rotating"
      ? new RotatingSessions(storage, new RefreshChain(resolved.secret), limits, events, resolved)
      : new StatelessSessions(storage, new StatelessRefreshTokens(resolved.secret, resolved.issuer), limits, events, resolved);
  const devices = new DeviceTrust(resolved.secret);
  const attempts = new PasswordAttempts(limits, devices);
  const box = createSecretBox(resolved.secret);
  const lifecycle = new Lifecycle(storage, sessions, hasher, policy, attempts, events, resolved);
  const { mail } = resolved;
  const mailer = createMailer(
    storage,
    {
      from: mail.from,
      appName: mail.appName,
      templates: mail.templates,
      transport: mail.transport,
      smtpUrl: mail.smtpUrl,
      outboxDir: mail.outboxDir,
      smtp: { connectionTimeoutMs: mail.delivery?.connectionTimeoutMs, socketTimeoutMs: mail.delivery?.socketTimeoutMs },
      pollIntervalMs: mail.delivery?.pollIntervalMs,
      leaseMs: mail.delivery?.leaseMs,
      maxAttempts: mail.delivery?.maxAttempts,
      backoffMs: mail.delivery?.backoffMs,
      now: resolved.now,
    },
    logger,
    (failure) => events.emit({ type: "mail_failed", email: failure.recipient, mailKind: failure.kind }),
  );
  const accessTokens = new AccessTokens(keys, resolved);
  const tokens = new TokenIssuer(accessTokens, sessions, resolved);
  const twoFactor = new TwoFactor(storage, box, attempts, mailer, events, resolved);
  const accounts = new Accounts(storage, hasher, policy, attempts, events, resolved, (userId) => twoFactor.isEnrolled(userId));
  const gate = new SignInGate(storage, tokens, twoFactor, resolved);
  const email = new EmailFlows(storage, mailer, lifecycle, gate, hasher, policy, limits, events, resolved);
  const passkeys = new Passkeys(storage, mailer, events, resolved);
  const providers = new Providers(storage, box, gate, mailer, events, resolved);
  const open = storage;
  return {
    options: resolved,
    logger,
    storage: open,
    metrics,
    events,
    limits,
    devices,
    keys,
    accounts,
    sessions,
    lifecycle,
    mailer,
    email,
    accessTokens,
    tokens,
    twoFactor,
    passkeys,
    gate,
    providers,
    admin: new Admin(open, accounts, lifecycle, twoFactor, keys, events, resolved.now),
    async close() {
      keys.stop();
      await mailer.stop();
      await open.close();
    },
  };
}
