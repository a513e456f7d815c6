import { PATHS } from "@hush/protocol";
import type { Hono } from "hono";
import { errorResponse } from "../http/error-response.js";
import { isHushError } from "../http/hush-error.js";
import { readJsonBody } from "../http/json-body.js";
import { credentialsSchema } from "../http/schemas.js";
import type { HushEnv, ServerContext } from "../server-context.js";
import { invalidRefreshToken } from "../services/rotating-sessions.js";
import { requireAccessToken, requireCsrf } from "./guards.js";
import { requestMeta } from "./request-meta.js";
import { publicUser, tokenResponse } from "./token-response.js";

/**
 * The cookie endpoints (signup, login, refresh, logout) and `GET /auth/me`. Each handler only
 * translates HTTP to a service call and back; the rules live in the services.
 */
export function registerAuthRoutes(app: Hono<HushEnv>, ctx: ServerContext): void {
  const accessExpiry = () => ctx.options.now() + ctx.options.accessTokenTtlSeconds * 1000;

  app.post(PATHS.signup, async (c) => {
    requireCsrf(c, ctx);
    const credentials = await readJsonBody(c.req.raw, credentialsSchema);
    const meta = requestMeta(c, ctx);
    const user = await ctx.accounts.signup(credentials, meta);
    const refresh = await ctx.sessions.start(user, meta, accessExpiry());
    const access = await ctx.accessTokens.issue(user, refresh, ctx.options.now());
    return tokenResponse(ctx, 201, user, access, refresh, [ctx.deviceCookie.set(ctx.devices.issue(user.email))]);
  });

  app.post(PATHS.login, async (c) => {
    requireCsrf(c, ctx);
    const credentials = await readJsonBody(c.req.raw, credentialsSchema);
    const meta = requestMeta(c, ctx);
    const user = await ctx.accounts.login(credentials, meta, ctx.deviceCookie.read(c.req.header("cookie")));
    const refresh = await ctx.sessions.start(user, meta, accessExpiry());
    const access = await ctx.accessTokens.issue(user, refresh, ctx.options.now());
    // A browser that proved the password becomes a trusted device for this account.
    return tokenResponse(ctx, 200, user, access, refresh, [ctx.deviceCookie.set(ctx.devices.issue(user.email))]);
  });

  app.post(PATHS.refresh, async (c) => {
    requireCsrf(c, ctx);
    const token = ctx.cookie.read(c.req.header("cookie") ?? null);
    try {
      if (!token) throw invalidRefreshToken();
      const outcome = await ctx.sessions.refresh(token, requestMeta(c, ctx), accessExpiry());
      const access = await ctx.accessTokens.issue(outcome.user, outcome, ctx.options.now());
      return tokenResponse(ctx, 200, outcome.user, access, outcome);
    } catch (error) {
      // A refresh token the server refuses is cleared, so the browser stops sending it. Not on
      // 429 or 503: a busy or unreachable server must not sign anyone out.
      if (isHushError(error) && error.status === 401) return errorResponse(error, { "set-cookie": ctx.cookie.clear() });
      throw error;
    }
  });

  app.post(PATHS.logout, async (c) => {
    requireCsrf(c, ctx);
    const token = ctx.cookie.read(c.req.header("cookie") ?? null);
    if (token) await ctx.sessions.end(token, requestMeta(c, ctx));
    return new Response(null, { status: 204, headers: { "set-cookie": ctx.cookie.clear(), "cache-control": "no-store" } });
  });

  app.get(PATHS.me, async (c) => {
    const { user } = await requireAccessToken(c, ctx);
    return c.json({ user: publicUser(user) }, 200, { "cache-control": "no-store" });
  });
}
