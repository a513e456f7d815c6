import { PATHS } from "@hush/protocol";
import { z } from "zod";
import { HushError } from "../errors.js";
import { defineEndpoint } from "../http/endpoint.js";
import { errorResponse } from "../http/error-response.js";
import { healthResponseSchema, jwksResponseSchema } from "../http/schemas.js";
import type { ServerContext } from "../server-context.js";
import { GZIP_MIN_CHARS } from "../services/revocation-feed.js";

/** Half the activation delay: a verifier that caches the JWKS for its max-age still sees a rotated-in key before it signs. */
const jwksMaxAge = (ctx: ServerContext) => Math.floor(ctx.options.keyActivationDelaySeconds / 2);

/** The JWKS, the revocation feed, the OpenAPI document and the health check: no credentials, safe to expose. */
export const publicEndpoints = [
  defineEndpoint({
    method: "get",
    path: PATHS.jwks,
    operationId: "jwks",
    summary: "Public keys that verify access tokens",
    auth: "none",
    responses: { 200: { description: "JWK Set", schema: jwksResponseSchema } },
    handler(_input, ctx) {
      const maxAge = jwksMaxAge(ctx);
      return new Response(ctx.keys.jwksJson(ctx.options.now()), {
        headers: {
          "content-type": "application/json; charset=utf-8",
          "cache-control": maxAge > 0 ? `public, max-age=${maxAge}` : "no-cache",
        },
      });
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.revocations,
    operationId: "revocations",
    summary: "Signed list of recently revoked session ids (typ rl+jwt); `?since=<iat>` for a signed delta",
    auth: "none",
    responses: {
      200: { description: "A compact JWT (gzip when accepted)", schema: z.string(), contentType: "application/jwt" },
      304: { description: "Unchanged (If-None-Match)" },
    },
    async handler({ request }, ctx) {
      // `?since=<iat of the list the poller holds>` asks for a delta; anything unusable gets the full list.
      const sinceText = new URL(request.url).searchParams.get("since") ?? undefined;
      const since = sinceText !== undefined && /^\d{1,12}$/.test(sinceText) ? Number(sinceText) : undefined;
      const version = await ctx.feed.current(since);
      const common = { "cache-control": "no-cache", vary: "accept-encoding" };
      const ifNoneMatch = request.headers.get("if-none-match") ?? undefined;
      if (matchesEtag(ifNoneMatch, version.etag)) return new Response(null, { status: 304, headers: { ...common, etag: version.etag } });
      const list = version.list(since, ifNoneMatch?.trim());
      // A large full list may be the one signed a few seconds before this version: its own ETag.
      const headers = { ...common, etag: list.etag, "content-type": "application/jwt" };
      if (list.jwt.length >= GZIP_MIN_CHARS && acceptsGzip(request.headers.get("accept-encoding") ?? undefined)) {
        return new Response(await list.gzipped(), { headers: { ...headers, "content-encoding": "gzip" } });
      }
      return new Response(list.jwt, { headers });
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.health,
    operationId: "health",
    summary: "Liveness and database reachability",
    auth: "none",
    responses: { 200: { description: "Healthy", schema: healthResponseSchema } },
    async handler(_input, ctx) {
      try {
        await ctx.storage.ping();
      } catch (error) {
        ctx.logger.warn({ err: error }, "health check: database unreachable");
        return errorResponse(new HushError("unavailable", "The database is unreachable."));
      }
      return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
    },
  }),
  defineEndpoint({
    method: "get",
    path: PATHS.openapi,
    operationId: "openapi",
    summary: "This document",
    auth: "none",
    responses: { 200: { description: "OpenAPI 3.1" } },
    handler(_input, ctx) {
      return new Response(ctx.openApiJson, { headers: { "content-type": "application/json; charset=utf-8" } });
    },
  }),
];

/** `GET /metrics`, mounted (and documented) only when metrics are on. */
export const metricsEndpoints = [
  defineEndpoint({
    method: "get",
    path: PATHS.metrics,
    operationId: "metrics",
    summary: "Prometheus metrics (keep off the public network)",
    auth: "none",
    responses: { 200: { description: "Prometheus text format", schema: z.string(), contentType: "text/plain" } },
    async handler(_input, ctx) {
      return new Response(await ctx.metrics.render(), {
        headers: { "content-type": ctx.metrics.contentType, "cache-control": "no-store" },
      });
    },
  }),
];

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
