import { randomUUID } from "node:crypto";
import type { ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { PasswordHasher } from "../passwords/password-hasher.js";
import { normalizePassword, type PasswordPolicy } from "../passwords/password-policy.js";
import type { PasswordAttempts } from "../security/password-attempts.js";
import { EmailTakenError, type Storage, type UserRecord } from "../storage/contract.js";
import type { Credentials } from "./credentials.js";
import type { RequestMeta } from "./request-meta.js";

/** Sign-up and password login: who the user is, before any session exists. */
export class Accounts {
  constructor(
    private readonly storage: Storage,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly attempts: PasswordAttempts,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
    /** Whether a user has a second factor: then a right password does not clear the failure count, the second step does. */
    private readonly hasSecondFactor: (userId: string) => Promise<boolean> = async () => false,
  ) {}

  /** Creates an account (the HTTP edge has counted the per-client limit). Throws `weak_password` or `email_taken`. */
  signup({ email, password }: Credentials, meta: RequestMeta): Promise<UserRecord> {
    return this.createAccount(email, password, meta);
  }

  /** Creates an account (operators, and `signup`). */
  async createAccount(rawEmail: string, password: string, meta: RequestMeta | undefined): Promise<UserRecord> {
    const email = rawEmail.trim().toLowerCase();
    const normalized = normalizePassword(password);
    this.policy.check(normalized);
    const now = this.options.now();
    const user: UserRecord = {
      id: randomUUID(),
      email,
      passwordHash: await this.hasher.hash(normalized),
      createdAt: now,
      updatedAt: now,
      securityStamp: 0,
      suspendedAt: null,
      emailVerifiedAt: null,
    };
    try {
      await this.storage.createUser(user);
    } catch (error) {
      if (error instanceof EmailTakenError) throw new HushError("email_taken", "An account with this email already exists.");
      throw error;
    }
    this.events.emit({ type: "signup", userId: user.id, email, ip: meta?.ip, userAgent: meta?.userAgent ?? undefined });
    return user;
  }

  /**
   * Checks a password. An unknown email, a wrong password and a suspended account before its
   * password is proven all take the same work and give the same `invalid_credentials`. The
   * failure is reserved before the hash (see `PasswordAttempts`); `deviceToken` is the
   * browser's device cookie, which moves it from the account's failure limit to its own.
   */
  async login({ email, password }: Credentials, meta: RequestMeta, deviceToken?: string): Promise<UserRecord> {
    const attempt = await this.attempts.reserve(email, deviceToken);
    const normalized = normalizePassword(password);
    const user = await this.storage.findUserByEmail(email);
    const valid = user ? await this.hasher.verify(user.passwordHash, normalized) : await this.hasher.verifyDummy(normalized);
    const eventBase = { email, ip: meta.ip, userAgent: meta.userAgent ?? undefined };
    if (!user || !valid) {
      this.events.emit({ type: "login_failed", ...eventBase, userId: user?.id, reason: user ? "wrong_password" : "unknown_email" });
      throw new HushError("invalid_credentials", "The email or password is incorrect.");
    }
    // With a second factor the password is half the proof: wrong codes that follow must keep
    // counting on this account's limit, so only the completed sign-in clears it.
    if (!(await this.hasSecondFactor(user.id))) await attempt.succeeded();
    if (user.suspendedAt !== null) {
      this.events.emit({ type: "login_failed", ...eventBase, userId: user.id, reason: "suspended" });
      throw new HushError("account_suspended", "This account is suspended.");
    }
    if (this.hasher.needsRehash(user.passwordHash)) {
      // New argon2 parameters: re-hash without touching the security stamp, so no session ends.
      const rehashed = await this.hasher.hash(normalized);
      await this.storage.setPasswordHash(user.id, rehashed, false, this.options.now());
    }
    this.events.emit({ type: "login_succeeded", ...eventBase, userId: user.id });
    return user;
  }
}
