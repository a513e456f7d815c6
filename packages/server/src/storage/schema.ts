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

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  revocations: RevocationsTable;
  signing_keys: SigningKeysTable;
}
