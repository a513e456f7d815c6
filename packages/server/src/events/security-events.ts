import type { ErrorCode } from "@hush/protocol";
import type { Logger } from "pino";
import type { LimitName } from "../security/rate-limits.js";
import type { RevokeReason } from "../storage/contract.js";

/** Every kind of security event of docs/api.md, Security events. */
export type SecurityEventType =
  | "signup"
  | "login_succeeded"
  | "login_failed"
  | "refresh"
  | "refresh_failed"
  | "refresh_token_reused"
  | "logout"
  | "logout_all"
  | "session_revoked"
  | "password_changed"
  | "user_suspended"
  | "user_unsuspended"
  | "key_rotated"
  | "rate_limited"
  | "email_verification_sent"
  | "email_verified"
  | "password_reset_requested"
  | "password_reset"
  | "email_change_requested"
  | "email_changed"
  | "signin_link_sent"
  | "signin_link_used"
  | "account_deleted"
  | "mail_failed"
  | "passkey_added"
  | "passkey_removed"
  | "passkey_login"
  | "passkey_clone_suspected"
  | "mfa_enabled"
  | "mfa_disabled"
  | "mfa_failed"
  | "mfa_reset"
  | "recovery_code_used"
  | "recovery_codes_regenerated"
  | "reauthenticated"
  | "oauth_login"
  | "oauth_failed"
  | "identity_linked"
  | "identity_unlinked";

/** Why a login or password check failed. */
export type LoginFailureReason = "wrong_password" | "unknown_email" | "suspended" | "wrong_current_password" | "email_not_verified";

/**
 * The `reason` of an event: a closed set, never prose, so alerts can switch on it — a failed
 * login's cause, a rate limit's name, why a session ended, who acted, or a refused refresh's code.
 */
export type SecurityEventReason =
  | LoginFailureReason
  | LimitName
  | RevokeReason
  | "own_session"
  | "by_operator"
  /** `oauth_failed`: what the app's sign-in page was told. */
  | "oauth_denied"
  | "account_exists"
  | "oauth_failed"
  | Extract<ErrorCode, "invalid_refresh_token" | "session_revoked">;

/**
 * One security event, as logged and as handed to `onEvent`. It never holds a password, token,
 * cookie value or secret: only ids, the email, and request metadata.
 */
export interface SecurityEvent {
  type: SecurityEventType;
  /** ISO 8601, UTC. */
  at: string;
  userId?: string;
  sessionId?: string;
  email?: string;
  ip?: string;
  userAgent?: string;
  /** A trusted device's id (from its device cookie), for its own failed-login limit. */
  deviceId?: string;
  /** Why: a failed login's cause, a revocation's reason, a rate limit's name. */
  reason?: SecurityEventReason;
  /** For `logout_all`: how many sessions ended. */
  count?: number;
  /** For `key_rotated`: when the new key starts signing (ISO 8601). */
  activatesAt?: string;
  /** For `refresh_token_reused`: milliseconds between the rotation and the replay. */
  msSinceRotation?: number;
  kid?: string;
  /** For mail events: which mail (`reset_password`, `verify_email`, …). */
  mailKind?: string;
  /** For provider events: the provider's configured name. */
  provider?: string;
}

/** Events that deserve a warning rather than an info line. */
const WARN_EVENTS: ReadonlySet<SecurityEventType> = new Set([
  "refresh_token_reused",
  "rate_limited",
  "mail_failed",
  "passkey_clone_suspected",
  "mfa_reset",
]);

/** Writes each event as one structured log line, then hands it to the application's hook. */
export class SecurityEvents {
  constructor(
    private readonly logger: Logger,
    private readonly onEvent: ((event: SecurityEvent) => void) | undefined,
    private readonly now: () => number,
  ) {}

  emit(event: Omit<SecurityEvent, "at">): void {
    const level = WARN_EVENTS.has(event.type) ? "warn" : "info";
    // Nobody to tell (a quiet log level, no hook): a refresh then pays nothing for its event.
    if (!this.onEvent && !this.logger.isLevelEnabled(level)) return;
    const full: SecurityEvent = { ...event, at: new Date(this.now()).toISOString() };
    this.logger[level]({ event: full }, `security event: ${event.type}`);
    if (!this.onEvent) return;
    try {
      this.onEvent(full);
    } catch (error) {
      this.logger.error({ err: error }, "onEvent hook threw");
    }
  }
}
