import type { PublicUser } from "@hush/protocol";
import type { AuthClient } from "./auth-client.js";
import { AuthError } from "./auth-error.js";
import { internals } from "./client-internals.js";
import { entryRequest } from "./entry-request.js";
import { takeFragmentParams } from "./fragment.js";
import { fieldOf, isPublicUser } from "./json-guards.js";

// `@hush/client/email`: the email flows (address verification, password reset, email change,
// sign-in links, account deletion), kept out of the core entry point so that an app that does
// not use them does not ship them. Each function is bound to a client made by `createAuthClient`.

/** The email flows of one client: see `emailActions`. Every rejection is an `AuthError` (or a network `TypeError`). */
export interface EmailActions {
  /** Mails the signed-in user a new verification link (`202`); `already_verified` (409) when it is. */
  requestEmailVerification(): Promise<void>;
  /** Verifies the address with the token of a verification link, and signs this browser in (as `login` does). */
  verifyEmail(token: string): Promise<PublicUser>;
  /** Mails a reset link to `email` if an account has it; resolves (`202`) either way for a well-formed address. */
  requestPasswordReset(email: string): Promise<void>;
  /** Sets a new password with the token of a reset link and signs this browser in; every other session ends. */
  resetPassword(input: { token: string; newPassword: string }): Promise<PublicUser>;
  /** Mails a confirmation link to `newEmail` (`202`); the address changes once it is followed. */
  changeEmail(input: { newEmail: string; currentPassword: string }): Promise<void>;
  /**
   * Confirms an address change with the token of the link mailed to the new address; resolves
   * with the user under the new (verified) address. A client signed in as that user refreshes to show it.
   */
  confirmEmailChange(token: string): Promise<PublicUser>;
  /** Mails a sign-in link to `email` (`202`); `not_found` (404) when the server has sign-in links off. */
  requestSignInLink(email: string): Promise<void>;
  /** Signs this browser in with the token of a sign-in link, as `login` does. */
  signInWithLink(token: string): Promise<PublicUser>;
  /**
   * Deletes the signed-in user's account (`204`), then signs this tab and every other tab out,
   * as `logoutAll` does. A wrong password or a stale sign-in rejects, and nothing changes.
   */
  deleteAccount(input: { currentPassword: string }): Promise<void>;
}

/**
 * The email flows of `client`, which must come from `createAuthClient` (of this copy of the package).
 * Links the server mails carry their token in the fragment: read it with `readLinkToken()`.
 *
 * @example
 * const email = emailActions(client);
 * const token = readLinkToken(); // on /verify-email, at load
 * button.onclick = () => token && email.verifyEmail(token); // only on the user's click: mail scanners open links too
 */
export function emailActions(client: AuthClient): EmailActions {
  const hooks = internals.get(client);
  if (!hooks) throw new TypeError("emailActions() needs a client made by createAuthClient() of the same @hush/client");
  const { base, signIn, end } = hooks;

  const call = entryRequest(client, base);

  return {
    async requestEmailVerification() {
      await call("POST", "/email/verification", undefined, true);
    },
    verifyEmail: (token) => signIn("/email/verify", { token }),
    async requestPasswordReset(email) {
      await call("POST", "/password/forgot", { email });
    },
    resetPassword: ({ token, newPassword }) => signIn("/password/reset", { token, newPassword }),
    async changeEmail({ newEmail, currentPassword }) {
      await call("POST", "/email/change", { newEmail, currentPassword }, true);
    },
    async confirmEmailChange(token) {
      const response = await call("POST", "/email/change/confirm", { token });
      const user = fieldOf(await response.json().catch(() => undefined), "user");
      if (!isPublicUser(user)) throw new AuthError("unavailable", "The auth server's answer names no user.", response.status);
      // This browser is signed in as that user: the next token response carries the new address.
      if (client.user?.id === user.id) await client.refresh();
      return user;
    },
    async requestSignInLink(email) {
      await call("POST", "/signin-link", { email });
    },
    signInWithLink: (token) => signIn("/signin-link/verify", { token }),
    async deleteAccount({ currentPassword }) {
      await call("DELETE", "/account", { currentPassword }, true);
      end();
    },
  };
}

/**
 * The token of an emailed link (`…/verify-email#token=…`), taken from `location.hash`, or null.
 * The token is removed from the address bar and from this page's history entry
 * (`history.replaceState`), so that Back, a bookmark, a shared URL or a screenshot do not carry it;
 * any other fragment parameters stay. Call it once, at load, and send the token only when the user
 * acts (a button): mail scanners open links, and some run their scripts.
 */
export function readLinkToken(): string | null {
  return takeFragmentParams(["token"])?.get("token") || null;
}
