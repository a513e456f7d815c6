import { createHash } from "node:crypto";
import { REVOCATION_LIST_TYPE } from "@hush/protocol";
import type { ResolvedOptions } from "../config/options.js";
import type { KeyRing } from "../keys/key-ring.js";
import type { Storage } from "../storage/contract.js";
import { signCompactJws } from "../tokens/jws-signer.js";

/** How often the list is read from the database at most; a revocation reaches the feed within this. */
const REQUERY_MS = 2_000;
/** A signed list is reused while unchanged for this long; its `exp` is a minute after `iat`. */
const RESIGN_MS = 30_000;
const LIFETIME_SECONDS = 60;

export interface SignedRevocationList {
  jwt: string;
  etag: string;
}

/**
 * `GET /auth/revocations` (API.md §6): the ids of sessions revoked while access tokens issued
 * to them may still be alive, as a JWT signed with the access-token keys (`typ: rl+jwt`). It
 * is cheap for any number of pollers: the database is read at most every two seconds, the
 * same signed body (and ETag) is served while the list is unchanged, and `If-None-Match`
 * answers 304.
 */
export class RevocationFeed {
  private cached: (SignedRevocationList & { listKey: string; signedAt: number; queriedAt: number }) | undefined;
  private pending: Promise<SignedRevocationList> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly keys: KeyRing,
    private readonly options: ResolvedOptions,
  ) {}

  current(): Promise<SignedRevocationList> {
    const now = this.options.now();
    if (this.cached && now - this.cached.queriedAt < REQUERY_MS && now >= this.cached.queriedAt) return Promise.resolve(this.cached);
    // Concurrent pollers share one database read.
    this.pending ??= this.rebuild(now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async rebuild(now: number): Promise<SignedRevocationList> {
    const graceMs = this.options.reuseGraceSeconds * 1000;
    const revoked = (await this.storage.listRecentlyRevoked(now)).map((r) => ({
      sid: r.sessionId,
      // Tokens issued inside the reuse grace can outlive the recorded expiry by the grace.
      until: Math.ceil((r.accessExpiresAt + graceMs) / 1000),
    }));
    const listKey = JSON.stringify(revoked);
    if (this.cached && this.cached.listKey === listKey && now - this.cached.signedAt < RESIGN_MS && now >= this.cached.signedAt) {
      this.cached.queriedAt = now;
      return this.cached;
    }
    const key = this.keys.signingKey(now);
    const iat = Math.floor(now / 1000);
    const jwt = signCompactJws(
      key.alg,
      key.privateKey,
      { alg: key.alg, kid: key.kid, typ: REVOCATION_LIST_TYPE },
      {
        iss: this.options.issuer,
        iat,
        exp: iat + LIFETIME_SECONDS,
        revoked,
      },
    );
    const etag = `"${createHash("sha256").update(jwt).digest("base64url").slice(0, 27)}"`;
    this.cached = { jwt, etag, listKey, signedAt: now, queriedAt: now };
    return this.cached;
  }
}
