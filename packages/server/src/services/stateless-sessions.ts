import type { ResolvedOptions } from "../config/options.js";
import { HushError, invalidRefreshToken, sessionRevoked } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { RateLimits } from "../security/rate-limits.js";
import type { Storage, UserRecord } from "../storage/contract.js";
import { newSessionId } from "../tokens/refresh-token.js";
import type { StatelessRefreshTokens } from "../tokens/stateless-refresh-token.js";
import { refusedRefresh } from "./refresh-failures.js";
import type { RequestMeta } from "./request-meta.js";
import type { IssuedRefresh, RefreshOutcome, SessionListing, SessionStrategy, SignInMethod } from "./session-strategy.js";

/**
 * `stateless` mode, the seed's design made monotonic: no session rows; a refresh token is a
 * JWT whose key depends on the user's security stamp, so a password change, a suspension or a
 * logout-all ends every session at its next refresh. What it cannot do, by construction: end
 * one device alone, or detect a replayed refresh token (docs/security.md says so plainly).
 */
export class StatelessSessions implements SessionStrategy {
  constructor(
    private readonly storage: Storage,
    private readonly tokens: StatelessRefreshTokens,
    private readonly limits: RateLimits,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {}

  async start(user: UserRecord, _meta: RequestMeta, _accessExpiresAt: number, method: SignInMethod): Promise<IssuedRefresh> {
    return this.sign(user, newSessionId(), this.options.now(), method.amr);
  }

  async refresh(token: string, meta: RequestMeta): Promise<RefreshOutcome> {
    try {
      return await this.renew(token, meta);
    } catch (error) {
      throw await refusedRefresh(this.limits, this.events, meta, error, undefined);
    }
  }

  private async renew(token: string, meta: RequestMeta): Promise<RefreshOutcome> {
    const peeked = this.tokens.peek(token);
    if (!peeked) throw invalidRefreshToken();
    const user = await this.storage.findUserById(peeked.sub);
    if (!user) throw invalidRefreshToken();
    const now = this.options.now();
    const verdict = await this.tokens.verify(token, user.securityStamp, now);
    if (!verdict.valid) throw verdict.outdated ? sessionRevoked() : invalidRefreshToken();
    if (user.suspendedAt !== null) throw sessionRevoked();
    const authTime = verdict.claims.auth_time * 1000;
    if (now >= authTime + this.options.refreshTokenTtlSeconds * 1000) throw invalidRefreshToken("The session has expired. Sign in again.");
    // A logged-out session's token stays signed and unexpired: the recorded logout refuses it.
    if (await this.storage.isRevoked(verdict.claims.sid)) throw sessionRevoked();
    await this.limits.consume("refreshesPerSession", verdict.claims.sid);
    this.events.emit({
      type: "refresh",
      userId: user.id,
      sessionId: verdict.claims.sid,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    return { ...this.sign(user, verdict.claims.sid, authTime, verdict.claims.amr ?? ["pwd"]), user };
  }

  async end(token: string, meta: RequestMeta): Promise<void> {
    const peeked = this.tokens.peek(token);
    const user = peeked && (await this.storage.findUserById(peeked.sub));
    if (!user) return;
    const verdict = await this.tokens.verify(token, user.securityStamp, this.options.now());
    if (!verdict.valid) return;
    // The token itself stays signed until it expires: the recorded revocation refuses it at
    // refresh, the browser's cookie is cleared, and other services learn from the feed to drop
    // the session's access tokens.
    const now = this.options.now();
    await this.storage.recordRevocation({
      sessionId: verdict.claims.sid,
      userId: user.id,
      now,
      until: now + this.options.accessTokenTtlSeconds * 1000,
      // Remembered until the refresh token itself expires, so that it is refused till then.
      keptUntil: verdict.claims.exp * 1000,
    });
    this.events.emit({
      type: "logout",
      userId: user.id,
      sessionId: verdict.claims.sid,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
  }

  async liveUser(userId: string, sessionId: string, tokenStamp: number | undefined): Promise<UserRecord | undefined> {
    const user = await this.storage.findUserById(userId);
    // No session rows: the stamp in the token says whether it predates a logout-all, password
    // change or suspension, and the revocations table whether its session was logged out.
    if (!user || user.suspendedAt !== null || user.securityStamp !== tokenStamp) return undefined;
    return (await this.storage.isRevoked(sessionId)) ? undefined : user;
  }

  async list(
    _user: UserRecord,
    current: { sessionId: string; issuedAt: number; authTime: number | undefined; userAgent: string | null },
  ): Promise<SessionListing[]> {
    // Nothing is stored: the one session that can be described is the caller's own.
    const createdAt = current.authTime ?? current.issuedAt;
    const expiresAt = Math.min(
      createdAt + this.options.refreshTokenTtlSeconds * 1000,
      current.issuedAt + this.options.refreshIdleTtlSeconds * 1000,
    );
    return [{ id: current.sessionId, createdAt, lastUsedAt: current.issuedAt, expiresAt, userAgent: current.userAgent }];
  }

  async revokeOne(_user: UserRecord, sessionId: string, currentSessionId: string): Promise<boolean> {
    // The only session known here is the caller's own; any other id is unknown.
    if (sessionId !== currentSessionId) return false;
    throw new HushError(
      "invalid_request",
      "Sessions are stateless (HUSH_REFRESH_MODE=stateless): one session cannot be ended alone. Use logout on that device, or logout-all.",
    );
  }

  async revokeAll(): Promise<string[]> {
    // The stamp has grown: every refresh token of the user is already dead. No ids are known.
    return [];
  }

  async changePassword(
    user: UserRecord,
    passwordHash: string,
    keep: { sessionId: string; authTime: number; amr: readonly string[] } | undefined,
  ): Promise<{ user: UserRecord; refresh: IssuedRefresh | undefined }> {
    // One statement: the grown stamp alone ends every other refresh token.
    const now = this.options.now();
    const securityStamp = await this.storage.setPasswordHash(user.id, passwordHash, true, now);
    const updated = { ...user, passwordHash, securityStamp, updatedAt: now };
    return { user: updated, refresh: keep && this.sign(updated, keep.sessionId, keep.authTime, keep.amr) };
  }

  private sign(user: UserRecord, sessionId: string, authTime: number, amr: readonly string[]): IssuedRefresh {
    const now = this.options.now();
    const end = Math.min(authTime + this.options.refreshTokenTtlSeconds * 1000, now + this.options.refreshIdleTtlSeconds * 1000);
    const refreshToken = this.tokens.issue(
      {
        sub: user.id,
        sid: sessionId,
        auth_time: Math.floor(authTime / 1000),
        stamp: user.securityStamp,
        exp: Math.floor(end / 1000),
        amr: [...amr],
      },
      Math.floor(now / 1000),
    );
    return { sessionId, refreshToken, cookieMaxAgeSeconds: Math.floor((end - now) / 1000), authTime, amr };
  }
}
