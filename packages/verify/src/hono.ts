import type { AccessTokenClaims } from "@hush/protocol";
import type { MiddlewareHandler } from "hono";
import { authenticateNow, checkGuardOptions, type GuardOptions, type GuardVerifier } from "./guard-core.js";

/** Hono context variables set by `hushHono`: `c.get("auth")`. */
export interface HushVariables {
  auth: Readonly<AccessTokenClaims>;
}

/**
 * Hono middleware: verifies the bearer token and sets `c.var.auth`, or answers `401`/`403`.
 * Runtime-neutral (no `node:` import): takes the Node verifier of `@hush/verify` or the
 * WebCrypto one of `@hush/verify/edge`, so it also guards Hono apps on edge runtimes.
 *
 * @example
 * const app = new Hono<{ Variables: HushVariables }>();
 * app.use("/api/*", hushHono(verify));
 * app.get("/api/me", (c) => c.json({ sub: c.var.auth.sub }));
 */
export function hushHono(verify: GuardVerifier, options?: GuardOptions): MiddlewareHandler<{ Variables: HushVariables }> {
  if (options) checkGuardOptions(options);
  return async (c, next) => {
    const now = authenticateNow(verify, c.req.header("authorization"), options);
    const result = now instanceof Promise ? await now : now;
    if (!result.ok) return c.json(result.body, result.status, result.headers);
    c.set("auth", result.claims);
    await next();
  };
}
