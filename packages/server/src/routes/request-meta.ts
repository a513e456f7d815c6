import type { Context } from "hono";
import type { HushEnv, ServerContext } from "../server-context.js";
import { type RequestMeta, requestMetaOf } from "../services/request-meta.js";

/** The client's address and user agent. Behind a trusted proxy, the last `X-Forwarded-For` hop. */
export function requestMeta(c: Context<HushEnv>, ctx: ServerContext): RequestMeta {
  return requestMetaOf(c.req.raw.headers, c.env?.remoteAddress, ctx.options.trustProxy);
}
