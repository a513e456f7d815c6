import type { Logger } from "pino";
import type { ResolvedOptions } from "./config/options.js";
import type { SecurityEvents } from "./events/security-events.js";
import type { DeviceCookie } from "./http/device-cookie.js";
import type { RefreshCookie } from "./http/refresh-cookie.js";
import type { KeyRing } from "./keys/key-ring.js";
import type { Metrics } from "./metrics/metrics.js";
import type { DeviceTrust } from "./security/device-trust.js";
import type { RateLimits } from "./security/rate-limits.js";
import type { Accounts } from "./services/accounts.js";
import type { EmailFlows } from "./services/email-flows.js";
import type { Lifecycle } from "./services/lifecycle.js";
import type { Passkeys } from "./services/passkeys.js";
import type { Providers } from "./services/providers.js";
import type { RevocationFeed } from "./services/revocation-feed.js";
import type { SessionStrategy } from "./services/session-strategy.js";
import type { SignInGate } from "./services/sign-in-gate.js";
import type { TokenIssuer } from "./services/token-issuer.js";
import type { TwoFactor } from "./services/two-factor.js";
import type { Storage } from "./storage/contract.js";
import type { AccessTokens } from "./tokens/access-token.js";

/** Everything the routes use, built once by `createAuthServer()`. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly storage: Storage;
  readonly keys: KeyRing;
  readonly accessTokens: AccessTokens;
  readonly accounts: Accounts;
  readonly sessions: SessionStrategy;
  readonly lifecycle: Lifecycle;
  readonly email: EmailFlows;
  readonly gate: SignInGate;
  readonly twoFactor: TwoFactor;
  readonly passkeys: Passkeys;
  readonly providers: Providers;
  readonly feed: RevocationFeed;
  readonly tokens: TokenIssuer;
  readonly limits: RateLimits;
  readonly metrics: Metrics;
  /** The OpenAPI document of the mounted endpoints, serialised once. */
  readonly openApiJson: string;
  readonly cookie: RefreshCookie;
  readonly deviceCookie: DeviceCookie;
  readonly devices: DeviceTrust;
  readonly events: SecurityEvents;
}

/** Hono's environment: what the host adapter tells the core about the connection. */
export interface HushEnv {
  Bindings: { remoteAddress?: string };
}
