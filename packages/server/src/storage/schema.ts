/**
 * Table shapes as Kysely sees them. Every time is an integer count of milliseconds since the
 * epoch (`bigint` columns), the one representation both SQLite and PostgreSQL store exactly.
 */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
  /** Monotonic counter; any change invalidates refresh tokens issued before it (docs/api.md, Tokens). */
  security_stamp: number;
  suspended_at: number | null;
  /** When the address was proven; `null` while unverified. */
  email_verified_at: number | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  /** SHA-256 of the current refresh secret, base64url. */
  current_hash: string;
  /** SHA-256 of the secret retired by the last rotation, honoured for the reuse grace. */
  previous_hash: string | null;
  rotated_at: number | null;
  generation: number;
  created_at: number;
  last_used_at: number;
  /** Absolute end of the session (`refreshTokenTtlSeconds` after creation). */
  expires_at: number;
  /** The user's security stamp when the session began; a different current stamp ends it. */
  security_stamp: number;
  /** When the newest access token issued to this session expires (for the revocation feed). */
  access_expires_at: number;
  user_agent: string | null;
  ip: string | null;
  revoked_at: number | null;
  revoked_reason: string | null;
  /** Secrets retired within the reuse grace: JSON `[[hash, retiredAt], …]`, oldest first; `null` when none. */
  recently_retired: string | null;
  /** The last sign-in or re-authentication (`auth_time`); `null`: the session's start. */
  auth_time: number | null;
  /** How that sign-in was made, RFC 8176 values as JSON (`["pwd","otp","mfa"]`); `null`: `["pwd"]`. */
  amr: string | null;
}

export interface RevocationsTable {
  session_id: string;
  user_id: string;
  revoked_at: number;
  /** When the last access token of the session expires; the entry leaves the feed then. */
  until: number;
  /** Kept (and the session refused) until then, past `until`: a stateless refresh token's expiry. */
  kept_until: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** Public JWK as JSON; `null` for HS256 keys, which are never published. */
  public_jwk: string | null;
  /** Private key (PKCS#8 DER, or raw bytes for HS256) sealed with AES-256-GCM under HUSH_SECRET. */
  private_sealed: string;
  created_at: number;
  /** When the key starts signing; it is published in the JWKS from `created_at` on. */
  activates_at: number;
  /** When a newer key took over signing; `null` while current. */
  retired_at: number | null;
}

/** One-time emailed links (verification, reset, email change, sign-in): only the secret's SHA-256 is kept. */
export interface LinkTokensTable {
  id: string;
  user_id: string;
  purpose: string;
  /** The address the link was sent to; for an email change, the new address. */
  email: string;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  /** When it was used — or voided by a later event; `null` while it still works. */
  used_at: number | null;
}

/** The durable outbox: a mail is a row until it is sent or has failed for good. */
export interface MailOutboxTable {
  id: string;
  kind: string;
  recipient: string;
  /** A job's input (JSON), composed into a mail at sending time; `null` for a mail rendered when queued. */
  payload: string | null;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  /** A worker holds the mail until then; another may claim it after (its holder died). */
  lease_until: number | null;
  sent_at: number | null;
  failed_at: number | null;
  last_error: string | null;
}

/** A WebAuthn credential (passkey) of a user. */
export interface PasskeysTable {
  /** The credential id, base64url. */
  id: string;
  user_id: string;
  name: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transports (`internal`, `hybrid`, …). */
  transports: string | null;
  /** `singleDevice` or `multiDevice` (synced). */
  device_type: string;
  backed_up: number;
  created_at: number;
  last_used_at: number | null;
}

/** A WebAuthn challenge kept on the server: single-use, short-lived, bound to its purpose (and user). */
export interface WebauthnChallengesTable {
  id: string;
  purpose: string;
  user_id: string | null;
  challenge: string;
  expires_at: number;
  used_at: number | null;
}

/** A user's TOTP factor: pending until enabled; the secret sealed under HUSH_SECRET. */
export interface TotpFactorsTable {
  user_id: string;
  secret_sealed: string;
  enabled_at: number | null;
  /** The last time step accepted: a code of it or an earlier step is a replay. */
  last_step: number | null;
  /** Consecutive wrong codes; at 100 only recovery codes work until the user re-enrols. */
  failures: number;
  created_at: number;
}

/** Single-use recovery codes, stored hashed. */
export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
}

/** The `mfaToken` between a first factor and the second: single-use, five minutes, five wrong codes. */
export interface MfaTokensTable {
  /** SHA-256 of the token, base64url. */
  id: string;
  user_id: string;
  /** JSON: how the first factor was made, and what to do once the second is proven (a pending reset). */
  context: string;
  expires_at: number;
  used_at: number | null;
  failures: number;
}

/** A sign-in identity at another provider, keyed by (issuer, subject) — never by email. */
export interface IdentitiesTable {
  id: string;
  user_id: string;
  /** The configured provider's name (`google`, `demo` …). */
  provider: string;
  issuer: string;
  subject: string;
  email: string | null;
  email_verified: number;
  created_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  revocations: RevocationsTable;
  signing_keys: SigningKeysTable;
  link_tokens: LinkTokensTable;
  mail_outbox: MailOutboxTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_tokens: MfaTokensTable;
  identities: IdentitiesTable;
}
