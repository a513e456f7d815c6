import type { AccessTokenClaims } from "@hush/protocol";

interface Entry {
  claims: Readonly<AccessTokenClaims>;
  kid: string | undefined;
}

/**
 * Verified tokens, keyed by the exact token string: an access token is sent many times in its
 * life, and its signature need be checked once. Only tokens that passed every check get in, so
 * an attacker cannot fill it with forged entries; it is bounded (oldest out first), and entries
 * of a key that left the JWKS are dropped. Time and revocation are still checked on every hit.
 */
export class VerifiedCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number) {}

  get(token: string): Entry | undefined {
    return this.entries.get(token);
  }

  set(token: string, entry: Entry): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  /** Drops every entry verified with one of these keys. */
  dropKeys(kids: ReadonlySet<string>): void {
    for (const [token, entry] of this.entries) if (entry.kid !== undefined && kids.has(entry.kid)) this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
