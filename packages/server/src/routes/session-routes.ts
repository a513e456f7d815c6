import { PATHS, type SessionSummary } from "@hush/protocol";
import type { Hono } from "hono";
import { HushError } from "../http/hush-error.js";
import { readJsonBody } from "../http/json-body.js";
import { passwordChangeSchema } from "../http/schemas.js";
import type { HushEnv, ServerContext } from "../server-context.js";
import { requireAccessToken } from "./guards.js";
import { requestMeta } from "./request-meta.js";
import { tokenResponse } from "./token-response.js";

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/** The signed-in user's own sessions: list, end one, end all, change the password. */
export function registerSessionRoutes(app: Hono<HushEnv>, ctx: ServerContext): void {
  app.get(PATHS.sessions, async (c) => {
    const { claims, user } = await requireAccessToken(c, ctx);
    const listed = await ctx.sessions.list(user, {
      sessionId: claims.sid,
      issuedAt: claims.iat * 1000,
      authTime: typeof claims.auth_time === "number" ? claims.auth_time * 1000 : undefined,
      userAgent: c.req.header("user-agent") ?? null,
    });
    const sessions: SessionSummary[] = listed.map((s) => ({
      id: s.id,
      createdAt: new Date(s.createdAt).toISOString(),
      lastUsedAt: new Date(s.lastUsedAt).toISOString(),
      expiresAt: new Date(s.expiresAt).toISOString(),
      userAgent: s.userAgent,
      current: s.id === claims.sid,
    }));
    return c.json({ sessions }, 200, { "cache-control": "no-store" });
  });

  app.delete(`${PATHS.sessions}/:id`, async (c) => {
    const { user, claims } = await requireAccessToken(c, ctx);
    const id = c.req.param("id");
    if (!SESSION_ID.test(id) || !(await ctx.sessions.revokeOne(user, id, claims.sid))) {
      throw new HushError("not_found", "No such session.");
    }
    const meta = requestMeta(c, ctx);
    ctx.events.emit({
      type: "session_revoked",
      userId: user.id,
      sessionId: id,
      reason: id === claims.sid ? "own current session" : "user_revoked",
      ip: meta.ip,
      userAgent: meta.userAgent ?? undefined,
    });
    return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  });

  app.post(PATHS.logoutAll, async (c) => {
    const { user } = await requireAccessToken(c, ctx);
    await ctx.lifecycle.logoutAll(user, requestMeta(c, ctx));
    return new Response(null, { status: 204, headers: { "set-cookie": ctx.cookie.clear(), "cache-control": "no-store" } });
  });

  app.post(PATHS.password, async (c) => {
    const { user, claims } = await requireAccessToken(c, ctx);
    const change = await readJsonBody(c.req.raw, passwordChangeSchema);
    const authTime = typeof claims.auth_time === "number" ? claims.auth_time * 1000 : claims.iat * 1000;
    const now = ctx.options.now();
    const { user: updated, refresh } = await ctx.lifecycle.changePassword(
      user,
      { sessionId: claims.sid, authTime },
      change,
      requestMeta(c, ctx),
      now + ctx.options.accessTokenTtlSeconds * 1000,
      ctx.deviceCookie.read(c.req.header("cookie")),
    );
    const access = await ctx.accessTokens.issue(updated, refresh, ctx.options.now());
    return tokenResponse(ctx, 200, updated, access, refresh);
  });
}
