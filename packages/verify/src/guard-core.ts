import { type AccessTokenClaims, type ErrorBody, parseBearer } from "@hush/protocol";
import { isTokenError } from "./token-error.js";

/**
 * What a guard needs of a verifier: `verify(token)`, and `verifyNow` when it has one (Node's
 * `@hush/verify` does; `@hush/verify/edge` does not, and its guards then await `verify`).
 */
export type GuardVerifier = ((token: string) => Promise<Readonly<AccessTokenClaims>>) & {
  verifyNow?: (token: string) => Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>>;
};

/**
 * Options every guard takes. A request is judged in this order, and the first failure answers:
 * the token itself (`401 invalid_token`, or `503` when no key can be fetched), then `scopes`
 * (`403 insufficient_scope`), then the step-up options `amr`, `acrValues` and `maxAgeSeconds`
 * (`401 insufficient_user_authentication`, RFC 9470). Scopes come before step-up so that a
 * token that signing in again could never make good is not sent to sign in again first.
 */
export interface GuardOptions {
  /** Scopes the route needs; a token whose `scope` claim lacks one gets `403 insufficient_scope`. */
  scopes?: readonly string[];
  /**
   * Authentication methods (RFC 8176) the route needs, e.g. `["mfa"]`: every one must be in the
   * token's `amr` array claim. A token without `amr` fails.
   */
  amr?: readonly string[];
  /** Authentication context classes the route accepts: the token's `acr` claim must be one of them. */
  acrValues?: readonly string[];
  /**
   * Seconds since the user last signed in (the token's `auth_time`, against this machine's
   * clock) beyond which the route refuses the token. A token without `auth_time` fails.
   */
  maxAgeSeconds?: number;
  /** Sees every refused token (for logs). */
  onRejected?: (reason: unknown) => void;
}

/**
 * A refusal's JSON body: `{error, message}`, and for `insufficient_user_authentication` the
 * `amr` values the route asked for (when it asks for any), which RFC 9470's challenge cannot carry.
 */
export interface GuardErrorBody extends ErrorBody {
  amr?: readonly string[];
}

/** A guard's decision, for an adapter to translate into its framework's terms. */
export type GuardResult =
  | { ok: true; claims: Readonly<AccessTokenClaims> }
  | { ok: false; status: 401 | 403 | 503; headers: Record<string, string>; body: GuardErrorBody };

/** An auth-param value that fits in a quoted string as is: no space, `"` or `\` (RFC 6750 §3). */
const PARAM_VALUE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const checked = new WeakSet<GuardOptions>();
const NO_OPTIONS: GuardOptions = Object.freeze({});

/**
 * Checks a guard's options once per options object (guards call it when they are made):
 * throws a `TypeError` naming a bad one.
 */
export function checkGuardOptions(options: GuardOptions): GuardOptions {
  if (checked.has(options)) return options;
  for (const name of ["scopes", "amr", "acrValues"] as const) {
    const list: unknown = options[name];
    if (list !== undefined && (!Array.isArray(list) || !list.every((v) => typeof v === "string" && PARAM_VALUE.test(v))))
      throw new TypeError(`options.${name} must be an array of non-empty strings without spaces, quotes or backslashes`);
  }
  const maxAge = options.maxAgeSeconds;
  if (maxAge !== undefined && (!Number.isSafeInteger(maxAge) || maxAge < 0))
    throw new TypeError("options.maxAgeSeconds must be a whole number of seconds ≥ 0");
  checked.add(options);
  return options;
}

/** The `WWW-Authenticate` value of RFC 6750 §3: bare for a missing token, with an error code otherwise. */
export function bearerChallenge(error?: "invalid_token" | "insufficient_scope", scope?: string): string {
  if (!error) return "Bearer";
  return scope ? `Bearer error="${error}", scope="${scope}"` : `Bearer error="${error}"`;
}

