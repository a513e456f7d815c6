import type { ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { PasswordHasher } from "../passwords/password-hasher.js";
import { normalizePassword, type PasswordPolicy } from "../passwords/password-policy.js";
import type { PasswordAttempts } from "../security/password-attempts.js";
import type { Storage, UserRecord } from "../storage/contract.js";
import type { PasswordChange } from "./credentials.js";
import type { RequestMeta } from "./request-meta.js";
import type { IssuedRefresh, SessionStrategy } from "./session-strategy.js";

/**
 * What happens to an account after sign-up: logout everywhere, password changes, suspension.
 * Each grows the user's security stamp first — which alone ends every refresh token in
 * `stateless` mode — and then revokes the stored sessions in `rotating` mode.
 */
export class Lifecycle {
  constructor(
    private readonly storage: Storage,
    private readonly sessions: SessionStrategy,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly attempts: PasswordAttempts,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {}

  /** Ends every session of the user, on every device. */
  async logoutAll(user: UserRecord, meta: RequestMeta | undefined): Promise<void> {
    const stamp = await this.storage.bumpSecurityStamp(user.id, this.options.now());
    const revoked = await this.sessions.revokeAll({ ...user, securityStamp: stamp }, "logout_all");
    this.events.emit({
      type: "logout_all",
      userId: user.id,
      ip: meta?.ip,
      userAgent: meta?.userAgent ?? undefined,
      reason: "logout_all",
      count: revoked.length,
    });
  }

  /**
   * Changes the password after checking the current one (failures count against the account's
   * or this device's login limit, reserved before the hash), ends every other session and
   * re-issues the current one's refresh token.
   */
  async changePassword(
    user: UserRecord,
    session: { sessionId: string; authTime: number; amr: readonly string[] },
    change: PasswordChange,
    meta: RequestMeta,
    accessExpiresAt: number,
    deviceToken?: string,
  ): Promise<{ user: UserRecord; refresh: IssuedRefresh }> {
    await this.checkCurrentPassword(user, change.currentPassword, meta, deviceToken);
    const { user: updated, refresh } = await this.replacePassword(user, change.newPassword, { ...session, accessExpiresAt });
    if (!refresh) throw new Error("the kept session got no refresh token");
    this.events.emit({
      type: "password_changed",
      userId: user.id,
      sessionId: session.sessionId,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    return { user: updated, refresh };
  }

  /**
   * Checks a signed-in user's current password before a sensitive change; a failure counts
   * against the account's (or this device's) login limit, reserved before the hash.
   */
  async checkCurrentPassword(user: UserRecord, password: string, meta: RequestMeta, deviceToken?: string): Promise<void> {
    const attempt = await this.attempts.reserve(user.email, deviceToken);
    if (!(await this.hasher.verify(user.passwordHash, normalizePassword(password)))) {
      this.events.emit({
        type: "login_failed",
        userId: user.id,
        email: user.email,
        ip: meta.ip,
        userAgent: meta.userAgent ?? undefined,
        reason: "wrong_current_password",
      });
      throw new HushError("invalid_credentials", "The current password is incorrect.");
    }
    await attempt.succeeded();
  }

  /** Sets a password without knowing the old one (an operator's act): every session ends. */
  async setPassword(user: UserRecord, password: string): Promise<void> {
    await this.replacePassword(user, password, undefined);
    this.events.emit({ type: "password_changed", userId: user.id, reason: "by_operator" });
  }

  async suspend(user: UserRecord): Promise<void> {
    const stamp = await this.storage.setSuspended(user.id, true, this.options.now());
    await this.sessions.revokeAll({ ...user, securityStamp: stamp }, "suspended");
    this.events.emit({ type: "user_suspended", userId: user.id, email: user.email });
  }

  /** Lifts a suspension. The stamp grows again, so no token that suspension ended comes back. */
  async unsuspend(user: UserRecord): Promise<void> {
    await this.storage.setSuspended(user.id, false, this.options.now());
    this.events.emit({ type: "user_unsuspended", userId: user.id, email: user.email });
  }

  /** Sets an already checked and hashed password (a redeemed reset): every session ends. */
  replacePasswordHash(user: UserRecord, passwordHash: string) {
    return this.sessions.changePassword(user, passwordHash, undefined);
  }

  /** Checks and hashes the new password, then changes it and ends the other sessions in one step. */
  async replacePassword(
    user: UserRecord,
    password: string,
    keep: { sessionId: string; authTime: number; amr: readonly string[]; accessExpiresAt: number } | undefined,
  ) {
    const normalized = normalizePassword(password);
    this.policy.check(normalized);
    return this.sessions.changePassword(user, await this.hasher.hash(normalized), keep);
  }
}
