import { PATHS } from "@hush/protocol";
import type { Hono } from "hono";
import { errorResponse } from "../http/error-response.js";
import { HushError } from "../http/hush-error.js";
import type { HushEnv, ServerContext } from "../server-context.js";
import { buildOpenApiDocument } from "./api-spec.js";

/** The JWKS, the revocation feed and the health check: no credentials, safe to expose. */
export function registerPublicRoutes(app: Hono<HushEnv>, ctx: ServerContext): void {
  // Half the activation delay: a verifier that caches the JWKS for its max-age still sees a
  // rotated-in key before that key signs its first token.
  const jwksMaxAge = Math.floor(ctx.options.keyActivationDelaySeconds / 2);

  app.get(PATHS.jwks, (c) => {
    return c.body(ctx.keys.jwksJson(ctx.options.now()), 200, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": jwksMaxAge > 0 ? `public, max-age=${jwksMaxAge}` : "no-cache",
    });
  });

  app.get(PATHS.revocations, async (c) => {
    const { jwt, etag } = await ctx.feed.current();
    const headers = { etag, "cache-control": "no-cache" };
    if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return c.body(jwt, 200, { ...headers, "content-type": "application/jwt" });
  });

  const openapi = JSON.stringify(buildOpenApiDocument(ctx.options.issuer, { metrics: ctx.options.metrics }));
  app.get(PATHS.openapi, (c) => c.body(openapi, 200, { "content-type": "application/json; charset=utf-8" }));

  app.get(PATHS.health, async (c) => {
    try {
      await ctx.storage.ping();
    } catch (error) {
      ctx.logger.warn({ err: error }, "health check: database unreachable");
      return errorResponse(new HushError("unavailable", "The database is unreachable."));
    }
    return c.json({ status: "ok" }, 200, { "cache-control": "no-store" });
  });
}
