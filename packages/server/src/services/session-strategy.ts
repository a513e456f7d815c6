import type { UserRecord } from "../storage/contract.js";
import type { RequestMeta } from "./request-meta.js";

/** A session's refresh token, as it goes into the cookie. */
export interface IssuedRefresh {
  sessionId: string;
  refreshToken: string;
  /** The cookie's `Max-Age`: the smaller of the absolute and idle time left, in seconds. */
  cookieMaxAgeSeconds: number;
}

/** The result of a successful refresh: who, which session, and the next refresh token. */
export interface RefreshOutcome extends IssuedRefresh {
  user: UserRecord;
}

/**
 * How refresh tokens work: `rotating` (stored sessions) or `stateless` (signed JWTs). The
 * routes speak only to this interface, so the mode is one switch at start-up.
 */
export interface SessionStrategy {
  /** Begins a session for a user who just proved who they are. */
  start(user: UserRecord, meta: RequestMeta, accessExpiresAt: number): Promise<IssuedRefresh>;
  /**
   * Checks a presented refresh token and returns the next one. Throws
   * `invalid_refresh_token`, `refresh_token_reused`, `session_revoked` or `rate_limited`.
   * `accessExpiresAt` is when the access token about to be issued will expire.
   */
  refresh(token: string, meta: RequestMeta, accessExpiresAt: number): Promise<RefreshOutcome>;
  /** Ends the session a refresh token belongs to; silently does nothing for an invalid token. */
  end(token: string, meta: RequestMeta): Promise<void>;
  /** The user an access token's session belongs to, if that session is still alive. */
  liveUser(userId: string, sessionId: string): Promise<UserRecord | undefined>;
}
