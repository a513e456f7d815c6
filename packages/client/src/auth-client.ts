import type { PublicUser } from "@hush/protocol";
import type { Listener } from "./events.js";

/** Where the client stands: "loading" until the silent refresh on load has settled. */
export type AuthState = "loading" | "authenticated" | "anonymous";

/** The browser client of docs/api.md, @hush/client. */
export interface AuthClient {
  /** Settles once the silent refresh on load is done: signed in or anonymous. */
  readonly ready: Promise<void>;
  /** Whether a user is signed in; "loading" until `ready`. */
  readonly state: AuthState;
  /** The signed-in user, or null. */
  readonly user: PublicUser | null;
  /** When the current access token expires, in this device's clock (ms), or null. */
  readonly expiresAt: number | null;
  /**
   * Creates an account and signs it in; rejects with an `AuthError` (`email_taken`, `weak_password` …).
   * When the server requires a verified address before any session (`HUSH_EMAIL_VERIFICATION=required`,
   * a `202` answer), it resolves with the new, unverified user and the client stays signed out
   * (`state` is not "authenticated"): show "check your mail" then.
   */
  signup(credentials: { email: string; password: string }): Promise<PublicUser>;
  /** Signs in; rejects with an `AuthError` (`invalid_credentials`, `email_not_verified` …). */
  login(credentials: { email: string; password: string }): Promise<PublicUser>;
  /**
   * Signs this tab and every other tab of the browser out at once, then ends the session on the
   * server. If the server does not confirm (an error status, or no answer), it rejects with an
   * `AuthError` `logout_failed`, emits it as an `error` event, and keeps retrying with back-off
   * (and on `online`, `focus` …) until the server confirms, emitting an `error` event per failed
   * attempt. Until then no tab or reload of this browser refreshes from the cookie that still
   * lives; a new sign-in ends the pending logout.
   */
  logout(): Promise<void>;
  /** Ends every session of the user, on every device, then signs every tab of this browser out. */
  logoutAll(): Promise<void>;
  /** A valid access token, refreshed first when near expiry; null when signed out. */
  getAccessToken(): Promise<string | null>;
  /** Refreshes now, sharing any refresh already under way; resolves to the new token or null. */
  refresh(): Promise<string | null>;
  /**
   * `fetch` with the bearer token (only for the page's origin, the auth server's, `apiOrigins` and
   * `assistedRefreshOrigins`); after a `401` with `error="invalid_token"` it refreshes once and retries once.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Calls `listener` with every event from now on; returns the function that stops it. */
  subscribe(listener: Listener): () => void;
  /**
   * Stops the client for good: removes its window listeners, closes its channel to other tabs,
   * drops its subscribers and clears its timers (waits in progress end at once). It refreshes no
   * more (`refresh()` resolves to null), and a request already under way arms nothing when it
   * settles. It does not sign out: the session, and any pending logout, stay for the next page.
   */
  dispose(): void;
}
