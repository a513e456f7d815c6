import { createSecretKey } from "node:crypto";
import { REFRESH_TOKEN_TYPE } from "@hush/protocol";
import { jwtVerify } from "jose";
import { deriveKey } from "../keys/derive-key.js";
import { signCompactJws } from "./jws-signer.js";

/** What a stateless refresh token carries. Times in seconds since the epoch. */
export interface StatelessRefreshClaims {
  sub: string;
  sid: string;
  /** When the user signed in: the session's absolute lifetime counts from here. */
  auth_time: number;
  /** The user's security stamp when the token was signed. */
  stamp: number;
  exp: number;
  /** How the user signed in (RFC 8176); absent in tokens from before it was recorded: `["pwd"]`. */
  amr?: string[];
}

export type StatelessVerdict =
  | { valid: true; claims: StatelessRefreshClaims }
  /** Genuine, but signed under an earlier stamp: the password changed, the user was suspended, or logged out everywhere. */
  | { valid: false; outdated: true }
  | { valid: false; outdated: false };

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * `stateless` mode's refresh tokens (docs/api.md, Tokens): HS256 JWTs with `typ: rt+jwt` and their own
 * audience, whose key is HKDF(HUSH_SECRET, user id ‖ security stamp). Changing the stamp
 * changes the key, which silently invalidates every refresh token of the user; the stamp only
 * grows, so unsuspending never revives a token that suspension killed. The key is separate
 * from every access-token key, so neither kind of token can pass for the other (RFC 8725 §3.12).
 */
export class StatelessRefreshTokens {
  private readonly audience: string;

  constructor(
    private readonly masterSecret: Uint8Array,
    private readonly issuer: string,
  ) {
    this.audience = `${issuer}#refresh`;
  }

  issue(claims: StatelessRefreshClaims, nowSeconds: number): string {
    const key = this.keyFor(claims.sub, claims.stamp);
    const payload = { iss: this.issuer, aud: this.audience, iat: nowSeconds, ...claims };
    return signCompactJws("HS256", key, { alg: "HS256", typ: REFRESH_TOKEN_TYPE }, payload);
  }

  /** The subject a token names, read without trusting it, to find whose key to check it with. */
  peek(token: string): { sub: string; stamp: number } | undefined {
    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return undefined;
    try {
      const payload: unknown = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8"));
      if (typeof payload !== "object" || payload === null) return undefined;
      const { sub, stamp } = payload as Record<string, unknown>;
      return typeof sub === "string" && Number.isSafeInteger(stamp) ? { sub, stamp: stamp as number } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Checks a token against the user's current stamp; tells an outdated genuine token from a forgery. */
  async verify(token: string, currentStamp: number, now: number): Promise<StatelessVerdict> {
    const peeked = this.peek(token);
    if (!peeked) return { valid: false, outdated: false };
    const claims = await this.check(token, peeked.sub, currentStamp, now);
    if (claims) return { valid: true, claims };
    if (peeked.stamp < currentStamp && (await this.check(token, peeked.sub, peeked.stamp, now))) {
      return { valid: false, outdated: true };
    }
    return { valid: false, outdated: false };
  }

  private async check(token: string, userId: string, stamp: number, now: number): Promise<StatelessRefreshClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.keyFor(userId, stamp), {
        algorithms: ["HS256"],
        typ: REFRESH_TOKEN_TYPE,
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: ["sub", "sid", "exp", "auth_time"],
        currentDate: new Date(now),
      });
      const { sub, sid, auth_time, stamp: claimed, exp, amr } = payload as Record<string, unknown>;
      if (
        typeof sub !== "string" ||
        typeof sid !== "string" ||
        typeof auth_time !== "number" ||
        claimed !== stamp ||
        typeof exp !== "number"
      ) {
        return undefined;
      }
      const methods = Array.isArray(amr) && amr.every((v) => typeof v === "string") ? (amr as string[]) : ["pwd"];
      return { sub, sid, auth_time, stamp, exp, amr: methods };
    } catch {
      return undefined;
    }
  }

  private keyFor(userId: string, stamp: number) {
    return createSecretKey(deriveKey(this.masterSecret, "hush/stateless-refresh/v1", `${userId}:${stamp}`));
  }
}
