import { type AccessTokenClaims, type ErrorBody, parseBearer } from "@hush/protocol";
import type { Verifier } from "./create-verifier.js";
import { isTokenError } from "./token-error.js";

/** Options every guard takes. */
export interface GuardOptions {
  /** Scopes the route needs; a token whose `scope` claim lacks one gets `403 insufficient_scope`. */
  scopes?: readonly string[];
  /** Sees every refused token (for logs). */
  onRejected?: (reason: unknown) => void;
}

/** A guard's decision, for an adapter to translate into its framework's terms. */
export type GuardResult =
  | { ok: true; claims: Readonly<AccessTokenClaims> }
  | { ok: false; status: 401 | 403 | 503; headers: Record<string, string>; body: ErrorBody };

/** The `WWW-Authenticate` value of RFC 6750 §3: bare for a missing token, with an error code otherwise. */
export function bearerChallenge(error?: "invalid_token" | "insufficient_scope", scope?: string): string {
  if (!error) return "Bearer";
  return scope ? `Bearer error="${error}", scope="${scope}"` : `Bearer error="${error}"`;
}

function refuse(status: 401 | 403 | 503, error: ErrorBody["error"], message: string, challenge?: string): GuardResult {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (challenge) headers["www-authenticate"] = challenge;
  return { ok: false, status, headers, body: { error, message } };
}

function decide(claims: Readonly<AccessTokenClaims>, options: GuardOptions): GuardResult {
  if (options.scopes?.length) {
    const granted = new Set(typeof claims.scope === "string" ? claims.scope.split(" ") : []);
    const missing = options.scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) {
      return refuse(
        403,
        "insufficient_scope",
        `The access token lacks the scope: ${missing.join(" ")}.`,
        bearerChallenge("insufficient_scope", options.scopes.join(" ")),
      );
    }
  }
  return { ok: true, claims };
}

function rejected(error: unknown, options: GuardOptions): GuardResult {
  options.onRejected?.(error);
  if (!isTokenError(error)) throw error;
  if (error.code === "jwks_unavailable") return refuse(503, "unavailable", "Tokens cannot be checked right now. Try again shortly.");
  return refuse(401, "invalid_token", "The access token is invalid.", bearerChallenge("invalid_token"));
}

/**
 * The whole decision of every guard: read the bearer token (only from `Authorization`, never
 * a URL), verify it, check scopes. Adapters only translate the result. Synchronous whenever
 * the verifier can answer at once (a cached token, a known key), so guards add no promise
 * round trip to most requests.
 */
export function authenticateNow(
  verify: Verifier,
  authorization: string | undefined,
  options: GuardOptions = {},
): GuardResult | Promise<GuardResult> {
  if (!authorization) return refuse(401, "invalid_token", "An access token is required.", bearerChallenge());
  const token = parseBearer(authorization);
  if (!token) return refuse(401, "invalid_token", "The Authorization header is not a bearer token.", bearerChallenge("invalid_token"));
  let verified: Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>>;
  try {
    verified = verify.verifyNow(token);
  } catch (error) {
    return rejected(error, options);
  }
  if (verified instanceof Promise) {
    return verified.then(
      (claims) => decide(claims, options),
      (error) => rejected(error, options),
    );
  }
  return decide(verified, options);
}

/** `authenticateNow`, always as a promise. */
export async function authenticate(verify: Verifier, authorization: string | undefined, options: GuardOptions = {}): Promise<GuardResult> {
  return authenticateNow(verify, authorization, options);
}
