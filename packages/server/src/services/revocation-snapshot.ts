import type { Storage } from "../storage/contract.js";

/** One revoked session exactly as the feed publishes it (`revoked: [{sid, until}]`). */
export interface RevocationEntry {
  readonly sid: string;
  /** Seconds since the epoch: when the session's last access token expires (reuse grace included). */
  readonly until: number;
}

/**
 * Successive reads overlap by this much: a row's `revoked_at` is stamped by the revoking
 * instance (its clock) before its transaction commits, so a row can appear in the table with
 * a time slightly before the previous read.
 */
const READ_OVERLAP_MS = 10_000;
/**
 * The whole table is read again this often: a safety net for a row an incremental read missed
 * (an instance's clock far behind, a transaction longer than the overlap), which is then
 * published as new, at most this late. At 100,000 rows a full read costs about as much as 60
 * incremental ones (docs/benchmarks.md).
 */
const FULL_READ_MS = 5 * 60_000;
const DIGEST_MODULUS = 2 ** 48;

/** FNV-1a (32 bits) of a sid: summed, an order-independent digest of the listed set, for ETags. */
function sidDigest(sid: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sid.length; i++) hash = Math.imul(hash ^ sid.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * This instance's copy of the revocations table, kept current with small incremental reads
 * (`listRevokedSince`) and an occasional full read. It remembers when it first saw each entry,
 * so that the feed can serve "what is new since the list you hold" from memory, for any number
 * of pollers, without a query per poller. Entries leave only when their `until` passes.
 */
export class RevocationSnapshot {
  private readonly sids = new Set<string>();
  /** The entries in the order first seen; `seenAt[i]` (ascending) is when `order[i]` was, in ms of this instance's clock. */
  private order: RevocationEntry[] = [];
  private seenAt: number[] = [];
  private earliestUntil = Number.POSITIVE_INFINITY;
  private lastReadAt: number | undefined;
  private lastFullReadAt: number | undefined;
  /** Sum of the entries' digests, modulo 2^48. */
  private digestSum = 0;

  constructor(
    private readonly storage: Storage,
    private readonly graceMs: number,
  ) {}

  /** Entries listed now (`until` not yet passed at the last read). */
  get size(): number {
    return this.sids.size;
  }

  /** When the last read was (as `seenAt`): every entry seen so far was seen at or before it. */
  get seenUpTo(): number {
    return this.lastReadAt ?? Number.NEGATIVE_INFINITY;
  }

  /** An order-independent digest of the listed sids and their number, for ETags. */
  get digest(): string {
    return `${this.sids.size}.${this.digestSum}`;
  }

  /** Brings the copy up to date with the database at `now`; returns how many entries are new. */
  async read(now: number): Promise<number> {
    const full =
      this.lastReadAt === undefined ||
      this.lastFullReadAt === undefined ||
      now - this.lastFullReadAt >= FULL_READ_MS ||
      now < this.lastReadAt;
    const rows = full
      ? await this.storage.listRecentlyRevoked(now)
      : await this.storage.listRevokedSince((this.lastReadAt as number) - READ_OVERLAP_MS, now);
    // `seenAt` never goes backwards, even if the clock does: deltas rely on its order.
    const seenAt = Math.max(now, this.lastReadAt ?? now);
    let added = 0;
    for (const row of rows) {
      if (this.sids.has(row.sessionId)) continue;
      // Tokens issued inside the reuse grace can outlive the recorded expiry by the grace.
      const entry: RevocationEntry = { sid: row.sessionId, until: Math.ceil((row.accessExpiresAt + this.graceMs) / 1000) };
      this.sids.add(entry.sid);
      this.order.push(entry);
      this.seenAt.push(seenAt);
      this.digestSum = (this.digestSum + sidDigest(entry.sid)) % DIGEST_MODULUS;
      if (entry.until < this.earliestUntil) this.earliestUntil = entry.until;
      added += 1;
    }
    this.forgetExpired(now / 1000);
    if (full) this.lastFullReadAt = now;
    this.lastReadAt = seenAt;
    return added;
  }

  /** Every listed entry whose `until` is after `nowSeconds`, in the order first seen. */
  all(nowSeconds: number): RevocationEntry[] {
    return this.order.filter((e) => e.until > nowSeconds);
  }

  /**
   * The listed entries first seen at or after `fromMs` (after it, when `exclusive`) whose
   * `until` is after `nowSeconds`.
   */
  seenSince(fromMs: number, nowSeconds: number, exclusive = false): RevocationEntry[] {
    // Binary search: `seenAt` is ascending.
    let low = 0;
    let high = this.seenAt.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const seenAt = this.seenAt[mid] as number;
      if (seenAt < fromMs || (exclusive && seenAt === fromMs)) low = mid + 1;
      else high = mid;
    }
    const found: RevocationEntry[] = [];
    for (let i = low; i < this.order.length; i++) {
      const entry = this.order[i] as RevocationEntry;
      if (entry.until > nowSeconds) found.push(entry);
    }
    return found;
  }

  private forgetExpired(nowSeconds: number): void {
    if (this.earliestUntil > nowSeconds) return;
    const order: RevocationEntry[] = [];
    const seenAt: number[] = [];
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.order.length; i++) {
      const entry = this.order[i] as RevocationEntry;
      if (entry.until > nowSeconds) {
        order.push(entry);
        seenAt.push(this.seenAt[i] as number);
        if (entry.until < earliest) earliest = entry.until;
      } else {
        this.sids.delete(entry.sid);
        this.digestSum = (this.digestSum - sidDigest(entry.sid) + DIGEST_MODULUS) % DIGEST_MODULUS;
      }
    }
    this.order = order;
    this.seenAt = seenAt;
    this.earliestUntil = earliest;
  }
}
