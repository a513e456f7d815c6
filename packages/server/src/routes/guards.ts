import type { AccessTokenClaims } from "@hush/protocol";
import type { Context } from "hono";
import { HushError } from "../http/hush-error.js";
import { checkCsrf } from "../security/csrf.js";
import type { HushEnv, ServerContext } from "../server-context.js";
import type { UserRecord } from "../storage/contract.js";
import { invalidToken } from "../tokens/access-token.js";

/** Throws `csrf_failed` unless the request passes the cookie-endpoint checks of API.md §3. */
export function requireCsrf(c: Context<HushEnv>, ctx: ServerContext): void {
  const failure = checkCsrf(c.req.raw.headers, ctx.options.allowedOrigins);
  if (failure) throw failure;
}

/** The bearer token of `Authorization`, or `undefined` when there is none (RFC 6750 §2.1). */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  if (!match) throw invalidToken("The Authorization header is not a bearer token.");
  return match[1];
}

/** The security stamp an access token was issued under (`sst`), if it carries a well-formed one. */
export function stampOf(claims: AccessTokenClaims): number | undefined {
  const { sst } = claims;
  return typeof sst === "number" && Number.isSafeInteger(sst) ? sst : undefined;
}

/** An authenticated request: the verified claims and the user they name. */
export interface Authenticated {
  claims: AccessTokenClaims;
  user: UserRecord;
}

/**
 * Verifies the access token of a request to the auth server itself. Unlike a remote verifier,
 * the server can see its own database, so a revoked session's or suspended user's tokens are
 * refused here at once, not only at their `exp`.
 */
export async function requireAccessToken(c: Context<HushEnv>, ctx: ServerContext): Promise<Authenticated> {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) {
    throw new HushError("invalid_token", "An access token is required.", { "www-authenticate": "Bearer" });
  }
  const now = ctx.options.now();
  const claims = await ctx.accessTokens.verify(token, now);
  const user = await ctx.sessions.liveUser(claims.sub, claims.sid, stampOf(claims));
  if (!user) throw invalidToken("The session of this access token has ended.");
  return { claims, user };
}
