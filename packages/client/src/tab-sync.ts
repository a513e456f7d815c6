import type { PublicUser } from "@hush/protocol";
import { fieldOf, isTokenAnswer } from "./json-guards.js";
import type { Lifetime } from "./lifetime.js";

/** Messages between tabs of one browser. Only the access token and the user travel; never the refresh token. */
export type TabMessage = { t: "token"; accessToken: string; user: PublicUser; skew: number } | { t: "ask" } | { t: "out" };

/**
 * A well-formed `TabMessage`. Whatever arrives on the channel is checked: any script of the
 * origin (another app, an older version of this one) can post to it.
 */
export function isTabMessage(value: unknown): value is TabMessage {
  const t = fieldOf(value, "t");
  return (
    t === "ask" ||
    t === "out" ||
    // The token travels as `accessToken`, as in a token response, so one check reads both.
    (t === "token" && isTokenAnswer(value) && typeof fieldOf(value, "skew") === "number")
  );
}

/** The channel between the tabs of one browser: see `createTabSync`. */
export interface TabSync {
  /** Sends `message` to every other tab; does nothing once closed or without `BroadcastChannel`. */
  post(message: TabMessage): void;
  /** False where the browser has no `BroadcastChannel`. */
  readonly enabled: boolean;
  /** Closes the channel: no message arrives or leaves after it. */
  close(): void;
}

/**
 * BroadcastChannel between the tabs of one origin, for one auth server. Coordination only saves
 * work (one tab refreshes and shares the token); correctness never depends on it, since the
 * server's reuse grace makes concurrent refreshes safe. Malformed messages are ignored.
 */
export function createTabSync(name: string, onMessage: (message: TabMessage) => void): TabSync {
  let channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : undefined;
  if (channel) channel.onmessage = (event: MessageEvent<unknown>) => isTabMessage(event.data) && onMessage(event.data);
  return {
    post(message) {
      channel?.postMessage(message);
    },
    enabled: channel !== undefined,
    close() {
      // A closed BroadcastChannel throws on postMessage: forget it, so `post` becomes a no-op.
      channel?.close();
      channel = undefined;
    },
  };
}

/**
 * Runs `task` holding the Web Lock `name` when the browser has Web Locks, waiting at most
 * `waitMs` for it; past that (or without Web Locks, or once `life` ends) it runs anyway. A lock
 * can never hang the app.
 */
export async function withLock<T>(name: string, waitMs: number, life: Lifetime, task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === "object" ? navigator.locks : undefined;
  if (!locks) return task();
  const abort = new AbortController();
  // The wait's timer belongs to the client's lifetime (unlike AbortSignal.timeout's), so that
  // dispose() leaves none behind: it ends the wait at once, and the task settling stops it.
  const stopWaiting = life.after(waitMs, () => abort.abort(), true);
  let started = false;
  try {
    return await locks.request(name, { signal: abort.signal }, () => {
      started = true;
      return task();
    });
  } catch (error) {
    // Only a wait that timed out runs the task unlocked; the task's own failures propagate.
    if (!started && error instanceof DOMException) return task();
    throw error;
  } finally {
    stopWaiting();
  }
}
