import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { REVOCATION_LIST_TYPE } from "@hush/protocol";
import type { ResolvedOptions } from "../config/options.js";
import type { KeyRing } from "../keys/key-ring.js";
import type { Storage } from "../storage/contract.js";
import { sha256Base64url } from "../tokens/digest.js";
import { signCompactJws } from "../tokens/jws-signer.js";
import { type RevocationEntry, RevocationSnapshot } from "./revocation-snapshot.js";

/** How often the database is read at most; a revocation reaches the feed within this. */
const REQUERY_MS = 2_000;
/** A version (its iat, ETag and signed bodies) is kept while nothing is added, for this long. */
const RESIGN_MS = 30_000;
/** A list's `exp` is this long after its `iat`. */
const LIFETIME_SECONDS = 60;
/** Deltas are served to holders of a list at most this old; older ones get the full list. */
const DELTA_WINDOW_SECONDS = 120;
/** A delta starts this long before the holder's `iat`, for instances whose clocks differ a little. */
const DELTA_MARGIN_MS = 2_000;
/** A delta bigger than half the full list is not worth it: the (shared, cached) full list is sent. */
const DELTA_MAX_SHARE = 0.5;
/** While fewer entries than this are listed, a delta is served whatever its share of the list. */
const SMALL_LIST = 64;
/** Bodies shorter than this are sent uncompressed. */
export const GZIP_MIN_CHARS = 1_024;
/**
 * A full list is re-signed at most once per this many times what signing it last cost (but
 * never held longer than `RESIGN_MS`): signing a large list is main-thread work (about 0.3 s at
 * 100,000 entries), and pollers that know only the full list must not make it a steady load.
 * Meanwhile the previous full list is served, with its own `iat` and ETag; deltas catch up.
 */
const FULL_SIGN_BUDGET = 20;
/** Versions this instance has issued, remembered for cutting deltas. */
const MAX_VERSIONS = Math.ceil(DELTA_WINDOW_SECONDS / (REQUERY_MS / 1000)) + 1;

const gzipAsync = promisify(gzip);

/** One signed list (full, or a delta) of the current version. */
export interface SignedRevocationList {
  readonly jwt: string;
  /** The ETag of the version it belongs to: the same for its full list and its deltas. */
  readonly etag: string;
  /** On a delta: the `iat` of the oldest list it may be merged into. */
  readonly since: number | undefined;
  /** The JWT compressed with gzip, computed once and off the main thread. */
  gzipped(): Promise<Uint8Array<ArrayBuffer>>;
}

/** The list as of one database read: its `iat`, its ETag, and its bodies signed on demand. */
export interface RevocationFeedVersion {
  readonly iat: number;
  readonly etag: string;
  /**
   * The full list; or, for a poller holding a list issued at `since` (seconds), a delta when
   * one can be cut. `heldEtag` (its `If-None-Match`) names the exact version it holds when
   * that version is this instance's, which makes the delta exact.
   */
  list(since?: number, heldEtag?: string): SignedRevocationList;
}

/** A version this instance issued: enough to cut a delta for its holders. */
interface PastVersion {
  readonly iat: number;
  readonly etag: string;
  /** The `seenAt` of the read it reflects: its holders have every entry seen up to then. */
  readonly seenUpTo: number;
}

/**
 * `GET /auth/revocations` (docs/api.md, @hush/verify): the ids of sessions revoked while access tokens issued
 * to them may still be alive, as a JWT signed with the access-token keys (`typ: rl+jwt`). It
 * stays cheap at any size and for any number of pollers: the database is read at most every
 * two seconds, and incrementally (`RevocationSnapshot`); a version (iat, ETag, bodies) lives
 * while nothing is added, up to 30 s, and `If-None-Match` with its ETag answers 304; a poller
 * that sends `?since=<iat of the list it holds>` gets a signed delta — the entries first seen
 * since then — instead of the whole list; bodies are signed once per version and gzipped once.
 */
export class RevocationFeed {
  private readonly snapshot: RevocationSnapshot;
  private version: Version | undefined;
  /** Recent versions of this instance, oldest first. */
  private readonly past: PastVersion[] = [];
  private queriedAt: number | undefined;
  private pending: Promise<void> | undefined;
  private lastFull: { list: SignedRevocationList; signedAt: number; costMs: number } | undefined;

  constructor(
    storage: Storage,
    private readonly keys: KeyRing,
    private readonly options: ResolvedOptions,
  ) {
    this.snapshot = new RevocationSnapshot(storage, options.reuseGraceSeconds * 1000);
  }

  /**
   * The current version, after reading the database if the last read is over two seconds old
   * (concurrent callers share one read). `since` is the poller's list `iat`: a poller holding
   * a newer list than this version (from another instance) gets a version as new as the last
   * read, so that it does not refuse the answer as older.
   */
  async current(since?: number): Promise<RevocationFeedVersion> {
    const now = this.options.now();
    if (this.queriedAt === undefined || now - this.queriedAt >= REQUERY_MS || now < this.queriedAt) {
      this.pending ??= this.read(now).finally(() => {
        this.pending = undefined;
      });
    }
    if (this.pending) await this.pending;
    let version = this.version as Version;
    const readAt = this.queriedAt as number;
    if (since !== undefined && since > version.iat && readAt > version.createdAt) version = this.newVersion(readAt);
    return version;
  }

