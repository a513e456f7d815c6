import { REVOCATION_LIST_TYPE } from "@hush/protocol";
import type { BoundKey } from "./algorithms.js";
import { verifySignature } from "./algorithms.js";
import { parseCompact } from "./compact.js";
import type { KeySource } from "./key-source.js";

export interface RevocationOptions {
  /** How often to poll the feed, in seconds. */
  pollSeconds: number;
  /** The feed's URL. Default: the issuer's `/auth/revocations`. */
  url?: string;
}

/**
 * Polls the auth server's signed revocation list (`GET /auth/revocations`, a `typ: rl+jwt`
 * JWT) in the background and answers, per request and without I/O, whether a session was
 * revoked. A feed that cannot be fetched or verified leaves the last good list in force, and
 * says so once per outage through `onWarning`.
 */
export class RevocationList {
  private revoked = new Map<string, number>();
  private etag: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** Resolves after the first poll, successful or not. */
  readonly ready: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly issuer: string,
    private readonly keys: KeySource,
    private readonly settings: {
      pollSeconds: number;
      timeoutMs: number;
      fetch: typeof fetch;
      now: () => number;
      onWarning: (message: string) => void;
    },
  ) {
    this.ready = this.poll();
    this.timer = setInterval(() => void this.poll(), settings.pollSeconds * 1000);
    this.timer.unref();
  }

  /** True while `sid`'s access tokens are listed as revoked. */
  has(sid: string, nowSeconds: number): boolean {
    const until = this.revoked.get(sid);
    return until !== undefined && until > nowSeconds;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Fetches and verifies the feed once. Never throws. */
  async poll(): Promise<void> {
    try {
      const headers: Record<string, string> = { accept: "application/jwt" };
      if (this.etag) headers["if-none-match"] = this.etag;
      const response = await this.settings.fetch(this.url, { headers, signal: AbortSignal.timeout(this.settings.timeoutMs) });
      if (response.status === 304) return this.recovered();
      if (!response.ok) throw new Error(`the feed answered ${response.status}`);
      const jwt = (await response.text()).trim();
      this.revoked = await this.verifyList(jwt);
      this.etag = response.headers.get("etag") ?? undefined;
      this.recovered();
    } catch (error) {
      if (!this.failing) {
        this.failing = true;
        this.settings.onWarning(
          `hush verify: the revocation feed at ${this.url} is unreachable or invalid (${error instanceof Error ? error.message : String(error)}); keeping the last good list of ${this.revoked.size} sessions`,
        );
      }
    }
  }

  private recovered(): void {
    if (this.failing) this.settings.onWarning(`hush verify: the revocation feed at ${this.url} is reachable again`);
    this.failing = false;
  }

  private async verifyList(jwt: string): Promise<Map<string, number>> {
    const parsed = parseCompact(jwt);
    const { header, payload } = parsed;
    if (typeof header.typ !== "string" || header.typ.toLowerCase() !== REVOCATION_LIST_TYPE) throw new Error("not a revocation list (typ)");
    const key: BoundKey = await this.keys.find(typeof header.kid === "string" ? header.kid : undefined);
    if (header.alg !== key.alg || !verifySignature(key, parsed.signingInput, parsed.signature)) throw new Error("bad signature");
    const nowSeconds = this.settings.now() / 1000;
    if (payload.iss !== this.issuer) throw new Error("wrong issuer");
    if (typeof payload.exp !== "number" || payload.exp < nowSeconds) throw new Error("expired list");
    if (!Array.isArray(payload.revoked)) throw new Error("no revoked array");
    const revoked = new Map<string, number>();
    for (const entry of payload.revoked as unknown[]) {
      if (typeof entry !== "object" || entry === null) continue;
      const { sid, until } = entry as Record<string, unknown>;
      if (typeof sid === "string" && typeof until === "number") revoked.set(sid, until);
    }
    return revoked;
  }
}
