import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { KeyRing, LoadedKey } from "../keys/key-ring.js";
import type { SessionRecord, Storage, UserRecord } from "../storage/contract.js";
import type { Accounts } from "./accounts.js";
import { emailSchema } from "./credentials.js";
import type { Lifecycle } from "./lifecycle.js";
import type { TwoFactor } from "./two-factor.js";

/** An operator's request about a user or session that does not exist. */
export class UnknownSubjectError extends Error {
  override readonly name = "UnknownSubjectError";
}

/**
 * Operator actions, for the CLI and for applications (`server.admin`). They skip the
 * per-IP limits of the HTTP API but keep every other rule: password policy, stamps, events.
 */
export class Admin {
  constructor(
    private readonly storage: Storage,
    private readonly accounts: Accounts,
    private readonly lifecycle: Lifecycle,
    private readonly twoFactor: TwoFactor,
    private readonly keys: KeyRing,
    private readonly events: SecurityEvents,
    private readonly now: () => number,
  ) {}

  createUser(email: string, password: string): Promise<UserRecord> {
    const parsed = emailSchema.safeParse(email);
    if (!parsed.success) throw new HushError("invalid_request", `"${email}" is not an email address`);
    return this.accounts.createAccount(parsed.data, password, undefined);
  }

  listUsers(): Promise<UserRecord[]> {
    return this.storage.listUsers();
  }

  async findUser(email: string): Promise<UserRecord> {
    const user = await this.storage.findUserByEmail(email.trim().toLowerCase());
    if (!user) throw new UnknownSubjectError(`no user with email ${email.trim().toLowerCase()}`);
    return user;
  }

  async suspendUser(email: string): Promise<void> {
    await this.lifecycle.suspend(await this.findUser(email));
  }

  async unsuspendUser(email: string): Promise<void> {
    await this.lifecycle.unsuspend(await this.findUser(email));
  }

  /** Marks a user's address verified (support desks, imports). */
  async verifyEmail(email: string): Promise<void> {
    const user = await this.findUser(email);
    await this.storage.markEmailVerified(user.id, this.now());
    this.events.emit({ type: "email_verified", userId: user.id, email: user.email, reason: "by_operator" });
  }

  /** Deletes a user and everything of theirs; every session is revoked first (and published to verifiers). */
  async deleteUser(email: string): Promise<void> {
    const user = await this.findUser(email);
    const revoked = await this.storage.deleteUser(user.id, this.now());
    this.events.emit({ type: "account_deleted", userId: user.id, email: user.email, reason: "by_operator", count: revoked.length });
  }

  /** Removes a user's second factors (TOTP and recovery codes), for a support desk; the user is mailed. */
  async resetMfa(email: string): Promise<void> {
    await this.twoFactor.reset(await this.findUser(email));
  }

  async setPassword(email: string, password: string): Promise<void> {
    await this.lifecycle.setPassword(await this.findUser(email), password);
  }

  /** The user's live sessions (rotating mode; none are stored in stateless mode). */
  async listSessions(email: string): Promise<SessionRecord[]> {
    const user = await this.findUser(email);
    return this.storage.listUserSessions(user.id, this.now());
  }

  async revokeSession(sessionId: string): Promise<void> {
    const found = await this.storage.findSessionWithUser(sessionId);
    if (!found || found.session.revokedAt !== null) throw new UnknownSubjectError(`no live session with id ${sessionId}`);
    await this.storage.revokeSession(sessionId, "user_revoked", this.now());
    this.events.emit({ type: "session_revoked", userId: found.user.id, sessionId, reason: "by_operator" });
  }

  /** Publishes the next signing key (see `KeyRing.rotate`). */
  async rotateKeys(): Promise<LoadedKey> {
    const key = await this.keys.rotate();
    this.events.emit({ type: "key_rotated", kid: key.kid, activatesAt: new Date(key.activatesAt).toISOString() });
    return key;
  }
}
