import type { RateLimiterAbstract } from "rate-limiter-flexible";

/**
 * The storage contract: the few domain-shaped operations the server needs, each stating how it
 * behaves under concurrent calls. One Kysely implementation serves SQLite and PostgreSQL, and
 * both run the same conformance suite (`storage-conformance.ts`, exported by `@hush/server/testing`).
 * Times are milliseconds since the epoch. A method that cannot reach the database rejects with
 * `StorageUnavailableError` (see `unavailable.ts`), whatever the database.
 */

export interface UserRecord {
  id: string;
  email: string;
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
  securityStamp: number;
  suspendedAt: number | null;
  /** When the address was proven by a link (or a provider, or an operator); `null` while unverified. */
  emailVerifiedAt: number | null;
}

/** A user as a refresh reads it: all but the password hash and the time of the last change. */
export type SessionUser = Omit<UserRecord, "passwordHash" | "updatedAt">;

/** A session as a refresh reads it: all but what only listings and audits show. */
export type RefreshSession = Omit<SessionRecord, "accessExpiresAt" | "userAgent" | "ip" | "revokedReason">;

export interface SessionRecord {
  id: string;
  userId: string;
  currentHash: string;
  previousHash: string | null;
  rotatedAt: number | null;
  generation: number;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  securityStamp: number;
  accessExpiresAt: number;
  userAgent: string | null;
  ip: string | null;
  revokedAt: number | null;
  revokedReason: string | null;
  /**
   * When the secrets the reuse grace may still cover were retired (ms), oldest first; the last
   * is `previousHash`'s. Times only: a presented secret is matched by walking its chain forward
   * to `currentHash`, and the number of steps says which retirement it was.
   */
  recentlyRetired: number[];
  /** The last sign-in or re-authentication; `null`: `createdAt`. */
  authTime: number | null;
  /** How that sign-in was made (RFC 8176 values). */
  amr: string[];
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: string | null;
  privateSealed: string;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
}

export interface RevokedSession {
  sessionId: string;
  /** When the last access token issued to the session expires. */
  accessExpiresAt: number;
}

/** Why a session ended; kept on the row and logged. */
export type RevokeReason =
  | "logout"
  | "logout_all"
  | "user_revoked"
  | "reuse_detected"
  | "password_changed"
  | "password_reset"
  | "suspended"
  | "account_deleted"
  | "account_reclaimed";

/** A unique-email conflict, raised by `createUser`. */
export class EmailTakenError extends Error {
  override readonly name = "EmailTakenError";
}

export interface RotateInput {
  sessionId: string;
  /** Hash of the refresh secret the caller presented; the update applies only while it is current. */
  expectedHash: string;
  nextHash: string;
  now: number;
  accessExpiresAt: number;
  /** The retirement times after this rotation: the caller drops those past the grace and adds `now`. */
  recentlyRetired: readonly number[];
}

/** A password change, applied in one transaction (see `Storage.replacePassword`). */
export interface PasswordReplacement {
  userId: string;
  passwordHash: string;
  now: number;
  /** The session that made the change: it lives on with a new secret and the new stamp. */
  keep?: { sessionId: string; currentHash: string; accessExpiresAt: number };
}

/** What the janitor removed. */
export interface PruneResult {
  sessions: number;
  revocations: number;
  /** Expired link tokens. */
  links: number;
  /** Outbox rows finished (sent or failed) more than a day ago. */
  mails: number;
}

/** Connection pool use, for metrics. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** What an emailed link is for; a link works for its own purpose only. */
export type LinkPurpose = "verify_email" | "reset_password" | "change_email" | "signin_link";

