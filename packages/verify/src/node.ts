import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessTokenClaims } from "@hush/protocol";
import type { Verifier } from "./create-verifier.js";
import { authenticateNow, checkGuardOptions, type GuardOptions, type GuardResult } from "./guard-core.js";

/** A node:http request after `hushNode` let it through. */
export type AuthenticatedRequest = IncomingMessage & { auth: Readonly<AccessTokenClaims> };

/**
 * Wraps a plain node:http handler: verifies the bearer token and sets `req.auth`, or answers
 * `401`/`403` itself.
 *
 * @example
 * http.createServer(hushNode(verify, (req, res) => res.end(req.auth.sub)));
 */
export function hushNode(
  verify: Verifier,
  handler: (req: AuthenticatedRequest, res: ServerResponse) => void | Promise<void>,
  options?: GuardOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  if (options) checkGuardOptions(options);
  const settle = (result: GuardResult, req: IncomingMessage, res: ServerResponse) => {
    if (!result.ok) {
      res.writeHead(result.status, { ...result.headers, "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(result.body));
      return;
    }
    const authed = req as AuthenticatedRequest;
    authed.auth = result.claims;
    return handler(authed, res);
  };
  const fail = (res: ServerResponse, error: unknown) => {
    res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ error: "internal_error", message: "Something went wrong." }));
    console.error(error);
  };
  return (req, res) => {
    try {
      const result = authenticateNow(verify, req.headers.authorization, options);
      const done = result instanceof Promise ? result.then((r) => settle(r, req, res)) : settle(result, req, res);
      if (done instanceof Promise) done.catch((error: unknown) => fail(res, error));
    } catch (error) {
      fail(res, error);
    }
  };
}
