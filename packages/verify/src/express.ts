import type { AccessTokenClaims } from "@hush/protocol";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Verifier } from "./create-verifier.js";
import { authenticateNow, checkGuardOptions, type GuardOptions, type GuardResult } from "./guard-core.js";

declare global {
  namespace Express {
    interface Request {
      /** The verified access-token claims, set by `hushExpress`. */
      auth?: Readonly<AccessTokenClaims>;
    }
  }
}

/**
 * Express middleware: verifies the bearer token and puts its claims on `req.auth`, or answers
 * `401`/`403` with the RFC 6750 (or RFC 9470 step-up) challenge.
 *
 * @example
 * app.get("/notes", hushExpress(verify), (req, res) => res.json({ user: req.auth?.sub }));
 */
export function hushExpress(verify: Verifier, options?: GuardOptions): RequestHandler {
  if (options) checkGuardOptions(options);
  const settle = (result: GuardResult, req: Request, res: Response, next: NextFunction) => {
    if (!result.ok) return void res.status(result.status).set(result.headers).json(result.body);
    req.auth = result.claims;
    next();
  };
  return (req: Request, res: Response, next: NextFunction) => {
    let result: GuardResult | Promise<GuardResult>;
    try {
      result = authenticateNow(verify, req.headers.authorization, options);
    } catch (error) {
      return next(error);
    }
    if (result instanceof Promise) result.then((r) => settle(r, req, res, next), next);
    else settle(result, req, res, next);
  };
}
