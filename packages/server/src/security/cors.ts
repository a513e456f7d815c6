import { ACCESS_TOKEN_HEADER, CSRF_HEADER } from "@hush/protocol";
import type { MiddlewareHandler } from "hono";

const ALLOW_METHODS = "GET, POST, DELETE, OPTIONS";
const ALLOW_HEADERS = `Content-Type, Authorization, ${CSRF_HEADER}`;
/** The client reads the error challenge, the server's clock, and an assisted-refresh token. */
const EXPOSE_HEADERS = `${ACCESS_TOKEN_HEADER}, WWW-Authenticate, Date`;
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/** Responses whose handler already carries the CORS headers: the middleware leaves them alone. */
const CORS_APPLIED = new WeakSet<Response>();

/**
 * The CORS headers of an actual (non-preflight) response, as a plain object a handler puts into
 * the `Response` it builds. Adding headers to a finished response makes node-server turn its
 * lightweight response into undici `Headers` and iterate them (about a tenth of a refresh's
 * CPU), so the hot path builds them in instead and marks the response (`corsApplied`).
 */
export function corsHeadersFor(origin: string | null, allowedOrigins: ReadonlySet<string>): Record<string, string> {
  if (origin === null || !allowedOrigins.has(origin)) return { vary: "Origin" };
  return {
    vary: "Origin",
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": EXPOSE_HEADERS,
  };
}

/** Marks a response built with `corsHeadersFor`, so the middleware does not add them again. */
export function corsApplied(response: Response): Response {
  CORS_APPLIED.add(response);
  return response;
}

/**
 * CORS for exact origins with credentials (docs/api.md, CSRF): an allowed origin gets itself back in
 * `Access-Control-Allow-Origin` (never `*`, never a pattern), any other origin gets no grant.
 * Headers are added to the finished response, so a handler's own response object is kept as is
 * (Hono's stock middleware touches `c.res` before the handler runs, which made every response
 * be rebuilt — measurable on the refresh hot path).
 */
export function corsMiddleware(allowedOrigins: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const granted = origin !== undefined && allowedOrigins.has(origin) ? origin : undefined;
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      const headers = new Headers({ vary: "Origin" });
      if (granted) {
        headers.set("access-control-allow-origin", granted);
        headers.set("access-control-allow-credentials", "true");
        headers.set("access-control-allow-methods", ALLOW_METHODS);
        headers.set("access-control-allow-headers", ALLOW_HEADERS);
        headers.set("access-control-max-age", PREFLIGHT_MAX_AGE_SECONDS);
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    if (CORS_APPLIED.has(c.res)) return;
    const headers = c.res.headers;
    headers.append("vary", "Origin");
    if (granted) {
      headers.set("access-control-allow-origin", granted);
      headers.set("access-control-allow-credentials", "true");
      headers.set("access-control-expose-headers", EXPOSE_HEADERS);
    }
  };
}
