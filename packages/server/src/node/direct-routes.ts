import type { IncomingMessage, ServerResponse } from "node:http";
import { PATHS } from "@hush/protocol";
import { errorParts, type PlainResponse, reportedError } from "../http/error-response.js";
import { nodeHeaders } from "../http/header-reader.js";
import { refreshParts } from "../routes/auth-routes.js";
import { requireCsrf } from "../routes/guards.js";
import { corsHeadersFor } from "../security/cors.js";
import type { ServerContext } from "../server-context.js";
import { requestMetaOf } from "../services/request-meta.js";

/** A route node:http answers itself, from the raw request to the raw response. */
export type DirectRoute = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

/**
 * The routes that skip the router on node:http: only `POST /auth/refresh`, the one endpoint
 * every open tab calls every few minutes. Building a `Request`, routing it and turning the
 * `Response` back into node's was a third of a refresh's CPU. The route applies what the
 * endpoint table applies to a `cookie` endpoint without a body (CSRF and Origin, the request's
 * metadata, error mapping, CORS, the request metric) and runs the endpoint's own code
 * (`refreshParts`), so both paths answer byte for byte alike; a test holds them to it.
 */
export function directRoutes(ctx: ServerContext): ReadonlyMap<string, DirectRoute> {
  const refresh: DirectRoute = async (request, response) => {
    const started = ctx.metrics.enabled ? performance.now() : 0;
    // The body is never read (the endpoint takes none); drain it so the connection stays usable.
    request.resume();
    const headers = nodeHeaders(request.headers);
    let parts: PlainResponse;
    try {
      requireCsrf(headers, ctx);
      parts = await refreshParts(ctx, headers, requestMetaOf(headers, request.socket.remoteAddress, ctx.options.trustProxy));
    } catch (thrown) {
      parts = errorParts(reportedError(thrown, ctx.logger), corsHeadersFor(headers.get("origin"), ctx.options.allowedOrigins));
    }
    writePlain(response, parts);
    if (ctx.metrics.enabled) ctx.metrics.observeRequest(PATHS.refresh, "POST", parts.status, (performance.now() - started) / 1000);
  };
  return new Map([[`POST ${PATHS.refresh}`, refresh]]);
}

function writePlain(response: ServerResponse, { status, headers, body }: PlainResponse): void {
  const flat: string[] = ["content-length", String(Buffer.byteLength(body))];
  for (const [name, value] of headers) flat.push(name, value);
  response.writeHead(status, flat);
  response.end(body);
}
