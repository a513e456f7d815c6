import type { BoundKey } from "./jwk.js";
import { SharedFetch, settleBound } from "./settle.js";
import { TokenError } from "./token-error.js";

/** Where verification keys come from. `find` never trusts the token beyond its `kid`. */
export interface KeySource<K = unknown> {
  /** The key for `kid` (or the only key, when the token names none), or throws `unknown_key`. */
  find(kid: string | undefined): BoundKey<K> | Promise<BoundKey<K>>;
  /** Called with the kids that disappeared whenever the key set changes. */
  onRemoved(listener: (kids: ReadonlySet<string>) => void): void;
  /** All keys known now (for signing-list checks). */
  all(): readonly BoundKey<K>[];
}

function pick<K>(keys: readonly BoundKey<K>[], kid: string | undefined): BoundKey<K> | undefined {
  if (kid === undefined) return keys.length === 1 ? keys[0] : undefined;
  for (const key of keys) if (key.kid === kid || (key.kid === undefined && keys.length === 1)) return key;
  return undefined;
}

/**
 * Keys given in the options: a JWK Set, or HS256 secrets. Imported at once on Node; where the
 * import is asynchronous (WebCrypto), `find` waits for it once and answers at once after.
 */
export class StaticKeys<K = unknown> implements KeySource<K> {
  private keys: readonly BoundKey<K>[] = [];
  private pending: Promise<void> | undefined;

  constructor(keys: readonly BoundKey<K>[] | Promise<readonly BoundKey<K>[]>) {
    if (keys instanceof Promise) {
      this.pending = keys.then((imported) => {
        this.keys = imported;
        this.pending = undefined;
      });
    } else {
      this.keys = keys;
    }
  }

  find(kid: string | undefined): BoundKey<K> | Promise<BoundKey<K>> {
    if (this.pending) return this.pending.then(() => this.find(kid));
    const key = pick(this.keys, kid);
    if (!key) throw new TokenError("unknown_key", "no configured key matches the token's kid");
    return key;
  }

  onRemoved(): void {}

  all(): readonly BoundKey<K>[] {
    return this.keys;
  }
}

export interface RemoteJwksOptions<K> {
  url: string;
  /** Turns a fetched JWK Set into bound keys (throws on one that is not a set). */
  load: (jwks: unknown) => BoundKey<K>[] | Promise<BoundKey<K>[]>;
  /** Give up on a JWKS request after this long. */
  timeoutMs: number;
  /** Re-fetch the set this often even when every kid is known. */
  maxAgeMs: number;
  /** At most one fetch for an unknown kid per this interval (a flood of forged kids costs one fetch). */
  cooldownMs: number;
  fetch: typeof fetch;
  now: () => number;
}

/**
 * The issuer's JWKS, fetched with a timeout and cached. An unknown `kid` triggers one re-fetch
 * (shared by concurrent callers, at most once per cooldown), so a key rotation at the auth
 * server needs no restart anywhere. When a fetch fails, the last good set keeps serving.
 */
export class RemoteJwks<K = unknown> implements KeySource<K> {
  private keys: readonly BoundKey<K>[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private readonly inflight: SharedFetch;
  private readonly listeners: Array<(kids: ReadonlySet<string>) => void> = [];

  constructor(private readonly options: RemoteJwksOptions<K>) {
    this.inflight = new SharedFetch(settleBound(options.timeoutMs), `the JWKS fetch from ${options.url}`);
  }

  find(kid: string | undefined): BoundKey<K> | Promise<BoundKey<K>> {
    const now = this.options.now();
    const fresh = now - this.fetchedAt < this.options.maxAgeMs;
    const known = pick(this.keys, kid);
    if (known && fresh) return known;
    return this.findAfterFetch(kid, known);
  }

  private async findAfterFetch(kid: string | undefined, known: BoundKey<K> | undefined): Promise<BoundKey<K>> {
    const now = this.options.now();
    const mayFetch = now - this.lastAttemptAt >= this.options.cooldownMs || this.fetchedAt === Number.NEGATIVE_INFINITY;
    try {
      await (mayFetch ? this.prefetch() : this.inflight.pending);
    } catch (error) {
      if (known) return known;
      if (this.keys.length === 0)
        throw new TokenError("jwks_unavailable", `the JWKS at ${this.options.url} could not be fetched`, { cause: error });
    }
    const key = pick(this.keys, kid);
    if (!key) throw new TokenError("unknown_key", "no key of the issuer's JWKS matches the token's kid");
    return key;
  }

  private async refresh(): Promise<void> {
    this.lastAttemptAt = this.options.now();
    const response = await this.options.fetch(this.options.url, {
      signal: AbortSignal.timeout(this.options.timeoutMs),
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    const next = await this.options.load(await response.json());
    const kept = new Set(next.map((k) => k.kid));
    const removed = new Set(this.keys.map((k) => k.kid).filter((kid): kid is string => kid !== undefined && !kept.has(kid)));
    this.keys = next;
    this.fetchedAt = this.options.now();
    if (removed.size > 0) for (const listener of this.listeners) listener(removed);
  }

  onRemoved(listener: (kids: ReadonlySet<string>) => void): void {
    this.listeners.push(listener);
  }

  all(): readonly BoundKey<K>[] {
    return this.keys;
  }

  /** Fetches now, or joins the fetch under way (Node calls it at start-up, so the first request does not wait). */
  prefetch(): Promise<void> {
    return this.inflight.run(() => this.refresh());
  }
}
