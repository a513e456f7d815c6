import type { Context } from "hono";
import type { HushEnv, ServerContext } from "../server-context.js";
import type { RequestMeta } from "../services/request-meta.js";

/** The client's address and user agent. Behind a trusted proxy, the last `X-Forwarded-For` hop. */
export function requestMeta(c: Context<HushEnv>, ctx: ServerContext): RequestMeta {
  let ip = c.env?.remoteAddress;
  if (ctx.options.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) ip = forwarded;
  }
  return { ip: ip ?? "unknown", userAgent: c.req.header("user-agent") ?? null };
}
