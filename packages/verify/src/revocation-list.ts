import { REVOCATION_LIST_TYPE } from "@hush/protocol";
import { type Base64urlDecoder, parseCompact } from "./compact.js";
import type { BoundKey } from "./jwk.js";
import type { KeySource } from "./key-source.js";
import { SharedFetch, settleBound } from "./settle.js";
import { TokenError } from "./token-error.js";

/** Default `maxListBytes`: 32 MiB, room for about 450,000 revoked sessions (100,000 take about 6.9 MB). */
export const DEFAULT_MAX_LIST_BYTES = 32 * 1024 * 1024;

export interface RevocationOptions {
  /** How often to poll the feed, in seconds. */
  pollSeconds: number;
  /** The feed's URL. Default: the issuer's `/auth/revocations`. */
  url?: string;
  /**
   * Largest list accepted, in bytes of the compact JWT after HTTP decompression. A limit of its
   * own: access tokens keep theirs (8 KiB, `MAX_TOKEN_LENGTH`). A larger list is refused (and
   * warned about), and a warning says when a list passes half of it. Default 33,554,432 (32 MiB).
   */
  maxListBytes?: number;
  /**
   * Seconds the verifier may go without a fresh list — a verified list or delta, or a `304` for
   * the unexpired list it holds — before `whenStale` applies; counted from creation until the
   * first list. Default the larger of 60 and three times `pollSeconds`.
   */
  maxStaleSeconds?: number;
  /**
   * What a stale verifier does. `"accept"` (default): it keeps verifying against the last good
   * list (a logout after that is not seen). `"reject"`: every token is refused with code
   * `revoked` (`401 invalid_token` at a guard) until a fresh list arrives — fail closed. Either
   * way one warning when it goes stale and one when it is fresh again, and
   * `verify.revocations.stale` / `.staleSeconds` say so.
   */
  whenStale?: "reject" | "accept";
}

/** The state of a verifier's revocation list (`verify.revocations`), for health checks and metrics. */
export interface RevocationStatus {
  /** Sessions listed (entries not yet past their `until` at the last list). */
  readonly size: number;
  /** `iat` of the newest list or delta applied, in seconds since the epoch; undefined before the first. */
  readonly iat: number | undefined;
  /** Seconds since the last fresh list (from creation before the first). */
  readonly staleSeconds: number;
  /** True while `staleSeconds` is over `maxStaleSeconds`. */
  readonly stale: boolean;
  /** Full lists applied. */
  readonly fullLists: number;
  /** Deltas (`?since=`) applied. */
  readonly deltas: number;
  /** `304 Not Modified` answers that confirmed the list held. */
  readonly notModified: number;
  /** Polls that failed: unreachable, an error status, too large, badly signed, expired or older. */
  readonly failures: number;
  /** Lists or deltas refused because their `iat` is older than the list held (a replay, a lagging instance). */
  readonly refusedOlder: number;
  /** Tokens refused because the list was stale and `whenStale` is `"reject"`. */
  readonly staleRejections: number;
}

/** Resolved options of a `RevocationList`, and the runtime's crypto. */
export interface RevocationSettings<K = unknown> {
  pollSeconds: number;
  maxListBytes: number;
  maxStaleSeconds: number;
  whenStale: "reject" | "accept";
  timeoutMs: number;
  fetch: typeof fetch;
  now: () => number;
  onWarning: (message: string) => void;
  /** The runtime's signature check (synchronous on Node, a promise with WebCrypto). */
  verifySignature: (key: BoundKey<K>, signingInput: string, signature: Uint8Array) => boolean | Promise<boolean>;
  decode: Base64urlDecoder;
}

interface VerifiedList {
  iat: number;
  exp: number;
  /** Present on a delta: the oldest `iat` of a list it may be merged into. */
  since: number | undefined;
  revoked: unknown[];
}

/** A list or delta that is validly signed but older than the list held: refused, never applied. */
class OlderListError extends Error {}

/**
 * Polls the auth server's signed revocation list (`GET /auth/revocations`, a `typ: rl+jwt`
 * JWT) in the background and answers, per request and without I/O, whether a session was
 * revoked. After the first full list it asks only for what is new (`?since=<iat held>`, a
 * signed delta) and sends `If-None-Match`. Lists are merged: an entry leaves only when its
 * `until` passes, so no list — a replayed one included — can un-revoke a session, and a list
 * older than the one held is refused outright. A feed that fails leaves the last good list in
 * force, says so once per outage through `onWarning`, and past `maxStaleSeconds` does what
 * `whenStale` says.
 *
 * Polls are started by `start()` (a timer: Node) or by `pollIfDue()` on each verification
 * (runtimes whose isolates may not keep timers or do I/O outside a request: the edge entry).
 */
