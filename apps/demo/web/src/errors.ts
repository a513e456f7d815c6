import { isAuthError } from "@hush/client";

/** What a re-authentication prompt rejects with when the user closes it: nothing to report. */
export const CANCELLED = new Error("Cancelled.");

/** What to tell the user about a failed call to the auth server. */
export function errorText(error: unknown): string {
  if (error === CANCELLED) return "Cancelled.";
  if (!isAuthError(error)) return "Could not reach the auth server.";
  switch (error.code) {
    case "invalid_link":
      return "This link is invalid, already used or expired. Ask for a new one.";
    case "email_not_verified":
      return "Verify your address first: follow the link we mailed you, then sign in.";
    case "invalid_code":
      return "That code is not right, or was used already. Try the next one.";
    case "invalid_mfa_token":
      return "This sign-in step has expired or had too many wrong codes: sign in again.";
    case "invalid_passkey":
      return "The passkey was not accepted. Try again.";
    case "passkey_cancelled":
      return "The passkey prompt was closed.";
    case "passkey_unsupported":
      return "This browser cannot use passkeys.";
    case "last_sign_in_method":
      return "This is your only way to sign in: set a password, add a passkey or link another provider first.";
  }
  return `${error.message} (${error.code})`;
}

/** What to tell the user when a provider sign-in came back with `#error=<code>`. */
export function providerErrorText(code: string): string {
  switch (code) {
    case "oauth_denied":
      return "The sign-in was cancelled at the provider.";
    case "account_exists":
      return "An account with this address exists already. Sign in to it another way (password, passkey, emailed link), then link the provider in the security panel.";
    default:
      return "The sign-in with the provider failed. Try again.";
  }
}
