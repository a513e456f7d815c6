import type { ResolvedOptions } from "../config/options.js";
import { HushError, invalidRefreshToken, sessionRevoked } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { RateLimits } from "../security/rate-limits.js";
import type { RefreshSession, RevokeReason, SessionRecord, SessionUser, Storage, UserRecord } from "../storage/contract.js";
import {
  formatRefreshToken,
  hashRefreshSecret,
  newSessionId,
  type OpaqueRefreshToken,
  parseRefreshToken,
  type RefreshChain,
  sameHash,
} from "../tokens/refresh-token.js";
import { refusedRefresh } from "./refresh-failures.js";
import type { RequestMeta } from "./request-meta.js";
import type { IssuedRefresh, RefreshOutcome, SessionListing, SessionStrategy, SignInMethod } from "./session-strategy.js";

/**
 * Most retired secrets remembered for the grace: far more rotations than tabs and retries make
 * within a grace window, and a bound on the row and on the walk when rate limits are off.
 */
const MAX_GRACED_SECRETS = 16;

/**
 * `rotating` mode: every session is a row; each refresh retires the presented secret and
 * issues its derived successor with one conditional UPDATE, so concurrent presenters of one
 * token (two tabs, a retried request) all get the same successor, and a retired token
 * presented after the grace window revokes the whole session (RFC 9700 §4.14.2).
 */
