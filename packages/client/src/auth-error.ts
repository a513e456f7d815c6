const BRAND = "__hushAuthError";

/** A refused request to the auth server: `code` is the contract's error code (`invalid_credentials` …). */
export class AuthError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

/** True for an `AuthError`, also from another copy of this package. */
export function isAuthError(value: unknown): value is AuthError {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[BRAND] === true;
}
