/**
 * Why a token was refused. A closed union: `switch` on it. Every code maps to
 * `401 invalid_token` at a guard, except `jwks_unavailable` (the service cannot check tokens
 * right now), which guards answer with `503`.
 */
export type TokenErrorCode =
  | "missing"
  | "too_large"
  | "malformed"
  | "unsupported_algorithm"
  | "unknown_key"
  | "bad_signature"
  | "wrong_type"
  | "wrong_issuer"
  | "wrong_audience"
  | "expired"
  | "not_yet_valid"
  | "issued_in_future"
  | "invalid_claims"
  | "revoked"
  | "jwks_unavailable";

const BRAND = Symbol.for("@hush/verify.TokenError");

/** The one error `verify()` throws. `code` says why; the message is for logs, not for clients. */
export class TokenError extends Error {
  override readonly name = "TokenError";
  readonly code: TokenErrorCode;
  readonly [BRAND] = true;

  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for a `TokenError`, also when it comes from another copy of this package. */
export function isTokenError(value: unknown): value is TokenError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