export class RotatingSessions implements SessionStrategy {
  constructor(
    private readonly storage: Storage,
    private readonly chain: RefreshChain,
    private readonly limits: RateLimits,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {}

  async start(user: UserRecord, meta: RequestMeta, accessExpiresAt: number, method: SignInMethod): Promise<IssuedRefresh> {
    const now = this.options.now();
    const sessionId = newSessionId();
    const secret = this.chain.first(sessionId);
    const session: SessionRecord = {
      id: sessionId,
      userId: user.id,
      currentHash: hashRefreshSecret(secret),
      previousHash: null,
      rotatedAt: null,
      generation: 0,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.options.refreshTokenTtlSeconds * 1000,
      securityStamp: user.securityStamp,
      accessExpiresAt,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
      ip: meta.ip,
      revokedAt: null,
      revokedReason: null,
      recentlyRetired: [],
      authTime: now,
      amr: [...method.amr],
    };
    await this.storage.createSession(session);
    return {
      sessionId,
      refreshToken: formatRefreshToken(sessionId, secret),
      cookieMaxAgeSeconds: this.cookieMaxAge(session, now),
      authTime: now,
      amr: method.amr,
    };
  }

  async refresh(token: string, meta: RequestMeta, accessExpiresAt: number): Promise<RefreshOutcome> {
    const presented = parseRefreshToken(token);
    try {
      if (!presented) throw invalidRefreshToken();
      return await this.rotate(presented, meta, accessExpiresAt);
    } catch (error) {
      throw await refusedRefresh(this.limits, this.events, meta, error, presented?.sessionId);
    }
  }

  /**
   * The refresh decision. Every path costs about what a good refresh costs — one read, a few
   * hashes — except a genuine retired token, whose chain walk ends the session.
   */
  private async rotate(presented: OpaqueRefreshToken, meta: RequestMeta, accessExpiresAt: number): Promise<RefreshOutcome> {
    const found = await this.readForRefresh(presented.sessionId);
    if (!found) throw invalidRefreshToken();
    const { user } = found;
    let { session } = found;
    const now = this.options.now();
    const presentedHash = hashRefreshSecret(presented.secret);

    // Refresh is the busiest endpoint: its checks await only when they have work to wait for.
    const revoking = this.ensureUsable(session, user, now);
    if (revoking) await revoking;
    if (sameHash(presentedHash, session.currentHash)) {
      if (this.limits.enabled) await this.limits.consume("refreshesPerSession", session.id);
      const successor = this.chain.successor(session.id, presented.secret);
      const rotated = await this.storage.rotateSession({
        sessionId: session.id,
        expectedHash: presentedHash,
        nextHash: hashRefreshSecret(successor),
        now,
        accessExpiresAt,
        recentlyRetired: [...this.withinGrace(session, now), now].slice(-MAX_GRACED_SECRETS),
      });
      if (rotated) return this.outcome(user, session, successor, now, meta);
      // Another request rotated this very token a moment ago: judge ours as a presenter of
      // a token just retired, which the grace window covers.
      const reread = await this.readForRefresh(session.id);
      if (!reread) throw invalidRefreshToken();
      session = reread.session;
      await this.ensureUsable(session, user, now);
    }
    const graced = this.gracedCurrent(session, presented, now);
    if (graced) {
      if (this.limits.enabled) await this.limits.consume("refreshesPerSession", session.id);
      return this.outcome(user, session, graced, now, meta);
    }
    // Neither current nor within the grace. Only a secret this server issued (its tag holds)
    // is worth a walk: a retired ancestor of the current secret is a stolen token replayed.
    if (
      this.chain.isGenuine(session.id, presented.secret) &&
      this.chain.walkTo(session.id, presented.secret, session.currentHash, session.generation)
    ) {
      throw await this.reuseDetected(session, now - (session.rotatedAt ?? 0), meta);
    }
    throw invalidRefreshToken();
  }

  async end(token: string, meta: RequestMeta): Promise<void> {
    const presented = parseRefreshToken(token);
    if (!presented) return;
    const found = await this.storage.findSessionWithUser(presented.sessionId);
    if (!found) return;
    const { session } = found;
    // Only the holder of the current (or a just-rotated) secret may end the session; a session
    // id alone, readable in any access token, must not be enough to log someone out.
    const current = sameHash(hashRefreshSecret(presented.secret), session.currentHash);
    if (!current && !this.gracedCurrent(session, presented, this.options.now())) return;
    if (await this.storage.revokeSession(session.id, "logout", this.options.now())) {
      this.events.emit({
        type: "logout",
        userId: session.userId,
        sessionId: session.id,
        ip: meta.ip,
        userAgent: meta.userAgent ?? undefined,
      });
    }
  }

  async list(user: UserRecord): Promise<SessionListing[]> {
    const now = this.options.now();
    const idleMs = this.options.refreshIdleTtlSeconds * 1000;
    return (await this.storage.listUserSessions(user.id, now))
      .filter((s) => s.lastUsedAt + idleMs > now)
      .map((s) => ({
        id: s.id,
        createdAt: s.createdAt,
        lastUsedAt: s.lastUsedAt,
        expiresAt: Math.min(s.expiresAt, s.lastUsedAt + idleMs),
        userAgent: s.userAgent,
      }));
  }

  async revokeOne(user: UserRecord, sessionId: string): Promise<boolean> {
    const found = await this.storage.findSessionWithUser(sessionId);
    // Another user's session answers exactly like a missing one: ids reveal nothing.
    if (!found || found.session.userId !== user.id || found.session.revokedAt !== null) return false;
    return this.storage.revokeSession(sessionId, "user_revoked", this.options.now());
  }

  revokeAll(user: UserRecord, reason: RevokeReason, exceptSessionId?: string): Promise<string[]> {
    return this.storage.revokeUserSessions(user.id, reason, this.options.now(), exceptSessionId);
  }

  async changePassword(
    user: UserRecord,
    passwordHash: string,
    keep: { sessionId: string; authTime: number; amr: readonly string[]; accessExpiresAt: number } | undefined,
  ): Promise<{ user: UserRecord; refresh: IssuedRefresh | undefined }> {
    const now = this.options.now();
    const secret = keep && this.chain.first(keep.sessionId);
    const changed = await this.storage.replacePassword({
      userId: user.id,
      passwordHash,
      now,
      keep: keep && secret && { sessionId: keep.sessionId, currentHash: hashRefreshSecret(secret), accessExpiresAt: keep.accessExpiresAt },
    });
    if (!changed) throw sessionRevoked();
    const updated = { ...user, passwordHash, securityStamp: changed.securityStamp, updatedAt: now };
    if (!keep || !secret) return { user: updated, refresh: undefined };
    const found = await this.storage.findSessionWithUser(keep.sessionId);
    if (!found) throw sessionRevoked();
    return {
      user: updated,
      refresh: {
        sessionId: keep.sessionId,
        refreshToken: formatRefreshToken(keep.sessionId, secret),
        cookieMaxAgeSeconds: this.cookieMaxAge(found.session, now),
        authTime: keep.authTime,
        amr: keep.amr,
      },
    };
  }

  async liveUser(userId: string, sessionId: string, tokenStamp: number | undefined): Promise<UserRecord | undefined> {
    const found = await this.storage.findSessionWithUser(sessionId);
    if (!found || found.user.id !== userId) return undefined;
    const { session, user } = found;
    const alive =
      session.revokedAt === null &&
      user.suspendedAt === null &&
      user.securityStamp === session.securityStamp &&
      user.securityStamp === tokenStamp;
    return alive ? user : undefined;
  }

  /** The session and user a refresh needs, through the storage's narrow read when it has one. */
  private readForRefresh(sessionId: string): Promise<{ session: RefreshSession; user: SessionUser } | undefined> {
    return this.storage.findSessionForRefresh ? this.storage.findSessionForRefresh(sessionId) : this.storage.findSessionWithUser(sessionId);
  }

  /**
   * Throws unless the session is alive: not revoked, not expired, user not suspended or
   * re-stamped. Synchronous, except that a session of a suspended or re-stamped user is revoked
   * first: then it returns that work, which rejects when done.
   */
  private ensureUsable(session: RefreshSession, user: SessionUser, now: number): Promise<never> | undefined {
    if (session.revokedAt !== null) throw sessionRevoked();
    if (user.suspendedAt !== null || user.securityStamp !== session.securityStamp) {
      return this.storage.revokeSession(session.id, user.suspendedAt !== null ? "suspended" : "password_changed", now).then(() => {
        throw sessionRevoked();
      });
    }
    if (now >= session.expiresAt || now >= session.lastUsedAt + this.options.refreshIdleTtlSeconds * 1000) {
      throw invalidRefreshToken("The session has expired. Sign in again.");
    }
    return undefined;
  }

  /**
   * When the session's secrets retired less than the reuse grace ago were retired, oldest first
   * (rows from before 0002 know only the last).
   */
  private withinGrace(session: RefreshSession, now: number): number[] {
    const graceMs = this.options.reuseGraceSeconds * 1000;
    const retired =
      session.recentlyRetired.length > 0 || session.previousHash === null || session.rotatedAt === null
        ? session.recentlyRetired
        : [session.rotatedAt];
    return retired.filter((retiredAt) => now - retiredAt <= graceMs);
  }

  /**
   * For a secret retired less than the grace ago — the last one or any earlier (T0 → T1 → T2
   * within a second, then a slow request with T0) — the session's current secret, reached by
   * walking the chain forward. A secret `k` steps behind the current one was retired by the
   * `k`-th latest rotation, so it is covered exactly when the walk ends within as many steps as
   * there are retirements in the grace. Forged secrets fail the tag check first (one HMAC).
   */
  private gracedCurrent(session: RefreshSession, presented: OpaqueRefreshToken, now: number): Uint8Array | undefined {
    const covered = this.withinGrace(session, now).length;
    if (covered === 0 || !this.chain.isGenuine(session.id, presented.secret)) return undefined;
    return this.chain.walkTo(session.id, presented.secret, session.currentHash, covered)?.link;
  }

  private async reuseDetected(session: RefreshSession, msSinceRotation: number, meta: RequestMeta): Promise<HushError> {
    await this.storage.revokeSession(session.id, "reuse_detected", this.options.now());
    this.events.emit({
      type: "refresh_token_reused",
      userId: session.userId,
      sessionId: session.id,
      msSinceRotation,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    return new HushError("refresh_token_reused", "This refresh token was already used. The session has been ended for safety.");
  }

  private outcome(user: SessionUser, session: RefreshSession, successor: Uint8Array, now: number, meta: RequestMeta): RefreshOutcome {
    this.events.emit({ type: "refresh", userId: user.id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    return {
      user,
      sessionId: session.id,
      refreshToken: formatRefreshToken(session.id, successor),
      // Used just now: the idle timeout counts from now.
      cookieMaxAgeSeconds: this.cookieMaxAge({ expiresAt: session.expiresAt, lastUsedAt: now }, now),
      // A refresh keeps the sign-in's (or the last re-authentication's) time and methods.
      authTime: session.authTime ?? session.createdAt,
      amr: session.amr,
    };
  }

  /** Seconds left: the smaller of the absolute end and the idle timeout from the last use. */
  private cookieMaxAge(session: Pick<SessionRecord, "expiresAt" | "lastUsedAt">, now: number): number {
    const idleEnd = session.lastUsedAt + this.options.refreshIdleTtlSeconds * 1000;
    return Math.floor((Math.min(session.expiresAt, idleEnd) - now) / 1000);
  }
}
