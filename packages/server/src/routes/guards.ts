import { type AccessTokenClaims, parseBearer } from "@hush/protocol";
import { HushError, invalidToken, missingToken } from "../errors.js";
import type { HeaderReader } from "../http/header-reader.js";
import { checkCsrf } from "../security/csrf.js";
import type { ServerContext } from "../server-context.js";
import type { UserRecord } from "../storage/contract.js";

/** Throws `csrf_failed` unless the request passes the cookie-endpoint checks of docs/api.md, CSRF. */
export function requireCsrf(headers: HeaderReader, ctx: ServerContext): void {
  const failure = checkCsrf(headers, ctx.options.allowedOrigins);
  if (failure) throw failure;
}

/** The bearer token of `Authorization`, or `undefined` when there is none (RFC 6750 §2.1). */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const token = parseBearer(authorization);
  if (!token) throw invalidToken("The Authorization header is not a bearer token.");
  return token;
}

/** The security stamp an access token was issued under (`sst`), if it carries a well-formed one. */
export function stampOf(claims: AccessTokenClaims): number | undefined {
  const { sst } = claims;
  return typeof sst === "number" && Number.isSafeInteger(sst) ? sst : undefined;
}

/** The `amr` of verified claims; tokens from before it was issued signed in with a password. */
export function amrOf(claims: AccessTokenClaims): string[] {
  const { amr } = claims;
  return Array.isArray(amr) && amr.every((v) => typeof v === "string") ? amr : ["pwd"];
}

/** An authenticated request: the verified claims and the user they name. */
export interface Authenticated {
  claims: AccessTokenClaims;
  user: UserRecord;
}

/** The user of a verified token's session, if it is alive and the token's stamp is current. */
export async function liveUserOf(ctx: ServerContext, claims: AccessTokenClaims): Promise<Authenticated> {
  const user = await ctx.sessions.liveUser(claims.sub, claims.sid, stampOf(claims));
  if (!user) throw invalidToken("The session of this access token has ended.");
  return { claims, user };
}

/**
 * Verifies the access token of a request to the auth server itself. Unlike a remote verifier,
 * the server can see its own database, so a revoked session's or suspended user's tokens are
 * refused here at once, not only at their `exp`. With `recent`, the sign-in (`auth_time`) must
 * lie within `reauthWindowSeconds`.
 */
export async function authenticateBearer(headers: Headers, ctx: ServerContext, options: { recent: boolean }): Promise<Authenticated> {
  const token = bearerToken(headers.get("authorization") ?? undefined);
  if (!token) throw missingToken();
  const now = ctx.options.now();
  const authenticated = await liveUserOf(ctx, await ctx.accessTokens.verify(token, now));
  if (options.recent) {
    const authTime = authenticated.claims.auth_time;
    if (typeof authTime !== "number" || now - authTime * 1000 > ctx.options.reauthWindowSeconds * 1000) {
      throw new HushError("reauthentication_required", "This operation needs a recent sign-in. Sign in again, then retry.");
    }
  }
  return authenticated;
}