export class RevocationList<K = unknown> {
  private readonly revoked = new Map<string, number>();
  private held: { iat: number; exp: number; etag: string | undefined } | undefined;
  /** Set when a delta could not be applied: the next poll asks for the full list. */
  private needFull = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private lastPollStartedAt = Number.NEGATIVE_INFINITY;
  private started = false;
  /** The first poll started by `pollIfDue`, until it has settled. */
  private first: Promise<void> | undefined;
  private readonly inflight: SharedFetch;
  private failing = false;
  private staleWarned = false;
  private sizeWarned = false;
  private lastFreshAt: number;
  private readonly maxStaleMs: number;
  private readonly counts = { fullLists: 0, deltas: 0, notModified: 0, failures: 0, refusedOlder: 0, staleRejections: 0 };
  /** A live, read-only view of the list's state. */
  readonly status: RevocationStatus;

  constructor(
    private readonly url: string,
    private readonly issuer: string,
    private readonly keys: KeySource<K>,
    private readonly settings: RevocationSettings<K>,
  ) {
    this.lastFreshAt = settings.now();
    this.maxStaleMs = settings.maxStaleSeconds * 1000;
    this.inflight = new SharedFetch(settleBound(settings.timeoutMs), `the revocation feed poll of ${url}`);
    const list = this;
    const counts = this.counts;
    this.status = Object.freeze({
      get size() {
        return list.revoked.size;
      },
      get iat() {
        return list.held?.iat;
      },
      get staleSeconds() {
        return Math.max(0, settings.now() - list.lastFreshAt) / 1000;
      },
      get stale() {
        return settings.now() - list.lastFreshAt > list.maxStaleMs;
      },
      get fullLists() {
        return counts.fullLists;
      },
      get deltas() {
        return counts.deltas;
      },
      get notModified() {
        return counts.notModified;
      },
      get failures() {
        return counts.failures;
      },
      get refusedOlder() {
        return counts.refusedOlder;
      },
      get staleRejections() {
        return counts.staleRejections;
      },
    });
  }

  /**
   * Polls now and then every `pollSeconds` on a timer that does not keep the process alive.
   * Resolves after the first poll, successful or not.
   */
  start(): Promise<void> {
    const first = this.pollIfDue() ?? Promise.resolve();
    this.timer ??= setInterval(() => void this.poll(), this.settings.pollSeconds * 1000);
    (this.timer as { unref?: () => void }).unref?.();
    return first;
  }

  /**
   * Starts a poll when none has started for `pollSeconds` (nor ever); no timer, no I/O
   * otherwise. Returns the first poll while it is still under way, for the caller to wait on:
   * a verifier then never answers from before its first list (nor waits for it longer than
   * `fetchTimeoutMs` + 1 s, see `settle.ts`). Later polls run in the background.
   */
  pollIfDue(): Promise<void> | undefined {
    if (this.stopped) return undefined;
    const now = this.settings.now();
    if (now - this.lastPollStartedAt >= this.settings.pollSeconds * 1000) {
      this.lastPollStartedAt = now;
      const poll = this.poll();
      if (!this.started) {
        this.started = true;
        this.first = poll;
        void poll.then(() => {
          this.first = undefined;
        });
      }
    }
    return this.first;
  }

