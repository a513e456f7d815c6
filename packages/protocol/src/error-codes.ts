/**
 * Every error the Hush HTTP API answers with, mapped to its HTTP status.
 *
 * The status of an error comes from this table alone, never from the code that throws it, so
 * the wire contract (docs/api.md, HTTP API) lives in one place. `docs/errors.md` has one row per code and a
 * test keeps the two in step.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  weak_password: 400,
  invalid_link: 400,
  invalid_passkey: 400,
  invalid_credentials: 401,
  invalid_code: 401,
  invalid_mfa_token: 401,
  invalid_token: 401,
  invalid_refresh_token: 401,
  refresh_token_reused: 401,
  session_revoked: 401,
  insufficient_user_authentication: 401,
  account_suspended: 403,
  email_not_verified: 403,
  mfa_required: 403,
  csrf_failed: 403,
  reauthentication_required: 403,
  insufficient_scope: 403,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  already_verified: 409,
  last_sign_in_method: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const satisfies Record<string, number>;

/** A wire error code, as found in the `error` field of every error body. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** All error codes, in table order. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as readonly ErrorCode[];

/** The JSON body of every error response: `{"error": code, "message": text for humans}`. */
export interface ErrorBody {
  error: ErrorCode | (string & {});
  message: string;
}

/** True when `value` is one of the wire error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}
