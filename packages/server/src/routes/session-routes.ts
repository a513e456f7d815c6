import { PATHS, type SessionSummary } from "@hush/protocol";
import { HushError } from "../errors.js";
import { defineEndpoint } from "../http/endpoint.js";
import { cookieHeaders } from "../http/refresh-cookie.js";
import { passwordChangeSchema, sessionsResponseSchema, tokenResponseSchema } from "../http/schemas.js";
import { amrOf } from "./guards.js";
import { tokenResponse } from "./token-response.js";

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/** The signed-in user's own sessions: list, end one, end all, change the password. */
export const sessionEndpoints = [
  defineEndpoint({
    method: "get",
    path: PATHS.sessions,
    operationId: "listSessions",
    summary: "The user's live sessions",
    auth: "bearer",
    responses: { 200: { description: "Sessions", schema: sessionsResponseSchema } },
    async handler({ auth: { claims, user }, meta }, ctx) {
      const listed = await ctx.sessions.list(user, {
        sessionId: claims.sid,
        issuedAt: claims.iat * 1000,
        authTime: typeof claims.auth_time === "number" ? claims.auth_time * 1000 : undefined,
        userAgent: meta.userAgent,
      });
      const sessions: SessionSummary[] = listed.map((s) => ({
        id: s.id,
        createdAt: new Date(s.createdAt).toISOString(),
        lastUsedAt: new Date(s.lastUsedAt).toISOString(),
        expiresAt: new Date(s.expiresAt).toISOString(),
        userAgent: s.userAgent,
        current: s.id === claims.sid,
      }));
      return Response.json({ sessions }, { headers: { "cache-control": "no-store" } });
    },
  }),
  defineEndpoint({
    method: "delete",
    path: `${PATHS.sessions}/:id`,
    operationId: "deleteSession",
    summary: "End one of the user's own sessions",
    auth: "bearer",
    responses: { 204: { description: "Done" } },
    async handler({ auth: { claims, user }, params, meta }, ctx) {
      const id = params.id ?? "";
      if (!SESSION_ID.test(id) || !(await ctx.sessions.revokeOne(user, id, claims.sid))) {
        throw new HushError("not_found", "No such session.");
      }
      ctx.events.emit({
        type: "session_revoked",
        userId: user.id,
        sessionId: id,
        reason: id === claims.sid ? "own_session" : "user_revoked",
        ip: meta.ip,
        userAgent: meta.userAgent ?? undefined,
      });
      return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.logoutAll,
    operationId: "logoutAll",
    summary: "End every session of the user",
    auth: "bearer",
    responses: { 204: { description: "Done" } },
    async handler({ auth: { user }, meta }, ctx) {
      await ctx.lifecycle.logoutAll(user, meta);
      return new Response(null, { status: 204, headers: cookieHeaders(ctx.cookie.clear(), { "cache-control": "no-store" }) });
    },
  }),
  defineEndpoint({
    method: "post",
    path: PATHS.password,
    operationId: "changePassword",
    summary: "Change the password; other sessions end",
    auth: "bearer",
    body: passwordChangeSchema,
    responses: { 200: { description: "Token response; sets the refresh cookie", schema: tokenResponseSchema } },
    async handler({ auth: { claims, user }, body, meta, request }, ctx) {
      const authTime = typeof claims.auth_time === "number" ? claims.auth_time * 1000 : claims.iat * 1000;
      const { user: updated, refresh } = await ctx.lifecycle.changePassword(
        user,
        { sessionId: claims.sid, authTime, amr: amrOf(claims) },
        body,
        meta,
        ctx.tokens.accessExpiresAt(),
        ctx.deviceCookie.read(request.headers.get("cookie")),
      );
      await ctx.email.passwordChanged(updated);
      return tokenResponse(ctx, request, 200, await ctx.tokens.issue(updated, refresh));
    },
  }),
];
