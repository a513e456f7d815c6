import { randomBytes } from "node:crypto";
import * as OTPAuth from "otpauth";
import type { ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { SecurityEvents } from "../events/security-events.js";
import type { SecretBox } from "../keys/secret-box.js";
import type { Mailer } from "../mail/index.js";
import type { PasswordAttempts } from "../security/password-attempts.js";
import type { Storage, UserRecord } from "../storage/contract.js";
import { sha256Base64url } from "../tokens/digest.js";
import type { RequestMeta } from "./request-meta.js";

/** RFC 6238 as the contract fixes it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** One step of drift either way. */
const DRIFT_STEPS = 1;
/** NIST SP 800-63B-4: after this many consecutive wrong TOTP codes, only recovery codes work until the user re-enrols. */
export const TOTP_FAILURE_LIMIT = 100;
const RECOVERY_CODE_COUNT = 10;
/** Recovery codes: 10 characters of an unambiguous alphabet (about 50 bits), shown as `xxxxx-xxxxx`. */
const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** A second-factor proof as the client sends it. */
export type SecondFactorProof = { code: string } | { recoveryCode: string };

/** The additional data under which TOTP secrets are sealed: a sealed secret moved to another user's row does not open. */
const sealedFor = (userId: string) => `hush/totp/${userId}`;

const hashCode = (code: string) => sha256Base64url(normalizeRecoveryCode(code));

/** Recovery codes are compared without case, spaces or dashes, as people type them. */
function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, "");
}

function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let code = "";
  for (const byte of bytes) code += RECOVERY_ALPHABET[byte % RECOVERY_ALPHABET.length];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

const invalidCode = () => new HushError("invalid_code", "The code is wrong or was already used.");

/**
 * TOTP second factor and recovery codes: enrolment, checks with replay protection (the last
 * accepted time step is remembered per user, and moving past it is one conditional UPDATE),
 * the 100-failure lock-out, and the account's failed-login limit around every code check.
 */
export class TwoFactor {
  constructor(
    private readonly storage: Storage,
    private readonly box: SecretBox,
    private readonly attempts: PasswordAttempts,
    private readonly mailer: Mailer,
    private readonly events: SecurityEvents,
    private readonly options: ResolvedOptions,
  ) {}

  /** Whether the user has a second factor (an enabled TOTP). */
  async isEnrolled(userId: string): Promise<boolean> {
    const totp = await this.storage.findTotp(userId);
    return totp?.enabledAt != null;
  }

  /** A new pending TOTP secret (replacing a pending one); `400 invalid_request` when TOTP is already on. */
  async setup(user: UserRecord): Promise<{ secret: string; otpauthUrl: string }> {
    const secret = new OTPAuth.Secret({ size: 20 });
    const saved = await this.storage.savePendingTotp({
      userId: user.id,
      secretSealed: this.box.seal(new Uint8Array(secret.bytes), sealedFor(user.id)),
      enabledAt: null,
      lastStep: null,
      failures: 0,
      createdAt: this.options.now(),
    });
    if (!saved) throw new HushError("invalid_request", "An authenticator app is already enabled: disable it first.");
    return { secret: secret.base32, otpauthUrl: this.totpFor(user, secret).toString() };
  }