  /**
   * Throws `revoked` when `sid`'s access tokens are listed, and for every token while the list
   * is stale under `whenStale: "reject"`. A comparison and a map lookup: no I/O.
   */
  check(sid: string | undefined, nowSeconds: number): void {
    const nowMs = nowSeconds * 1000;
    if (nowMs - this.lastFreshAt > this.maxStaleMs) {
      this.noteStale(nowMs);
      if (this.settings.whenStale === "reject") {
        this.counts.staleRejections += 1;
        throw new TokenError("revoked", "the revocation list is stale: every token is refused until a fresh one arrives");
      }
    }
    if (sid === undefined) return;
    const until = this.revoked.get(sid);
    if (until !== undefined && until > nowSeconds) throw new TokenError("revoked", "the token's session has been revoked");
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /**
   * Fetches and applies the feed once (concurrent callers share one request). Never throws,
   * and settles within `fetchTimeoutMs` and a margin even if the request never does.
   */
  poll(): Promise<void> {
    this.lastPollStartedAt = Math.max(this.lastPollStartedAt, this.settings.now());
    return this.inflight.run(() => this.pollOnce()).catch(() => undefined);
  }

  private async pollOnce(): Promise<void> {
    const nowMs = this.settings.now();
    try {
      const held = this.held;
      const url = new URL(this.url);
      if (held && !this.needFull) url.searchParams.set("since", String(held.iat));
      const headers: Record<string, string> = { accept: "application/jwt" };
      // A 304 renews only a list that has not expired: past its exp, ask for a signed one.
      const conditional = held?.etag !== undefined && held.exp > nowMs / 1000;
      if (conditional) headers["if-none-match"] = held.etag as string;
      const response = await this.settings.fetch(url.href, { headers, signal: AbortSignal.timeout(this.settings.timeoutMs) });
      if (response.status === 304 && conditional) {
        this.counts.notModified += 1;
        return this.fresh(nowMs);
      }
      if (response.status !== 200) throw new Error(`the feed answered ${response.status}`);
      const jwt = (await readBounded(response, this.settings.maxListBytes)).trim();
      const list = await this.verifyList(jwt, nowMs / 1000);
      // Monotonic: a list older than the one held (replayed, cached, from a lagging instance)
      // is refused, never applied, and the held list stays.
      if (held && list.iat < held.iat) {
        this.counts.refusedOlder += 1;
        throw new OlderListError(`a list issued at ${list.iat}, older than the list held (issued at ${held.iat})`);
      }
      if (list.since !== undefined && (held === undefined || list.since > held.iat)) {
        this.needFull = true;
        throw new Error(`a delta since ${list.since} does not apply to the list held (issued at ${held?.iat ?? "never"})`);
      }
      this.merge(list.revoked, nowMs / 1000);
      this.held = { iat: list.iat, exp: list.exp, etag: response.headers.get("etag") ?? undefined };
      this.needFull = false;
      if (list.since === undefined) this.counts.fullLists += 1;
      else this.counts.deltas += 1;
      if (jwt.length > this.settings.maxListBytes / 2 && !this.sizeWarned) {
        this.sizeWarned = true;
        this.settings.onWarning(
          `hush verify: the revocation list from ${this.url} is ${jwt.length} bytes, over half of maxListBytes (${this.settings.maxListBytes}); raise it before lists are refused`,
        );
      }
      this.fresh(nowMs);
    } catch (error) {
      this.counts.failures += 1;
      if (!this.failing) {
        this.failing = true;
        this.settings.onWarning(
          `hush verify: the revocation feed at ${this.url} is unreachable or invalid (${error instanceof Error ? error.message : String(error)}); keeping the last good list of ${this.revoked.size} sessions`,
        );
      }
    } finally {
      const now = this.settings.now();
      if (now - this.lastFreshAt > this.maxStaleMs) this.noteStale(now);
    }
  }

  /** Adds entries (an entry's `until` only ever grows) and forgets those whose `until` has passed. */
  private merge(entries: unknown[], nowSeconds: number): void {
    for (const entry of entries) {
      if (typeof entry !== "object" || entry === null) continue;
      const { sid, until } = entry as Record<string, unknown>;
      if (typeof sid !== "string" || typeof until !== "number" || !(until > nowSeconds)) continue;
      const known = this.revoked.get(sid);
      if (known === undefined || until > known) this.revoked.set(sid, until);
    }
    for (const [sid, until] of this.revoked) if (until <= nowSeconds) this.revoked.delete(sid);
  }

  private fresh(nowMs: number): void {
    const staleFor = (nowMs - this.lastFreshAt) / 1000;
    this.lastFreshAt = nowMs;
    if (this.failing) this.settings.onWarning(`hush verify: the revocation feed at ${this.url} is reachable again`);
    this.failing = false;
    if (this.staleWarned) {
      this.staleWarned = false;
      this.settings.onWarning(`hush verify: the revocation list from ${this.url} is fresh again after ${Math.round(staleFor)} s`);
    }
  }

  /** Warns once per stale spell. */
  private noteStale(nowMs: number): void {
    if (this.staleWarned) return;
    this.staleWarned = true;
    const seconds = Math.round((nowMs - this.lastFreshAt) / 1000);
    const what =
      this.settings.whenStale === "reject"
        ? `rejecting every token until one arrives (whenStale: "reject")`
        : `still accepting tokens, checked against the last good list of ${this.revoked.size} sessions (whenStale: "accept")`;
    this.settings.onWarning(
      `hush verify: no fresh revocation list from ${this.url} for ${seconds} s (over maxStaleSeconds, ${this.settings.maxStaleSeconds} s); ${what}`,
    );
  }

  private async verifyList(jwt: string, nowSeconds: number): Promise<VerifiedList> {
    const parsed = parseCompact(jwt, this.settings.decode, this.settings.maxListBytes);
    const { header, payload } = parsed;
    if (typeof header.typ !== "string" || header.typ.toLowerCase() !== REVOCATION_LIST_TYPE) throw new Error("not a revocation list (typ)");
    const key = await this.keys.find(typeof header.kid === "string" ? header.kid : undefined);
    if (header.alg !== key.alg || !(await this.settings.verifySignature(key, parsed.signingInput, parsed.signature)))
      throw new Error("bad signature");
    if (payload.iss !== this.issuer) throw new Error("wrong issuer");
    if (typeof payload.exp !== "number" || payload.exp < nowSeconds) throw new Error("expired list");
    if (typeof payload.iat !== "number" || !Number.isFinite(payload.iat)) throw new Error("no iat");
    if (payload.since !== undefined && (typeof payload.since !== "number" || !Number.isFinite(payload.since)))
      throw new Error("since is not a number");
    if (!Array.isArray(payload.revoked)) throw new Error("no revoked array");
    return { iat: payload.iat, exp: payload.exp, since: payload.since, revoked: payload.revoked };
  }
}

/** Reads a body up to `maxBytes` (after decompression), refusing more without buffering it. */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (!response.headers.has("content-encoding") && declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`the list is ${declared} bytes, over maxListBytes (${maxBytes})`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const text = new TextDecoder();
  const parts: string[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`the list is over maxListBytes (${maxBytes})`);
    }
    parts.push(text.decode(value, { stream: true }));
  }
  parts.push(text.decode());
  return parts.join("");
}
