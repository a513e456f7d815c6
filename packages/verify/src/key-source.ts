import { type Algorithm, type BoundKey, importJwks } from "./algorithms.js";
import { TokenError } from "./token-error.js";

/** Where verification keys come from. `find` never trusts the token beyond its `kid`. */
export interface KeySource {
  /** The key for `kid` (or the only key, when the token names none), or throws `unknown_key`. */
  find(kid: string | undefined): BoundKey | Promise<BoundKey>;
  /** Called with the kids that disappeared whenever the key set changes. */
  onRemoved(listener: (kids: ReadonlySet<string>) => void): void;
  /** All keys known now (for signing-list checks). */
  all(): readonly BoundKey[];
}

function pick(keys: readonly BoundKey[], kid: string | undefined): BoundKey | undefined {
  if (kid === undefined) return keys.length === 1 ? keys[0] : undefined;
  for (const key of keys) if (key.kid === kid || (key.kid === undefined && keys.length === 1)) return key;
  return undefined;
}

/** Keys given in the options: a JWK Set, or HS256 secrets. */
export class StaticKeys implements KeySource {
  constructor(private readonly keys: readonly BoundKey[]) {}

  find(kid: string | undefined): BoundKey {
    const key = pick(this.keys, kid);
    if (!key) throw new TokenError("unknown_key", "no configured key matches the token's kid");
    return key;
  }

  onRemoved(): void {}

  all(): readonly BoundKey[] {
    return this.keys;
  }
}

export interface RemoteJwksOptions {
  url: string;
  algorithms: ReadonlySet<Algorithm>;
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
export class RemoteJwks implements KeySource {
  private keys: readonly BoundKey[] = [];
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private readonly listeners: Array<(kids: ReadonlySet<string>) => void> = [];

  constructor(private readonly options: RemoteJwksOptions) {}

  find(kid: string | undefined): BoundKey | Promise<BoundKey> {
    const now = this.options.now();
    const fresh = now - this.fetchedAt < this.options.maxAgeMs;
    const known = pick(this.keys, kid);
    if (known && fresh) return known;
    return this.findAfterFetch(kid, known);
  }

  private async findAfterFetch(kid: string | undefined, known: BoundKey | undefined): Promise<BoundKey> {
    const now = this.options.now();
    if (now - this.lastAttemptAt >= this.options.cooldownMs || this.fetchedAt === Number.NEGATIVE_INFINITY) {
      this.inflight ??= this.refresh().finally(() => {
        this.inflight = undefined;
      });
    }
    try {
      await this.inflight;
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
    const next = importJwks(await response.json(), this.options.algorithms);
    const kept = new Set(next.map((k) => k.kid));
    const removed = new Set(this.keys.map((k) => k.kid).filter((kid): kid is string => kid !== undefined && !kept.has(kid)));
    this.keys = next;
    this.fetchedAt = this.options.now();
    if (removed.size > 0) for (const listener of this.listeners) listener(removed);
  }

  onRemoved(listener: (kids: ReadonlySet<string>) => void): void {
    this.listeners.push(listener);
  }

  all(): readonly BoundKey[] {
    return this.keys;
  }

  /** Fetches now (used at start-up so the first request does not wait). */
  prefetch(): Promise<void> {
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }
}
