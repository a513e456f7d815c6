import type { Hono } from "hono";
import { authenticateBearer, requireCsrf } from "../routes/guards.js";
import type { HushEnv, ServerContext } from "../server-context.js";
import { requestMetaOf } from "../services/request-meta.js";
import type { AnyEndpoint } from "./endpoint.js";
import { readJsonBody } from "./json-body.js";

/**
 * Routes every endpoint, applying from its declaration alone, in this order: the CSRF and
 * Origin checks (`cookie`), bearer verification (`bearer`, `bearer-recent`), the request's
 * metadata (the one place that knows `trustProxy`), the JSON body (type, size, schema), the
 * per-client rate limits, then the handler. Errors go to the app's one error mapping.
 */
export function mountEndpoints(app: Hono<HushEnv>, ctx: ServerContext, endpoints: readonly AnyEndpoint[]): void {
  for (const endpoint of endpoints) {
    app.on(endpoint.method.toUpperCase(), endpoint.path, async (c) => {
      const request = c.req.raw;
      if (endpoint.auth === "cookie" || endpoint.csrf) requireCsrf(request.headers, ctx);
      const auth =
        endpoint.auth === "bearer" || endpoint.auth === "bearer-recent"
          ? await authenticateBearer(request.headers, ctx, { recent: endpoint.auth === "bearer-recent" })
          : undefined;
      const meta = requestMetaOf(request.headers, c.env?.remoteAddress, ctx.options.trustProxy);
      const body = endpoint.body ? await readJsonBody(request, endpoint.body) : undefined;
      for (const limit of endpoint.limits ?? []) await ctx.limits.consume(limit, meta.clientKey);
      return endpoint.handler({ request, body, meta, auth, params: c.req.param() }, ctx);
    });
  }
}