  private async read(now: number): Promise<void> {
    const added = await this.snapshot.read(now);
    this.queriedAt = now;
    const version = this.version;
    if (!version || added > 0 || now - version.createdAt >= RESIGN_MS || now < version.createdAt) this.newVersion(now);
  }

  private newVersion(now: number): Version {
    const iat = Math.max(Math.floor(now / 1000), this.version?.iat ?? 0);
    const etag = `"${sha256Base64url(`${this.options.issuer}|${iat}|${this.snapshot.digest}`).slice(0, 27)}"`;
    this.version = new Version(this, iat, etag, now);
    this.past.push({ iat, etag, seenUpTo: this.snapshot.seenUpTo });
    if (this.past.length > MAX_VERSIONS) this.past.shift();
    return this.version;
  }

  /** Signs a list of `revoked` for `version`; a delta names the list it applies to in `since`. */
  private sign(version: Version, revoked: readonly RevocationEntry[], since: number | undefined): SignedRevocationList {
    const key = this.keys.signingKey(this.options.now());
    const claims: Record<string, unknown> = { iss: this.options.issuer, iat: version.iat, exp: version.iat + LIFETIME_SECONDS };
    if (since !== undefined) claims.since = since;
    // `revoked: [{sid, until}]` exactly as docs/api.md, @hush/verify has it (the entries are kept in that
    // shape): gzip takes a 100,000-entry list to about a third, within 10% of grouping the
    // `until`s, and every verifier can read it.
    claims.revoked = revoked;
    const jwt = signCompactJws(key.alg, key.privateKey, { alg: key.alg, kid: key.kid, typ: REVOCATION_LIST_TYPE }, claims);
    let compressed: Promise<Uint8Array<ArrayBuffer>> | undefined;
    return {
      jwt,
      etag: version.etag,
      since,
      gzipped: () => {
        compressed ??= gzipAsync(jwt).then((b) => new Uint8Array(b));
        return compressed;
      },
    };
  }

  /** See `RevocationFeedVersion.list`. */
  listFor(version: Version, since: number | undefined, heldEtag: string | undefined): SignedRevocationList {
    const nowSeconds = this.options.now() / 1000;
    const full = () => {
      if (version.full) return version.full;
      const now = this.options.now();
      const last = this.lastFull;
      // Capped at RESIGN_MS, so that a list served is always at least half a lifetime from its exp.
      const reuseMs = Math.min(RESIGN_MS, Math.max(REQUERY_MS, (last?.costMs ?? 0) * FULL_SIGN_BUDGET));
      if (last && now >= last.signedAt && now - last.signedAt < reuseMs) {
        version.full = last.list;
      } else {
        const start = performance.now();
        version.full = this.sign(version, this.snapshot.all(nowSeconds), undefined);
        this.lastFull = { list: version.full, signedAt: now, costMs: performance.now() - start };
      }
      return version.full;
    };
    if (since === undefined) return full();
    // The poller holds one of this instance's versions: it has every entry seen up to that
    // version's read, and needs exactly those seen after it.
    const own = heldEtag === undefined ? undefined : this.past.find((v) => v.etag === heldEtag && v.iat <= since);
    // Otherwise (a list from another instance, or an expired one) cut at the newest version of
    // this instance not after `since`, less a margin for clocks that differ a little: whatever
    // `since` pollers send, there are at most a few dozen distinct deltas per version to sign.
    let base = own;
    if (!base) for (let i = this.past.length - 1; i >= 0 && !base; i--) if ((this.past[i] as PastVersion).iat <= since) base = this.past[i];
    if (!base || base.iat < version.iat - DELTA_WINDOW_SECONDS) return full();
    const cacheKey = own ? `=${own.etag}` : `~${base.iat}`;
    const cached = version.deltas.get(cacheKey);
    if (cached) return cached;
    const entries = own
      ? this.snapshot.seenSince(own.seenUpTo, nowSeconds, true)
      : this.snapshot.seenSince(base.iat * 1000 - DELTA_MARGIN_MS, nowSeconds);
    if (this.snapshot.size > SMALL_LIST && entries.length > this.snapshot.size * DELTA_MAX_SHARE) return full();
    const delta = this.sign(version, entries, base.iat);
    version.deltas.set(cacheKey, delta);
    return delta;
  }
}

class Version implements RevocationFeedVersion {
  full: SignedRevocationList | undefined;
  readonly deltas = new Map<string, SignedRevocationList>();

  constructor(
    private readonly feed: RevocationFeed,
    readonly iat: number,
    readonly etag: string,
    readonly createdAt: number,
  ) {}

  list(since?: number, heldEtag?: string): SignedRevocationList {
    return this.feed.listFor(this, since, heldEtag);
  }
}