/** A one-time link token: only the SHA-256 of its secret is stored. */
export interface LinkTokenRecord {
  id: string;
  userId: string;
  purpose: LinkPurpose;
  /** The address the link was sent to and is bound to (for `change_email`, the new address). */
  email: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/**
 * One mail in the durable outbox. Either rendered when queued (`subject`, `textBody`,
 * `htmlBody` set), or a job (`payload` set, bodies `null`) that the outbox worker composes at
 * sending time — the enumeration-safe flows queue a job for every address, known or not, so
 * that the request does the same work either way. Bodies are cleared once the mail is sent or
 * has failed for good, so no link outlives its delivery in the database.
 */
export interface OutboxMail {
  id: string;
  kind: string;
  recipient: string;
  payload: string | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
  createdAt: number;
  /** Delivery attempts begun so far (a claim counts one). */
  attempts: number;
  nextAttemptAt: number;
}

/** A user's passkey (WebAuthn credential). */
export interface PasskeyRecord {
  /** The credential id, base64url. */
  id: string;
  userId: string;
  name: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

/** What a WebAuthn challenge is for. */
/** What a one-time server-side value is for: a WebAuthn challenge, a provider flow's `state`, or a link ticket. */
export type ChallengePurpose = "register" | "login" | "oauth" | "link";

/** A user's TOTP factor. */
export interface TotpRecord {
  userId: string;
  secretSealed: string;
  /** `null` while pending (set up, not yet confirmed with a code). */
  enabledAt: number | null;
  lastStep: number | null;
  failures: number;
  createdAt: number;
}

/** An `mfaToken`: the step between a first factor and the second. */
export interface MfaTokenRecord {
  /** SHA-256 of the token. */
  id: string;
  userId: string;
  /** JSON, the service's own (how the first factor was made, a pending action). */
  context: string;
  expiresAt: number;
  usedAt: number | null;
  failures: number;
}

/** A user's identity at another provider. */
export interface IdentityRecord {
  id: string;
  userId: string;
  provider: string;
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  createdAt: number;
}

/** An identity (issuer, subject) that already belongs to a user, raised by `addIdentity`. */
export class IdentityTakenError extends Error {
  override readonly name = "IdentityTakenError";
}

/** A limiter's shape: at most `points` events per key in any `durationSeconds`. */
export interface RateLimiterSpec {
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}

export interface Storage {
  /**
   * A rate limiter whose counters live in this database, shared by every instance (PostgreSQL);
   * absent where one process owns the database (SQLite), which counts in memory.
   */
  createRateLimiter?(spec: RateLimiterSpec): Promise<RateLimiterAbstract>;
  /** Connection pool use (PostgreSQL); absent on SQLite. */
  poolStats?(): PoolStats;
  /** Creates the schema or brings it up to date. Idempotent. */
  migrate(): Promise<void>;
  /** Resolves when the database answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Inserts a user. Two concurrent calls with one email: exactly one succeeds, the other throws `EmailTakenError`. */
  createUser(user: UserRecord): Promise<void>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** Every user, oldest first (for the CLI; not a hot path). */
  listUsers(): Promise<UserRecord[]>;
  /** Suspends or unsuspends; either way the security stamp grows. Returns the new stamp. */
  setSuspended(userId: string, suspended: boolean, now: number): Promise<number>;
  /** Grows the security stamp (logout-all). Returns the new stamp; a stamp never returns to an earlier value. */
  bumpSecurityStamp(userId: string, now: number): Promise<number>;
  /** Replaces the password hash. With `bumpStamp` the security stamp grows too (a password change, not a re-hash). Returns the new stamp. */
  setPasswordHash(userId: string, passwordHash: string, bumpStamp: boolean, now: number): Promise<number>;

