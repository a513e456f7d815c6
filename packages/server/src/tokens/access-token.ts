import { randomUUID } from "node:crypto";
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, DEFAULT_CLIENT_ID, MAX_TOKEN_LENGTH } from "@hush/protocol";
import { type JWTHeaderParameters, errors as joseErrors, jwtVerify } from "jose";
import { type ResolvedOptions, SIGNING_ALGORITHMS } from "../config/options.js";
import { invalidToken } from "../errors.js";
import type { KeyRing } from "../keys/key-ring.js";
import { EncodedHeader, signCompactJws } from "./jws-signer.js";

/** Claims a hook may not set: the ones that make the token what it is. */
const REGISTERED_CLAIMS = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "iat",
  "nbf",
  "jti",
  "sid",
  "client_id",
  "typ",
  "auth_time",
  "sst",
  "email_verified",
  "amr",
]);

/** Leeway for `exp`/`iat` when the server checks its own tokens, in seconds. */
const VERIFY_LEEWAY_SECONDS = 5;

export interface IssuedAccessToken {
  token: string;
  /** Lifetime in seconds, as put in the token response's `expiresIn`. */
  expiresIn: number;
  /** The claims signed into `token`. */
  claims: AccessTokenClaims;
}

/** Whom an access token is for. */
type TokenUser = { id: string; email: string; securityStamp: number; emailVerifiedAt: number | null };
/** The session an access token belongs to, and how its user signed in. */
type TokenSession = { sessionId: string; authTime: number; amr: readonly string[] };

/** Issues and checks the RFC 9068 access tokens of docs/api.md, Tokens with the key ring's current key. */
export class AccessTokens {
  private readonly headers = new Map<string, EncodedHeader>();

  constructor(
    private readonly keys: KeyRing,
    private readonly options: ResolvedOptions,
  ) {}

  /** Signs an access token for a user's session, with any claims the application's hook adds. */
  async issue(user: TokenUser, session: TokenSession, now: number): Promise<IssuedAccessToken> {
    // Without a hook nothing is awaited: a refresh is signed in the same turn as it was decided.
    const hook = this.options.accessTokenClaims;
    return this.sign(user, session, now, hook ? await hook({ id: user.id, email: user.email }) : undefined);
  }

  private sign(user: TokenUser, session: TokenSession, now: number, extra: Record<string, unknown> | undefined): IssuedAccessToken {
    const key = this.keys.signingKey(now);
    const iat = Math.floor(now / 1000);
    const exp = iat + this.options.accessTokenTtlSeconds;
    const claims: Record<string, unknown> = {};
    if (extra) for (const [name, value] of Object.entries(extra)) if (!REGISTERED_CLAIMS.has(name)) claims[name] = value;
    const audience = this.options.audience.length === 1 ? this.options.audience[0] : [...this.options.audience];
    const payload = {
      ...claims,
      iss: this.options.issuer,
      sub: user.id,
      aud: audience,
      iat,
      exp,
      // randomUUID draws from a cached entropy pool: cheaper per token than randomBytes.
      jti: randomUUID(),
      sid: session.sessionId,
      client_id: DEFAULT_CLIENT_ID,
      auth_time: Math.floor(session.authTime / 1000),
      amr: [...session.amr],
      sst: user.securityStamp,
      email_verified: user.emailVerifiedAt !== null,
    };
    const token = signCompactJws(key.alg, key.privateKey, this.headerOf(key), payload);
    return { token, expiresIn: this.options.accessTokenTtlSeconds, claims: payload as AccessTokenClaims };
  }

  /** The key's JWS header, encoded once: it never changes for a key. */
  private headerOf(key: { alg: string; kid: string }): EncodedHeader {
    let header = this.headers.get(key.kid);
    if (!header) {
      header = new EncodedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE });
      this.headers.set(key.kid, header);
    }
    return header;
  }

  /**
   * Verifies an access token presented to the auth server itself. Every failure is
   * `invalid_token`: the algorithm comes from the key the `kid` selects, never from the token.
   */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const result = await this.check(token, now);
    if (result.ok) return result.claims;
    throw invalidToken(result.expired ? "The access token has expired." : undefined);
  }

  /** Like `verify`, but tells an expired (otherwise genuine) token from an invalid one. */
  async check(token: string, now: number): Promise<{ ok: true; claims: AccessTokenClaims } | { ok: false; expired: boolean }> {
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, expired: false };
    try {
      const { payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          const key = header.kid ? this.keys.verificationKey(header.kid, now) : undefined;
          if (!key || key.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey();
          return key.verifyKey;
        },
        {
          issuer: this.options.issuer,
          audience: [...this.options.audience],
          typ: ACCESS_TOKEN_TYPE,
          // Each key is bound to its own algorithm in the resolver above; this list only
          // keeps jose from considering anything else (`none`, a mismatched family).
          algorithms: [...SIGNING_ALGORITHMS],
          requiredClaims: ["sub", "sid", "jti", "iat", "exp", "client_id"],
          clockTolerance: VERIFY_LEEWAY_SECONDS,
          currentDate: new Date(now),
          maxTokenAge: this.options.accessTokenTtlSeconds + VERIFY_LEEWAY_SECONDS,
        },
      );
      if (typeof payload.sid !== "string" || typeof payload.sub !== "string") return { ok: false, expired: false };
      return { ok: true, claims: payload as AccessTokenClaims };
    } catch (error) {
      // jose checks the signature before the times, so "expired" here means genuine but old.
      return {
        ok: false,
        expired: error instanceof joseErrors.JWTExpired || (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === "iat"),
      };
    }
  }
}
