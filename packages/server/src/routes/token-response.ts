import type { PublicUser, TokenResponse } from "@hush/protocol";
import type { PlainResponse } from "../http/error-response.js";
import { corsApplied, corsHeadersFor } from "../security/cors.js";
import type { ServerContext } from "../server-context.js";
import type { IssuedTokens } from "../services/token-issuer.js";
import type { SessionUser } from "../storage/contract.js";

/** The user as the API shows it: never the hash, stamp or suspension details. */
export function publicUser(user: SessionUser): PublicUser {
  return {
    id: user.id,
    email: user.email,
    createdAt: new Date(user.createdAt).toISOString(),
    emailVerified: user.emailVerifiedAt !== null,
  };
}

/**
 * The token response of docs/api.md, HTTP API: body, the refresh cookie (first, then any `extraCookies`),
 * and `Cache-Control: no-store` so no cache ever keeps a token.
 */
export function tokenResponse(
  ctx: ServerContext,
  request: Request,
  status: 200 | 201,
  tokens: IssuedTokens,
  extraCookies: readonly string[] = [],
): Response {
  const parts = tokenParts(ctx, request.headers.get("origin"), status, tokens, extraCookies);
  return corsApplied(new Response(parts.body, parts));
}

/** `tokenResponse` as plain parts, CORS headers for `origin` included. */
export function tokenParts(
  ctx: ServerContext,
  origin: string | null,
  status: 200 | 201,
  tokens: IssuedTokens,
  extraCookies: readonly string[] = [],
): PlainResponse {
  const { user, access, refresh } = tokens;
  const body: TokenResponse = { accessToken: access.token, tokenType: "Bearer", expiresIn: access.expiresIn, user: publicUser(user) };
  const headers: [string, string][] = [
    ["content-type", "application/json; charset=utf-8"],
    ["cache-control", "no-store"],
    ["pragma", "no-cache"],
  ];
  // The hint goes last, after the cookies of this sign-in (the device cookie).
  const [refreshCookie, hint] = ctx.cookie.set(refresh.refreshToken, refresh.cookieMaxAgeSeconds);
  for (const cookie of [refreshCookie, ...extraCookies, hint]) headers.push(["set-cookie", cookie]);
  for (const header of Object.entries(corsHeadersFor(origin, ctx.options.allowedOrigins))) headers.push(header);
  return { status, headers, body: JSON.stringify(body) };
}
