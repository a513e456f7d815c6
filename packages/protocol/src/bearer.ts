// RFC 6750 §2.1: `Bearer`, one or more spaces, then a b64token. The scheme is case-insensitive
// (RFC 9110 §11.1); trailing spaces are tolerated. Linear: no part can match what another does.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The token of an `Authorization` header value of the form `Bearer <token>` (RFC 6750 §2.1),
 * or `undefined` when the value is anything else — another scheme, no token, a character a
 * b64token may not hold. Only the syntax is checked: callers tell a missing header (answer a
 * bare `WWW-Authenticate: Bearer`) from a malformed one (`invalid_token`) before calling it.
 *
 * @example
 * parseBearer("Bearer eyJhbGciOi...") // "eyJhbGciOi..."
 * parseBearer("Basic dXNlcjpwYXNz")   // undefined
 */
export function parseBearer(authorization: string): string | undefined {
  return BEARER.exec(authorization)?.[1];
}