  /** Inserts a new session (a sign-in). */
  createSession(session: SessionRecord): Promise<void>;
  /** Reads a session and its user in one round trip (the refresh hot path). */
  findSessionWithUser(sessionId: string): Promise<{ session: SessionRecord; user: UserRecord } | undefined>;
  /**
   * The same row, with only the columns a refresh uses — the hottest read of the server, where
   * the rest (the password hash above all) cost a tenth of a refresh. Optional: without it, a
   * refresh reads `findSessionWithUser`.
   */
  findSessionForRefresh?(sessionId: string): Promise<{ session: RefreshSession; user: SessionUser } | undefined>;
  /**
   * Rotates a session's refresh secret if and only if `expectedHash` is still current and the
   * session is not revoked: a single conditional UPDATE. Of concurrent calls with the same
   * `expectedHash` exactly one returns true; the others return false and should re-read.
   */
  rotateSession(input: RotateInput): Promise<boolean>;
  /**
   * Marks a session revoked and records it for the revocation feed, in one transaction
   * (idempotent: a second call keeps the first time and reason). Returns true if this call revoked it.
   */
  revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<boolean>;
  /** Revokes every live session of a user but `exceptSessionId`, as `revokeSession` does. Returns the ids revoked. */
  revokeUserSessions(userId: string, reason: RevokeReason, now: number, exceptSessionId?: string): Promise<string[]>;
  /**
   * Gives a live session a new refresh secret and the user's new stamp (after a password
   * change, for the session that made it). The retired secret is forgotten, not graced.
   */
  resetSession(input: {
    sessionId: string;
    currentHash: string;
    securityStamp: number;
    now: number;
    accessExpiresAt: number;
  }): Promise<void>;
  /** A user's sessions that are neither revoked nor past their absolute end, newest first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /**
   * Records a revocation for the feed (`stateless` mode has no session rows), listed until
   * `until`; with `keptUntil`, remembered (for `isRevoked`) until then. Idempotent.
   */
  recordRevocation(entry: { sessionId: string; userId: string; now: number; until: number; keptUntil?: number }): Promise<void>;
  /** Whether a revocation of `sessionId` is still remembered (stateless logout). */
  isRevoked(sessionId: string): Promise<boolean>;
  /** Lists revoked sessions whose access tokens may still be alive at `now` (the janitor forgets older ones). */
  listRecentlyRevoked(now: number): Promise<RevokedSession[]>;
  /**
   * Replaces a password, grows the stamp, revokes every other live session of the user and
   * re-keys `keep` with the new stamp — in one transaction, so a refresh racing with it sees
   * the old state or the new one, never a kept session whose stamp lags its user's. Returns
   * the new stamp and the ids revoked; `undefined`, with nothing changed, when `keep` is no
   * longer a live session of the user.
   */
  replacePassword(change: PasswordReplacement): Promise<{ securityStamp: number; revoked: string[] } | undefined>;
  /**
   * The janitor's work: deletes sessions past their absolute end or idle for `idleMs`,
   * revocations neither listed nor kept any more, expired link tokens and mails finished a day ago, in batches of at most `batchSize` rows per
   * statement and `maxBatches` statements per table. Never touches a session that can still refresh.
   */
  pruneExpired(now: number, limits: { idleMs: number; batchSize: number; maxBatches: number }): Promise<PruneResult>;

  /** Every signing key, newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Inserts a key and retires the current one at the new key's activation, in one transaction.
   * With `onlyIfNone`, inserts only when no unretired key of that algorithm exists (so that
   * instances starting together generate one key between them); returns whether it inserted.
   */
  addSigningKey(key: SigningKeyRecord, options: { onlyIfNone: boolean }): Promise<boolean>;

  /**
   * Revocations recorded at or after `since` whose access tokens may still be alive at `now`,
   * oldest first: the revocation feed's incremental read; it only reads. `revoked_at` is
   * stamped by the revoking instance before its transaction commits, so callers overlap
   * successive reads rather than trust it exactly.
   */
  listRevokedSince(since: number, now: number): Promise<RevokedSession[]>;

  /** Marks a user's address verified (keeps an earlier time). Returns the user, or `undefined` if there is none. */
  markEmailVerified(userId: string, now: number): Promise<UserRecord | undefined>;
  /**
   * Changes a user's address to a verified `email` and voids every outstanding link of the
   * user, in one transaction. Throws `EmailTakenError` if another user has the address.
   */
  changeEmail(userId: string, email: string, now: number): Promise<UserRecord>;
  /**
   * Deletes a user and everything of theirs: every live session is revoked and recorded for the
   * revocation feed first (their access tokens die at remote verifiers too), then the user's
   * sessions, links and the user go, in one transaction. Returns the revoked session ids.
   */
  deleteUser(userId: string, now: number): Promise<string[]>;

  /** Stores a link token. */
  createLinkToken(token: LinkTokenRecord): Promise<void>;
  /**
   * Uses a link token: one conditional UPDATE that succeeds only for the right id, secret hash
   * and purpose, unused and unexpired. Of concurrent uses exactly one gets the token back.
   */
  useLinkToken(id: string, secretHash: string, purpose: LinkPurpose, now: number): Promise<LinkTokenRecord | undefined>;
  /** Voids a user's unused links of the given purposes (every purpose when omitted). */
  voidLinkTokens(userId: string, now: number, purposes?: readonly LinkPurpose[]): Promise<void>;

