import type { AuthApi } from "./auth-api.js";
import { AuthError, isAuthError } from "./auth-error.js";
import { backoffMs } from "./backoff.js";
import type { AuthEvent } from "./events.js";
import type { Lifetime } from "./lifetime.js";
import type { HeldToken } from "./token-store.js";

/** First wait before asking the server again to confirm a logout, in ms; it doubles per attempt. */
export const LOGOUT_RETRY_BASE_MS = 1_000;
/** Longest wait between two attempts to have a logout confirmed, in ms. */
export const LOGOUT_RETRY_MAX_MS = 30_000;

/** A logout that the auth server has not confirmed yet: see `createPendingLogout`. */
export interface PendingLogout {
  /** The session id of the pending logout ("" when unknown), or null when none is pending. */
  get(): string | null;
  /** Marks the logout of session `sid` as pending, with a fresh back-off. */
  begin(sid: string): void;
  /** Ends the pending logout unconfirmed (a sign-in replaced its cookie), and its retries. */
  drop(): void;
  /**
   * False for a token that would bring back the session being logged out. A token of another
   * session means a sign-in replaced the cookie: the pending logout has nothing left to end (and
   * must not end the new session), so it is dropped, and the token allowed.
   */
  allows(held: HeldToken): boolean;
  /**
   * Asks the server to end the session (`POST /logout`). A failure (an error status or no
   * answer) rejects with `logout_failed`, is emitted as an `error` event, and schedules another
   * attempt with back-off for as long as the logout is pending. Concurrent calls share one request.
   */
  confirm(): Promise<void>;
}

/**
 * Remembers a logout that the auth server has not confirmed yet, as the id of the session it
 * ends (its `sid`: no secret; "" when unknown), so that no tab and no reload of this browser signs
 * back in with the refresh cookie that still lives; and has the server confirm it, retrying with
 * back-off (1 s doubling to 30 s, jittered). The mark is kept in `localStorage` under `key`, which
 * every tab of the origin shares and a reload keeps, and removed as soon as the server confirms;
 * where storage is unavailable (blocked, sandboxed, full) it lives in this tab's memory only.
 */
export function createPendingLogout(key: string, api: AuthApi, emit: (event: AuthEvent) => void, life: Lifetime): PendingLogout {
  let memory: string | null = null;
  let unsaved = false;
  let ending: Promise<void> | undefined;
  let attempts = 0;
  let cancelRetry = () => {};

  function get(): string | null {
    try {
      return localStorage.getItem(key) ?? (unsaved ? memory : null);
    } catch {
      return memory;
    }
  }

  function set(sid: string | null): void {
    memory = sid;
    try {
      if (sid === null) localStorage.removeItem(key);
      else localStorage.setItem(key, sid);
      unsaved = false;
    } catch {
      unsaved = true;
    }
  }

  function drop(): void {
    set(null);
    cancelRetry();
  }

  function confirm(): Promise<void> {
    cancelRetry();
    ending ??= api
      .post("/logout")
      .then(
        () => {
          set(null);
          attempts = 0;
        },
        (failure: unknown) => {
          const error = new AuthError(
            "logout_failed",
            `Logout not confirmed (${isAuthError(failure) ? failure.code : "network error"}); retrying.`,
            isAuthError(failure) ? failure.status : 0,
          );
          emit({ type: "error", error });
          cancelRetry = life.after(backoffMs(attempts++, LOGOUT_RETRY_BASE_MS, LOGOUT_RETRY_MAX_MS), () => {
            // Another tab may have had it confirmed, or a sign-in dropped it, meanwhile.
            if (get() !== null) confirm().catch(() => undefined);
          });
          throw error;
        },
      )
      .finally(() => {
        ending = undefined;
      });
    return ending;
  }

  return {
    get,
    begin(sid) {
      set(sid);
      attempts = 0;
    },
    drop,
    allows(held) {
      const sid = get();
      if (sid === null) return true;
      if (sid === "" || sid === held.sid) return false;
      drop();
      return true;
    },
    confirm,
  };
}
