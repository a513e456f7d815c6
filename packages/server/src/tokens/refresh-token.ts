import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from "node:crypto";
import { deriveKey } from "../keys/derive-key.js";
import { sha256Base64url } from "./digest.js";

/** Bytes of a refresh secret: a 128-bit body from the CSPRNG or the chain, and a 128-bit tag. */
const SECRET_BYTES = 32;
const BODY_BYTES = 16;
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
  return sha256Base64url(secret);
}

/** Compares two stored hashes in constant time. */
export function sameHash(a: string, b: string | null): boolean {
  if (b === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * The chain of a session's refresh secrets. Each secret is a body and a tag:
 * - the first body is random; each next body is derived, HMAC(chainKey, sessionId ‖ secret),
 *   so every concurrent presenter of one token computes the same successor without the server
 *   storing it (only hashes are stored), and a retired ancestor is recognised by walking its
 *   chain forward;
 * - the tag is HMAC(tagKey, sessionId ‖ body): only this server can make one, so a forged
 *   secret is refused after one HMAC, and the walk — whose length grows with the session's
 *   age — is spent only on secrets this server really issued. A genuine old token can cause
 *   one walk per session: the walk ends the session.
 * Without HUSH_SECRET nobody can compute a successor or a tag.
 */
export class RefreshChain {
  // KeyObjects, imported once: an HMAC from raw key bytes imports the key again every time.
  private readonly chainKey: KeyObject;
  private readonly tagKey: KeyObject;

  constructor(masterSecret: Uint8Array) {
    this.chainKey = createSecretKey(deriveKey(masterSecret, "hush/refresh-chain/v1"));
    this.tagKey = createSecretKey(deriveKey(masterSecret, "hush/refresh-tag/v1"));
  }

  /** The first secret of a new session: a random body and its tag. */
  first(sessionId: string): Uint8Array {
    return this.withTag(sessionId, new Uint8Array(randomBytes(BODY_BYTES)));
  }

  successor(sessionId: string, secret: Uint8Array): Uint8Array {
    const body = createHmac("sha256", this.chainKey).update(sessionId).update(".").update(secret).digest().subarray(0, BODY_BYTES);
    return this.withTag(sessionId, new Uint8Array(body));
  }

  /** True when this server issued `secret` for this session (its tag matches its body). */
  isGenuine(sessionId: string, secret: Uint8Array): boolean {
    if (secret.byteLength !== SECRET_BYTES) return false;
    const expected = this.tag(sessionId, secret.subarray(0, BODY_BYTES));
    return timingSafeEqual(expected, secret.subarray(BODY_BYTES));
  }

  /**
   * Walks forward from `secret` until a link hashes to `targetHash`: returns that link and how
   * many steps it took, or `undefined` within `maxSteps`. Two HMACs and a SHA-256 per step.
   */
  walkTo(sessionId: string, secret: Uint8Array, targetHash: string, maxSteps: number): { link: Uint8Array; steps: number } | undefined {
    let link = secret;
    for (let steps = 1; steps <= maxSteps; steps++) {
      link = this.successor(sessionId, link);
      if (sameHash(hashRefreshSecret(link), targetHash)) return { link, steps };
    }
    return undefined;
  }

  private withTag(sessionId: string, body: Uint8Array): Uint8Array {
    const secret = new Uint8Array(SECRET_BYTES);
    secret.set(body);
    secret.set(this.tag(sessionId, body), BODY_BYTES);
    return secret;
  }

  private tag(sessionId: string, body: Uint8Array): Uint8Array {
    return createHmac("sha256", this.tagKey)
      .update(sessionId)
      .update(".")
      .update(body)
      .digest()
      .subarray(0, SECRET_BYTES - BODY_BYTES);
  }
}
