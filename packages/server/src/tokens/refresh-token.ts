import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { deriveKey } from "../keys/derive-key.js";

/** Bytes of a refresh secret: 256 bits from the CSPRNG. */
const SECRET_BYTES = 32;
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A rotating refresh token split into its parts: `<sessionId>.<secret>`. */
export interface OpaqueRefreshToken {
  sessionId: string;
  secret: Uint8Array;
}

/** A new session id: 128 random bits, base64url. It is the `sid` of the session's access tokens. */
export function newSessionId(): string {
  return randomBytes(16).toString("base64url");
}

/** A new random refresh secret, the first of a session's chain. */
export function newRefreshSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES));
}

export function formatRefreshToken(sessionId: string, secret: Uint8Array): string {
  return `${sessionId}.${Buffer.from(secret).toString("base64url")}`;
}

/** Parses `<sessionId>.<secret>` strictly; anything else is `undefined`. */
export function parseRefreshToken(text: string): OpaqueRefreshToken | undefined {
  const dot = text.indexOf(".");
  if (dot < 0) return undefined;
  const sessionId = text.slice(0, dot);
  const secret = text.slice(dot + 1);
  if (!SESSION_ID_PATTERN.test(sessionId) || !SECRET_PATTERN.test(secret)) return undefined;
  return { sessionId, secret: new Uint8Array(Buffer.from(secret, "base64url")) };
}

/** What the database keeps of a secret: SHA-256, base64url. A leaked row cannot be replayed as a cookie. */
export function hashRefreshSecret(secret: Uint8Array): string {
  return createHash("sha256").update(secret).digest("base64url");
}

/** Compares two stored hashes in constant time. */
export function sameHash(a: string, b: string | null): boolean {
  if (b === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * The successor of each refresh secret is derived, not drawn: HMAC(key, sessionId ‖ secret).
 * So every concurrent presenter of one token computes the same successor without the server
 * storing it (only hashes are stored), and a retired ancestor can be recognised by walking its
 * chain forward. Without HUSH_SECRET nobody can compute a successor.
 */
export class RefreshChain {
  private readonly key: Uint8Array;

  constructor(masterSecret: Uint8Array) {
    this.key = deriveKey(masterSecret, "hush/refresh-chain/v1");
  }

  successor(sessionId: string, secret: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac("sha256", this.key).update(sessionId).update(".").update(secret).digest());
  }

  /**
   * True when `secret` is an earlier link of a chain whose link retired last has hash
   * `retiredHash`: at most `maxSteps` HMACs, spent only on tokens that failed every cheap check.
   */
  isAncestorOf(sessionId: string, secret: Uint8Array, retiredHash: string, maxSteps: number): boolean {
    let link = secret;
    for (let step = 0; step < maxSteps; step++) {
      link = this.successor(sessionId, link);
      if (sameHash(hashRefreshSecret(link), retiredHash)) return true;
    }
    return false;
  }
}