  /** Adds a mail to the outbox, due at once. */
  queueMail(
    mail: Pick<OutboxMail, "id" | "kind" | "recipient" | "payload" | "subject" | "textBody" | "htmlBody" | "createdAt">,
  ): Promise<void>;
  /**
   * Claims up to `limit` mails due at `now` for `leaseMs`: each claim is a conditional UPDATE
   * that counts an attempt, so several instances never hold one mail at once. A mail whose
   * holder died is claimable again once its lease ends.
   */
  claimMail(now: number, leaseMs: number, limit: number): Promise<OutboxMail[]>;
  /** Stores the composed message of a job (kept for its retries). */
  storeComposedMail(id: string, mail: { recipient: string; subject: string; textBody: string; htmlBody: string }): Promise<void>;
  /** Puts a claimed mail back, due again at `nextAttemptAt`, noting the error. */
  retryMail(id: string, nextAttemptAt: number, error: string): Promise<void>;
  /** Ends a mail's life: sent (or nothing to send), or failed for good. Its bodies are cleared. */
  finishMail(id: string, outcome: { sentAt: number } | { failedAt: number; error: string }): Promise<void>;

  /** Records a re-authentication on a live session: its `auth_time` and `amr` from now on. Returns false when the session has ended. */
  reauthenticateSession(sessionId: string, authTime: number, amr: readonly string[]): Promise<boolean>;

  addPasskey(passkey: PasskeyRecord): Promise<void>;
  findPasskey(id: string): Promise<PasskeyRecord | undefined>;
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  /** Records a sign-in with a passkey: its new counter and when. */
  usePasskey(id: string, counter: number, now: number): Promise<void>;
  /** Removes one of the user's passkeys; false when the user has no such passkey. */
  removePasskey(userId: string, id: string): Promise<boolean>;
  /** Stores a WebAuthn challenge. */
  saveChallenge(challenge: {
    id: string;
    purpose: ChallengePurpose;
    userId: string | null;
    challenge: string;
    expiresAt: number;
  }): Promise<void>;
  /** Uses a challenge of `purpose`, once (a conditional UPDATE), before it expires. */
  useChallenge(id: string, purpose: ChallengePurpose, now: number): Promise<{ challenge: string; userId: string | null } | undefined>;

  /** Stores a pending TOTP factor, replacing a pending one; never an enabled one (returns false then). */
  savePendingTotp(totp: TotpRecord): Promise<boolean>;
  findTotp(userId: string): Promise<TotpRecord | undefined>;
  /**
   * Accepts a TOTP time step: one conditional UPDATE that succeeds only for a step later than
   * the last accepted one (no replay), resets the failure count and, with `enable`, enables a
   * pending factor. Of concurrent calls with one step, exactly one succeeds.
   */
  acceptTotpStep(userId: string, step: number, now: number, enable: boolean): Promise<boolean>;
  /** Counts a wrong TOTP code; returns the consecutive failures. */
  countTotpFailure(userId: string): Promise<number>;
  deleteTotp(userId: string): Promise<void>;
  /** Replaces a user's recovery codes (hashes) in one transaction. */
  replaceRecoveryCodes(userId: string, codeHashes: readonly string[]): Promise<void>;
  /** Uses a recovery code once (a conditional UPDATE); false for a wrong or used one. */
  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean>;
  countRecoveryCodes(userId: string): Promise<number>;
  deleteRecoveryCodes(userId: string): Promise<void>;

  createMfaToken(token: MfaTokenRecord): Promise<void>;
  /** An `mfaToken` still usable at `now`: unused, unexpired, fewer than `maxFailures` wrong codes. */
  findMfaToken(id: string, now: number, maxFailures: number): Promise<MfaTokenRecord | undefined>;
  /** Uses it once: a conditional UPDATE; of concurrent calls exactly one gets the token. */
  useMfaToken(id: string, now: number, maxFailures: number): Promise<MfaTokenRecord | undefined>;
  /** Counts a wrong code against it; returns its failures. */
  countMfaTokenFailure(id: string): Promise<number>;

  findIdentity(issuer: string, subject: string): Promise<IdentityRecord | undefined>;
  listIdentities(userId: string): Promise<IdentityRecord[]>;
  /** Links an identity; throws `IdentityTakenError` when (issuer, subject) belongs to a user already. */
  addIdentity(identity: IdentityRecord): Promise<void>;
  /** Unlinks one of the user's identities; false when the user has no such identity. */
  removeIdentity(userId: string, id: string): Promise<boolean>;
  /**
   * Takes an account whose address was never verified away from whoever made it, for the
   * address's proven owner (pre-account takeover): in one transaction every session is revoked
   * (and recorded for the feed), the password cleared and the stamp grown, passkeys, second
   * factors, links and pending sign-in steps deleted, and the address marked verified.
   */
  reclaimUnverifiedAccount(userId: string, now: number): Promise<UserRecord>;
}