  /** Confirms a pending TOTP with a code: it is on, and ten recovery codes are returned, this once. */
  async enable(user: UserRecord, code: string, meta: RequestMeta): Promise<string[]> {
    const totp = await this.storage.findTotp(user.id);
    if (!totp || totp.enabledAt !== null) throw new HushError("invalid_request", "Set up an authenticator app first.");
    const attempt = await this.attempts.reserve(user.email, undefined);
    const step = this.matchingStep(user, totp.secretSealed, code);
    if (step === undefined || !(await this.storage.acceptTotpStep(user.id, step, this.options.now(), true))) {
      this.failed(user, meta);
      throw invalidCode();
    }
    await attempt.succeeded();
    const codes = await this.newRecoveryCodes(user.id);
    this.events.emit({ type: "mfa_enabled", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    await this.mailer.queue("security_notice", user.email, {
      change: "Two-factor authentication with an authenticator app was turned on.",
    });
    return codes;
  }

  /** Turns TOTP off after a TOTP or recovery code; the recovery codes go too. */
  async disable(user: UserRecord, proof: SecondFactorProof, meta: RequestMeta): Promise<void> {
    await this.prove(user, proof, meta);
    await this.storage.deleteTotp(user.id);
    await this.storage.deleteRecoveryCodes(user.id);
    this.events.emit({ type: "mfa_disabled", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    await this.mailer.queue("security_notice", user.email, { change: "Two-factor authentication was turned off." });
  }

  /** Ten new recovery codes; the old ones stop working. */
  async regenerateRecoveryCodes(user: UserRecord, meta: RequestMeta): Promise<string[]> {
    if (!(await this.isEnrolled(user.id))) throw new HushError("invalid_request", "Turn on two-factor authentication first.");
    const codes = await this.newRecoveryCodes(user.id);
    this.events.emit({ type: "recovery_codes_regenerated", userId: user.id, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
    await this.mailer.queue("security_notice", user.email, { change: "New recovery codes were made; the old ones no longer work." });
    return codes;
  }

  async status(userId: string): Promise<{ totp: boolean; recoveryCodesLeft: number }> {
    return { totp: await this.isEnrolled(userId), recoveryCodesLeft: await this.storage.countRecoveryCodes(userId) };
  }

  /**
   * Checks a second-factor proof of an enrolled user and uses it up (a TOTP step is never
   * accepted twice; a recovery code works once). A failure is reserved on the account's
   * failed-login limit before the check, and answers `401 invalid_code`. Returns the `amr`
   * value the proof stands for.
   */
  async prove(user: UserRecord, proof: SecondFactorProof, meta: RequestMeta): Promise<"otp"> {
    proof = "code" in proof ? { code: proof.code.replace(/\s/g, "") } : proof;
    const totp = await this.storage.findTotp(user.id);
    if (!totp || totp.enabledAt === null) throw invalidCode();
    const attempt = await this.attempts.reserve(user.email, undefined);
    const now = this.options.now();
    // `{code}` takes a recovery code too (anything that is not six digits), as people paste them.
    const recoveryCode = "recoveryCode" in proof ? proof.recoveryCode : /^\d{6}$/.test(proof.code) ? undefined : proof.code;
    if (recoveryCode !== undefined) {
      if (!(await this.storage.useRecoveryCode(user.id, hashCode(recoveryCode), now))) {
        this.failed(user, meta);
        throw invalidCode();
      }
      await attempt.succeeded();
      this.events.emit({
        type: "recovery_code_used",
        userId: user.id,
        email: user.email,
        ip: meta.ip,
        userAgent: meta.userAgent ?? undefined,
      });
      await this.mailer.queue("security_notice", user.email, { change: "A recovery code was used to sign in." });
      return "otp";
    }
    // Past the lock-out only recovery codes work, until the user enrols again.
    const code = "code" in proof ? proof.code : "";
    const step = totp.failures < TOTP_FAILURE_LIMIT ? this.matchingStep(user, totp.secretSealed, code) : undefined;
    if (step === undefined || !(await this.storage.acceptTotpStep(user.id, step, now, false))) {
      const failures = await this.storage.countTotpFailure(user.id);
      this.failed(user, meta);
      if (failures === TOTP_FAILURE_LIMIT) {
        await this.mailer.queue("security_notice", user.email, {
          change: `${TOTP_FAILURE_LIMIT} wrong authenticator codes in a row: until you set up the app again, only recovery codes work.`,
        });
      }
      throw invalidCode();
    }
    await attempt.succeeded();
    return "otp";
  }

  /** Removes every second factor of a user (an operator's act, for a support desk). */
  async reset(user: UserRecord): Promise<void> {
    await this.storage.deleteTotp(user.id);
    await this.storage.deleteRecoveryCodes(user.id);
    this.events.emit({ type: "mfa_reset", userId: user.id, email: user.email, reason: "by_operator" });
    await this.mailer.queue("security_notice", user.email, { change: "Two-factor authentication was removed by an administrator." });
  }

  /** The time step a code belongs to, within one step of drift, or `undefined`. */
  private matchingStep(user: UserRecord, sealed: string, code: string): number | undefined {
    if (!/^\d{6}$/.test(code)) return undefined;
    const secret = new OTPAuth.Secret({ buffer: this.box.open(sealed, sealedFor(user.id)).slice().buffer });
    const now = this.options.now();
    const delta = this.totpFor(user, secret).validate({ token: code, timestamp: now, window: DRIFT_STEPS });
    return delta === null ? undefined : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
  }

  private totpFor(user: UserRecord, secret: OTPAuth.Secret): OTPAuth.TOTP {
    return new OTPAuth.TOTP({
      issuer: this.options.mail.appName,
      label: user.email,
      algorithm: "SHA1",
      digits: DIGITS,
      period: PERIOD_SECONDS,
      secret,
    });
  }

  private async newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.storage.replaceRecoveryCodes(userId, codes.map(hashCode));
    return codes;
  }

  private failed(user: UserRecord, meta: RequestMeta): void {
    this.events.emit({ type: "mfa_failed", userId: user.id, email: user.email, ip: meta.ip, userAgent: meta.userAgent ?? undefined });
  }
}
