import { isAuthError } from "@hush/client";

/** What to tell the user about a failed call to the auth server. */
export function errorText(error: unknown): string {
  if (!isAuthError(error)) return "Could not reach the auth server.";
  if (error.code === "invalid_link") return "This link is invalid, already used or expired. Ask for a new one.";
  if (error.code === "email_not_verified") return "Verify your address first: follow the link we mailed you, then sign in.";
  return `${error.message} (${error.code})`;
}
