import type { RevokeReason, SessionUser, UserRecord } from "../storage/contract.js";
import type { RequestMeta } from "./request-meta.js";

/** A session's refresh token, as it goes into the cookie. */
export interface IssuedRefresh {
  sessionId: string;
  refreshToken: string;
  /** The cookie's `Max-Age`: the smaller of the absolute and idle time left, in seconds. */
  cookieMaxAgeSeconds: number;
  /** When the user signed in to this session, in milliseconds (the access token's `auth_time`). */
  authTime: number;
  /** How (RFC 8176 `amr` values: `pwd`, `otp`, `hwk`, `mfa` …), as the access token carries it. */
  amr: readonly string[];
}

/** How a sign-in was made, for a new session. */
export interface SignInMethod {
  amr: readonly string[];
}

/** The result of a successful refresh: who, which session, and the next refresh token. */
export interface RefreshOutcome extends IssuedRefresh {
  user: SessionUser;
}

/** One session as `GET /auth/sessions` lists it; times in milliseconds. */
export interface SessionListing {
  id: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  userAgent: string | null;
}

/**
 * How refresh tokens work: `rotating` (stored sessions) or `stateless` (signed JWTs). The
 * routes and lifecycle services speak only to this interface, so the mode is one switch at
 * start-up, and one lifecycle test suite runs over both.
 */
export interface SessionStrategy {
  /** Begins a session for a user who just proved who they are. */
  start(user: UserRecord, meta: RequestMeta, accessExpiresAt: number, method: SignInMethod): Promise<IssuedRefresh>;
  /**
   * Checks a presented refresh token and returns the next one. Throws
   * `invalid_refresh_token`, `refresh_token_reused`, `session_revoked` or `rate_limited`.
   * `accessExpiresAt` is when the access token about to be issued will expire.
   */
  refresh(token: string, meta: RequestMeta, accessExpiresAt: number): Promise<RefreshOutcome>;
  /** Ends the session a refresh token belongs to; silently does nothing for an invalid token. */
  end(token: string, meta: RequestMeta): Promise<void>;
  /**
   * The user an access token's session belongs to, if that session is still alive and the
   * token was issued under the user's current security stamp (`tokenStamp`, its `sst` claim):
   * a token from before a logout, logout-all, password change or suspension is refused.
   */
  liveUser(userId: string, sessionId: string, tokenStamp: number | undefined): Promise<UserRecord | undefined>;
  /** The user's live sessions. */
  list(
    user: UserRecord,
    current: { sessionId: string; issuedAt: number; authTime: number | undefined; userAgent: string | null },
  ): Promise<SessionListing[]>;
  /** Revokes one of the user's sessions; `false` when the user has no such live session. */
  revokeOne(user: UserRecord, sessionId: string, currentSessionId: string): Promise<boolean>;
  /**
   * Ends every session of the user but `exceptSessionId`, after the user's security stamp has
   * grown (which alone ends them in `stateless` mode).
   */
  revokeAll(user: UserRecord, reason: RevokeReason, exceptSessionId?: string): Promise<string[]>;
  /**
   * Sets a new password hash and grows the stamp, which ends every session of the user but
   * `keep` (the one that made the change, which gets a new refresh token under the new stamp),
   * atomically. Throws `session_revoked`, changing nothing, when `keep` has ended.
   */
  changePassword(
    user: UserRecord,
    passwordHash: string,
    keep: { sessionId: string; authTime: number; amr: readonly string[]; accessExpiresAt: number } | undefined,
  ): Promise<{ user: UserRecord; refresh: IssuedRefresh | undefined }>;
}
