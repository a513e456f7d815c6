import type { ErrorCode } from "@hush/protocol";
import { fieldOf, stringFieldOf } from "./json-guards.js";

const BRAND = "__hushAuthError";

/**
 * The codes the client raises itself, which no server sends (each has a row in `docs/errors.md`):
 * - `logout_failed` — the server did not confirm a logout (it answered an error, or could not be
 *   reached). The tab is signed out anyway, and the client retries until the server confirms.
 */
export type ClientErrorCode = "logout_failed";

/**
 * What an `AuthError` says: an error code of the auth server (docs/api.md, HTTP API, `docs/errors.md`) or of
 * the client. Open-ended (`string & {}`), so that codes of a newer server pass through.
 */
export type AuthErrorCode = ErrorCode | ClientErrorCode | (string & {});

/** A refused request to the auth server: `code` is the contract's error code (`invalid_credentials` …). */
export class AuthError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    /** The HTTP status of the server's answer, or 0 when no answer arrived (network error). */
    readonly status: number,
    /**
     * The server's error body as parsed, unchecked JSON (undefined when none), for the fields some
     * errors add: `mfaToken` and `methods` of `mfa_required` (read them with `mfaChallengeOf` of
     * `@hush/client/mfa`).
     */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

/** True for an `AuthError`, also from another copy of this package. */
export function isAuthError(value: unknown): value is AuthError {
  return fieldOf(value, BRAND) === true;
}

/**
 * The `AuthError` of a refused request, from the server's error body (`{error, message}`,
 * docs/api.md, HTTP API). A body that is not JSON or lacks a string `error` reads as `unavailable` with the status
 * text: an answer from something other than the auth server (a proxy's 502 page, say).
 */
export async function authErrorOf(response: Response): Promise<AuthError> {
  const body: unknown = await response.json().catch(() => undefined);
  return new AuthError(
    stringFieldOf(body, "error") ?? "unavailable",
    stringFieldOf(body, "message") ?? response.statusText,
    response.status,
    body,
  );
}