function refuse(
  status: 401 | 403 | 503,
  error: ErrorBody["error"],
  message: string,
  challenge?: string,
  amr?: readonly string[],
): GuardResult {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (challenge) headers["www-authenticate"] = challenge;
  return { ok: false, status, headers, body: amr ? { error, message, amr } : { error, message } };
}

/**
 * RFC 9470 §3: is the sign-in behind the token strong and recent enough for the route? Answers
 * `401 insufficient_user_authentication` when not, with `acr_values` and `max_age` in the
 * challenge whenever the route sets them (whichever check failed: the next token must pass all).
 */
function stepUp(claims: Readonly<AccessTokenClaims>, options: GuardOptions): GuardResult | undefined {
  const { amr, acrValues, maxAgeSeconds } = options;
  // Most routes ask for no step-up: nothing to allocate on every verified request then.
  if (!amr?.length && !acrValues?.length && maxAgeSeconds === undefined) return undefined;
  const reasons: string[] = [];
  if (amr?.length) {
    const used: readonly unknown[] = Array.isArray(claims.amr) ? claims.amr : [];
    const missing = amr.filter((method) => !used.includes(method));
    if (missing.length > 0) reasons.push(`it lacks the authentication methods ${missing.join(" ")}`);
  }
  if (acrValues?.length && !(typeof claims.acr === "string" && acrValues.includes(claims.acr)))
    reasons.push(`its acr is not one of ${acrValues.join(" ")}`);
  const level = reasons.length > 0;
  if (maxAgeSeconds !== undefined) {
    const authTime = claims.auth_time;
    if (typeof authTime !== "number" || !Number.isFinite(authTime) || Date.now() / 1000 - authTime > maxAgeSeconds)
      reasons.push(`the sign-in is not from the last ${maxAgeSeconds} seconds`);
  }
  if (reasons.length === 0) return undefined;
  const description = level ? "A different authentication level is required" : "More recent authentication is required";
  let challenge = `Bearer error="insufficient_user_authentication", error_description="${description}"`;
  if (acrValues?.length) challenge += `, acr_values="${acrValues.join(" ")}"`;
  if (maxAgeSeconds !== undefined) challenge += `, max_age=${maxAgeSeconds}`;
  const message = `Sign in again: the access token's sign-in does not meet this route's requirements (${reasons.join("; ")}).`;
  return refuse(401, "insufficient_user_authentication", message, challenge, amr?.length ? amr : undefined);
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
  return stepUp(claims, options) ?? { ok: true, claims };
}

function rejected(error: unknown, options: GuardOptions): GuardResult {
  options.onRejected?.(error);
  if (!isTokenError(error)) throw error;
  if (error.code === "jwks_unavailable") return refuse(503, "unavailable", "Tokens cannot be checked right now. Try again shortly.");
  return refuse(401, "invalid_token", "The access token is invalid.", bearerChallenge("invalid_token"));
}

/**
 * The whole decision of every guard: read the bearer token (only from `Authorization`, never
 * a URL), verify it, check scopes, then step-up (`GuardOptions` has the order). Adapters only
 * translate the result. Synchronous whenever the verifier can answer at once (Node's
 * `verifyNow`: a cached token, a known key), so guards add no promise round trip to most
 * requests; with a verifier that has no `verifyNow` (the edge entry's) it awaits `verify`.
 */
export function authenticateNow(
  verify: GuardVerifier,
  authorization: string | undefined,
  options: GuardOptions = NO_OPTIONS,
): GuardResult | Promise<GuardResult> {
  checkGuardOptions(options);
  if (!authorization) return refuse(401, "invalid_token", "An access token is required.", bearerChallenge());
  const token = parseBearer(authorization);
  if (!token) return refuse(401, "invalid_token", "The Authorization header is not a bearer token.", bearerChallenge("invalid_token"));
  let verified: Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>>;
  try {
    verified = verify.verifyNow ? verify.verifyNow(token) : verify(token);
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
export async function authenticate(
  verify: GuardVerifier,
  authorization: string | undefined,
  options: GuardOptions = NO_OPTIONS,
): Promise<GuardResult> {
  return authenticateNow(verify, authorization, options);
}
