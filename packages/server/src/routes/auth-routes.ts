import { PATHS } from "@hush/protocol";
import { invalidRefreshToken, isHushError } from "../errors.js";
import { defineEndpoint } from "../http/endpoint.js";
import { errorParts, type PlainResponse } from "../http/error-response.js";
import type { HeaderReader } from "../http/header-reader.js";
import { cookieHeaders } from "../http/refresh-cookie.js";
import { credentialsSchema, meResponseSchema, pendingSignupSchema, tokenResponseSchema } from "../http/schemas.js";
import { corsApplied, corsHeadersFor } from "../security/cors.js";
import type { ServerContext } from "../server-context.js";
import type { RequestMeta } from "../services/request-meta.js";
import type { SessionUser } from "../storage/contract.js";
import { publicUser, tokenParts, tokenResponse } from "./token-response.js";

const tokenSet = { description: "Token response; sets the refresh cookie", schema: tokenResponseSchema };

/** A browser that proved the password becomes a trusted device for this account. */
export const deviceCookieFor = (ctx: ServerContext, user: SessionUser) => ctx.deviceCookie.set(ctx.devices.issue(user.email));

/**
 * `POST /auth/refresh` past its CSRF check, as plain parts with the CORS headers: shared by the
 * endpoint below and the node route that answers refreshes without building a `Request` (see
 * `node/direct-routes.ts`), so both behave alike by construction.
 */
export async function refreshParts(ctx: ServerContext, headers: HeaderReader, meta: RequestMeta): Promise<PlainResponse> {
  const origin = headers.get("origin");
  const token = ctx.cookie.read(headers.get("cookie"));
  try {
    if (!token) throw invalidRefreshToken();
    return tokenParts(ctx, origin, 200, await ctx.tokens.refresh(token, meta));
  } catch (error) {
    // A refresh token the server refuses is cleared, so the browser stops sending it. Not on
    // 429 or 503: a busy or unreachable server must not sign anyone out.
    if (isHushError(error) && error.status === 401) {
      return errorParts(error, corsHeadersFor(origin, ctx.options.allowedOrigins), ctx.cookie.clear());
    }
    throw error;
  }
}

/**
 * The cookie endpoints (signup, login, refresh, logout) and `GET /auth/me`. Each handler only
 * translates HTTP to a service call and back; the rules live in the services.
 */
export const authEndpoints = [
  defineEndpoint({
    method: "post",
    path: PATHS.signup,
    operationId: "signup",
    summary: "Create an account and sign in",
    auth: "cookie",
    body: credentialsSchema,
    limits: ["signupsPerIp"],
    responses: {
      201: tokenSet,
      202: { description: "`required` verification: the account exists, a link is mailed, no session yet", schema: pendingSignupSchema },
    },
    async handler({ body, meta, request }, ctx) {
      const user = await ctx.accounts.signup(body, meta);
      if (ctx.options.emailVerification !== "off") await ctx.email.sendVerification(user, meta);
      // `required`: the account exists, but no session until the link is used.
      if (ctx.options.emailVerification === "required") {
        return Response.json(
          { user: publicUser(user), verificationRequired: true },
          { status: 202, headers: { "cache-control": "no-store" } },
        );
      }
      return tokenResponse(ctx, request, 201, await ctx.tokens.signIn(user, meta, { amr: ["pwd"] }), [deviceCookieFor(ctx, user)]);
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.login,
    operationId: "login",
    summary: "Sign in with email and password",
    auth: "cookie",
    body: credentialsSchema,
    limits: ["loginsPerIp"],
    responses: { 200: tokenSet },
    async handler({ body, meta, request }, ctx) {
      const user = await ctx.accounts.login(body, meta, ctx.deviceCookie.read(request.headers.get("cookie")));
      if (ctx.options.emailVerification === "required" && user.emailVerifiedAt === null) await ctx.email.refuseUnverified(user, meta);
      // With a second factor this answers `403 mfa_required`; the device cookie comes with the tokens, at the second step.
      return tokenResponse(ctx, request, 200, await ctx.gate.complete(user, ["pwd"], meta), [deviceCookieFor(ctx, user)]);
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.refresh,
    operationId: "refresh",
    summary: "Silent refresh: a new access token from the refresh cookie, which rotates",
    auth: "cookie",
    responses: { 200: tokenSet },
    async handler({ request, meta }, ctx) {
      const { status, headers, body } = await refreshParts(ctx, request.headers, meta);
      return corsApplied(new Response(body, { status, headers }));
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.logout,
    operationId: "logout",
    summary: "End this device's session and clear the cookie",
    auth: "cookie",
    responses: { 204: { description: "Done" } },
    async handler({ request, meta }, ctx) {
      const token = ctx.cookie.read(request.headers.get("cookie"));
      if (token) await ctx.sessions.end(token, meta);
      return new Response(null, { status: 204, headers: cookieHeaders(ctx.cookie.clear(), { "cache-control": "no-store" }) });
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.me,
    operationId: "me",
    summary: "The signed-in user",
    auth: "bearer",
    responses: { 200: { description: "The user", schema: meResponseSchema } },
    handler({ auth }) {
      return Response.json({ user: publicUser(auth.user) }, { headers: { "cache-control": "no-store" } });
    },
  }),
];
