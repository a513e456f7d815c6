import type { ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { ComposedMail, Mailer } from "../mail/index.js";
import type { PasswordHasher } from "../passwords/password-hasher.js";
import { normalizePassword, type PasswordPolicy } from "../passwords/password-policy.js";
import type { RateLimits } from "../security/rate-limits.js";
import { EmailTakenError, type LinkPurpose, type Storage, type UserRecord } from "../storage/contract.js";
import { mintLinkToken, parseLinkToken } from "../tokens/link-token.js";
import type { Lifecycle } from "./lifecycle.js";
import type { RequestMeta } from "./request-meta.js";
import type { SignInGate } from "./sign-in-gate.js";
import type { IssuedTokens } from "./token-issuer.js";

/** The app's pages that emailed links open (docs/api.md, Email); the token goes in the fragment. */
export const LINK_PATHS = {
  verify_email: "/verify-email",
  reset_password: "/reset-password",
  change_email: "/confirm-email",
  signin_link: "/sign-in-link",
} as const satisfies Record<LinkPurpose, string>;

/** Jobs queued for every address, known or not, and composed by the outbox worker (see `compose`). */
const JOBS = { reset: "reset_password_request", signInLink: "signin_link_request" } as const;

const invalidLink = () => new HushError("invalid_link", "This link is invalid or has expired. Ask for a new one.");

/**
 * The email flows of docs/api.md, Email: verification, password reset, email change,
 * sign-in links and account deletion. Every link is a one-time token (`tokens/link-token.ts`)
 * used by one conditional update; every mail goes through the durable outbox. `forgot` and
 * `signin-link` do the same work for known and unknown addresses — count the limit, queue one
 * job — and the worker finds out later whether there is anyone to write to.
 */
export class EmailFlows {
  constructor(
    private readonly storage: Storage,
    private readonly mailer: Mailer,
    private readonly lifecycle: Lifecycle,
    private readonly gate: SignInGate,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly limits: RateLimits,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {
    mailer.setComposer((job) => this.compose(job.kind, job.recipient));
    gate.onPending((user, action) => this.applyReset(user, action.passwordHash));
  }

  /** Counts one mail to `address` from this client, and against the address's overall cap. */
  async countMail(address: string, meta: RequestMeta): Promise<void> {
    await this.limits.consume("mailsPerAddress", `${address}|${meta.clientKey}`);
    await this.limits.consume("mailsPerAddressTotal", address);
  }

  /** Sends a verification link to the user's address. `409 already_verified` when it is. */
  async requestVerification(user: UserRecord, meta: RequestMeta): Promise<void> {
    if (user.emailVerifiedAt !== null) throw new HushError("already_verified", "This address is already verified.");
    await this.countMail(user.email, meta);
    await this.sendVerification(user, meta);
  }

  /** Queues a verification mail (sign-up, or an unverified login in `required` mode), voiding older verification links. */
  async sendVerification(user: UserRecord, meta: RequestMeta | undefined): Promise<void> {
    const now = this.options.now();
    await this.storage.voidLinkTokens(user.id, now, ["verify_email"]);
    const link = await this.newLink("verify_email", user, user.email, this.options.verifyLinkTtlSeconds, now);
    await this.mailer.queue("verify_email", user.email, {
      appName: this.appName,
      link,
      lifetimeSeconds: this.options.verifyLinkTtlSeconds,
    });
    this.events.emit({ type: "email_verification_sent", userId: user.id, email: user.email, ip: meta?.ip, mailKind: "verify_email" });
  }

  /**
   * An unverified account's right password in `required` mode: `403 email_not_verified`, and a
   * fresh link within the mail limit (past it, the refusal alone).
   */
  async refuseUnverified(user: UserRecord, meta: RequestMeta): Promise<never> {
    const withinLimit = await this.countMail(user.email, meta).then(
      () => true,
      (error: unknown) => {
        if (error instanceof HushError && error.code === "rate_limited") return false;
        throw error;
      },
    );
    if (withinLimit) await this.sendVerification(user, meta);
    this.events.emit({ type: "login_failed", userId: user.id, email: user.email, ip: meta.ip, reason: "email_not_verified" });
    throw new HushError("email_not_verified", "Verify your email address first: we sent you a new link.");
  }

  /** Uses a verification link: the address is proven, and this browser signs in (or meets its second factor). */
  async verify(token: string, meta: RequestMeta): Promise<IssuedTokens> {
    const user = await this.useLink(token, "verify_email");
    const verified = await this.storage.markEmailVerified(user.id, this.options.now());
    if (!verified) throw invalidLink();
    this.events.emit({ type: "email_verified", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    return this.gate.complete(verified, ["email"], meta);
  }

  /** `POST /auth/password/forgot`: the same work whether or not an account exists. */
  async forgot(email: string, meta: RequestMeta): Promise<void> {
    await this.countMail(email, meta);
    await this.mailer.queueJob(JOBS.reset, email, {});
    this.events.emit({ type: "password_reset_requested", email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
  }

  /**
   * Uses a reset link and signs this browser in with the new password. A weak password is
   * refused before the link is used, so it can be tried again. With a second factor, nothing
   * changes until it is proven: the new password waits (hashed) in the `mfaToken`.
   */
  async reset(token: string, newPassword: string, meta: RequestMeta): Promise<IssuedTokens> {
    const normalized = normalizePassword(newPassword);
    this.policy.check(normalized);
    const user = await this.useLink(token, "reset_password");
    const passwordHash = await this.hasher.hash(normalized);
    this.events.emit({ type: "password_reset", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    return this.gate.complete(user, ["email"], meta, { kind: "reset", passwordHash });
  }

  /**
   * Carries out a reset: the new password, every session ended, the stamp grown, the address
   * counted as verified (the mail reached its owner), every other reset link dead, the owner told.
   */
  private async applyReset(user: UserRecord, passwordHash: string): Promise<UserRecord> {
    const { user: updated } = await this.lifecycle.replacePasswordHash(user, passwordHash);
    const now = this.options.now();
    await this.storage.voidLinkTokens(user.id, now, ["reset_password"]);
    const verified = (await this.storage.markEmailVerified(user.id, now)) ?? { ...updated, emailVerifiedAt: now };
    await this.notify(user.email, "Your password was reset.");
    return { ...verified, securityStamp: updated.securityStamp };
  }

  /** `POST /auth/email/change`: a confirmation link to the new address, a notice (no link) to the old one. */
  async requestChange(user: UserRecord, newEmail: string, currentPassword: string, meta: RequestMeta, deviceToken?: string): Promise<void> {
    await this.lifecycle.checkCurrentPassword(user, currentPassword, meta, deviceToken);
    if (newEmail === user.email) throw new HushError("invalid_request", "The new address is the current one.");
    if (await this.storage.findUserByEmail(newEmail)) throw new HushError("email_taken", "An account with this email already exists.");
    await this.countMail(newEmail, meta);
    const now = this.options.now();
    await this.storage.voidLinkTokens(user.id, now, ["change_email"]);
    const link = await this.newLink("change_email", user, newEmail, this.options.verifyLinkTtlSeconds, now);
    await this.mailer.queue("change_email", newEmail, {
      appName: this.appName,
      link,
      lifetimeSeconds: this.options.verifyLinkTtlSeconds,
      newEmail,
    });
    await this.mailer.queue("email_change_notice", user.email, { appName: this.appName, newEmail });
    this.events.emit({
      type: "email_change_requested",
      userId: user.id,
      email: user.email,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
  }

  /** Uses a change link: the new address, verified. Other sessions keep going. `409 email_taken` if it was taken meanwhile. */
  async confirmChange(token: string, meta: RequestMeta): Promise<UserRecord> {
    const parsed = parseLinkToken(token);
    const now = this.options.now();
    const used = parsed && (await this.storage.useLinkToken(parsed.id, parsed.secretHash, "change_email", now));
    if (!used) throw invalidLink();
    const user = await this.storage.findUserById(used.userId);
    if (!user || user.suspendedAt !== null) throw invalidLink();
    let changed: UserRecord;
    try {
      changed = await this.storage.changeEmail(user.id, used.email, now);
    } catch (error) {
      if (error instanceof EmailTakenError) throw new HushError("email_taken", "An account with this email already exists.");
      throw error;
    }
    this.events.emit({ type: "email_changed", userId: user.id, email: used.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    await this.notify(user.email, `The address of your account was changed to ${used.email}.`);
    return changed;
  }

  /** `POST /auth/signin-link`: like `forgot`, the same work whatever the address. */
  async requestSignInLink(email: string, meta: RequestMeta): Promise<void> {
    this.requireSignInLinks();
    await this.countMail(email, meta);
    await this.mailer.queueJob(JOBS.signInLink, email, {});
  }

  /** Uses a sign-in link: this browser signs in (or meets its second factor); the link also proves the address. */
  async signInWithLink(token: string, meta: RequestMeta): Promise<IssuedTokens> {
    this.requireSignInLinks();
    const user = await this.useLink(token, "signin_link");
    const verified = (await this.storage.markEmailVerified(user.id, this.options.now())) ?? user;
    this.events.emit({ type: "signin_link_used", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    return this.gate.complete(verified, ["email"], meta);
  }

  /**
   * `DELETE /auth/account`: with the current password, or else a sign-in within the
   * re-authentication window. Every session is revoked (and published to the revocation
   * feed), then the user and everything of theirs is deleted.
   */
  async deleteAccount(
    user: UserRecord,
    proof: { currentPassword?: string; authTime: number | undefined },
    meta: RequestMeta,
    deviceToken?: string,
  ): Promise<void> {
    if (proof.currentPassword !== undefined) {
      await this.lifecycle.checkCurrentPassword(user, proof.currentPassword, meta, deviceToken);
    } else if (proof.authTime === undefined || this.options.now() - proof.authTime > this.options.reauthWindowSeconds * 1000) {
      throw new HushError("reauthentication_required", "Deleting the account needs your password or a recent sign-in.");
    }
    const revoked = await this.storage.deleteUser(user.id, this.options.now());
    this.events.emit({
      type: "account_deleted",
      userId: user.id,
      email: user.email,
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
      count: revoked.length,
    });
    await this.mailer.queue("account_deleted", user.email, { appName: this.appName });
  }

  /**
   * The outbox worker's composer for the jobs above: finds the account now, mints its link and
   * returns the mail — or nothing for an unknown (or suspended) address.
   */
  private async compose(kind: string, email: string): Promise<ComposedMail | undefined> {
    const purpose = kind === JOBS.reset ? "reset_password" : kind === JOBS.signInLink ? "signin_link" : undefined;
    if (!purpose) return undefined;
    const user = await this.storage.findUserByEmail(email);
    if (!user || user.suspendedAt !== null) return undefined;
    if (purpose === "signin_link" && !this.options.signInLinks) return undefined;
    const now = this.options.now();
    const ttl = purpose === "reset_password" ? this.options.resetLinkTtlSeconds : this.options.signInLinkTtlSeconds;
    // A new reset request voids the older reset links (and likewise for sign-in links).
    await this.storage.voidLinkTokens(user.id, now, [purpose]);
    const link = await this.newLink(purpose, user, user.email, ttl, now);
    this.events.emit({
      type: purpose === "reset_password" ? "password_reset_requested" : "signin_link_sent",
      userId: user.id,
      email: user.email,
      mailKind: purpose,
    });
    return { kind: purpose === "reset_password" ? "reset_password" : "signin_link", to: user.email, vars: { link, lifetimeSeconds: ttl } };
  }

  /** Stores a new link token and returns its URL in the app, the token in the fragment. */
  private async newLink(purpose: LinkPurpose, user: UserRecord, email: string, ttlSeconds: number, now: number): Promise<string> {
    const { token, record } = mintLinkToken(purpose, user.id, email, ttlSeconds, now);
    await this.storage.createLinkToken(record);
    return `${this.options.appUrl}${LINK_PATHS[purpose]}#token=${token}`;
  }

  /**
   * Uses a link of `purpose` and returns its user. Every failure — malformed, unknown, used,
   * expired, another purpose, the address changed since, the account suspended or gone — is
   * the same `400 invalid_link`.
   */
  private async useLink(token: string, purpose: LinkPurpose): Promise<UserRecord> {
    const parsed = parseLinkToken(token);
    const used = parsed && (await this.storage.useLinkToken(parsed.id, parsed.secretHash, purpose, this.options.now()));
    if (!used) throw invalidLink();
    const user = await this.storage.findUserById(used.userId);
    if (!user || user.email !== used.email || user.suspendedAt !== null) throw invalidLink();
    return user;
  }

  /** After a password change: outstanding reset links die, and the owner hears of it. */
  async passwordChanged(user: UserRecord): Promise<void> {
    await this.storage.voidLinkTokens(user.id, this.options.now(), ["reset_password"]);
    await this.notify(user.email, "Your password was changed.");
  }

  /** Mails the account's address about a change of a sign-in method, without a link. */
  private notify(address: string, change: string): Promise<void> {
    return this.mailer.queue("security_notice", address, { appName: this.appName, change });
  }

  private requireSignInLinks(): void {
    if (!this.options.signInLinks) throw new HushError("not_found", "Sign-in links are not enabled.");
  }

  private get appName(): string {
    return this.options.mail.appName;
  }
}
