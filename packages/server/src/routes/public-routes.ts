import { PATHS } from "@hush/protocol";
import type { Hono } from "hono";
import { errorResponse } from "../http/error-response.js";
import { HushError } from "../http/hush-error.js";
import type { HushEnv, ServerContext } from "../server-context.js";
import { GZIP_MIN_CHARS } from "../services/revocation-feed.js";
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
    // `?since=<iat of the list the poller holds>` asks for a delta; anything unusable gets the full list.
    const sinceText = c.req.query("since");
    const since = sinceText !== undefined && /^\d{1,12}$/.test(sinceText) ? Number(sinceText) : undefined;
    const version = await ctx.feed.current(since);
    const common = { "cache-control": "no-cache", vary: "accept-encoding" };
    const ifNoneMatch = c.req.header("if-none-match");
    if (matchesEtag(ifNoneMatch, version.etag)) return new Response(null, { status: 304, headers: { ...common, etag: version.etag } });
    const list = version.list(since, ifNoneMatch?.trim());
    // A large full list may be the one signed a few seconds before this version: its own ETag.
    const headers = { ...common, etag: list.etag };
    if (list.jwt.length >= GZIP_MIN_CHARS && acceptsGzip(c.req.header("accept-encoding"))) {
      return c.body(await list.gzipped(), 200, { ...headers, "content-type": "application/jwt", "content-encoding": "gzip" });
    }
    return c.body(list.jwt, 200, { ...headers, "content-type": "application/jwt" });
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

/** True when an `If-None-Match` list names `etag` (weak comparison, RFC 9110 §13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || (trimmed.startsWith("W/") ? trimmed.slice(2) : trimmed) === etag;
  });
}

/** True when `Accept-Encoding` admits gzip (named, or `*`, without `q=0`). */
function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let gzip: boolean | undefined;
  let any = false;
  for (const part of header.toLowerCase().split(",")) {
    const [coding = "", ...params] = part.split(";").map((p) => p.trim());
    const refused = params.some((p) => /^q=0(\.0{0,3})?$/.test(p));
    if (coding === "gzip" || coding === "x-gzip") gzip = !refused;
    else if (coding === "*") any = !refused;
  }
  return gzip ?? any;
}
