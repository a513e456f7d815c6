import { ERROR_STATUS, type ErrorCode } from "@hush/protocol";

/*
 * The server's errors, in one module that every layer uses (services never import from
 * `http/`): the error class, its brand check, and the factories of errors thrown in more
 * than one place.
 */

/**
 * The one error class of the server: a wire `code` from the protocol's closed union and a
 * message for humans. The HTTP status is looked up in `ERROR_STATUS`, never chosen by the thrower.
 */
export class HushError extends Error {
  override readonly name = "HushError";
  readonly code: ErrorCode;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`, a cleared cookie). */
  readonly headers: Readonly<Record<string, string>>;
  /** Extra fields of the error body (`mfaToken` and `methods` of `mfa_required`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.headers = headers;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** True for a `HushError`, also across copies of this package in one process. */
export function isHushError(value: unknown): value is HushError {
  return value instanceof Error && value.name === "HushError" && "code" in value;
}

/** `401 invalid_refresh_token`: the refresh cookie is missing, malformed, unknown or expired. */
export function invalidRefreshToken(message = "The refresh token is missing, invalid or expired."): HushError {
  return new HushError("invalid_refresh_token", message);
}

/** `401 session_revoked`: the session was ended (logout, revocation, reuse, suspension, new password). */
export function sessionRevoked(): HushError {
  return new HushError("session_revoked", "This session has ended. Sign in again.");
}

/** `401 invalid_token` for a bad bearer token, with the RFC 6750 challenge. */
export function invalidToken(message = "The access token is invalid."): HushError {
  return new HushError("invalid_token", message, { "www-authenticate": 'Bearer error="invalid_token"' });
}

/** `401 invalid_token` for a request with no bearer token at all: a bare `Bearer` challenge (RFC 6750 §3.1). */
export function missingToken(): HushError {
  return new HushError("invalid_token", "An access token is required.", { "www-authenticate": "Bearer" });
}
