import type { PublicUser } from "@hush/protocol";

/** Messages between tabs of one browser. Only the access token and the user travel; never the refresh token. */
export type TabMessage = { t: "token"; token: string; user: PublicUser; skew: number } | { t: "ask" } | { t: "out" };

/**
 * BroadcastChannel between the tabs of one origin, for one auth server. Coordination only saves
 * work (one tab refreshes and shares the token); correctness never depends on it, since the
 * server's reuse grace makes concurrent refreshes safe.
 */
export function createTabSync(name: string, onMessage: (message: TabMessage) => void) {
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : undefined;
  if (channel) channel.onmessage = (e: MessageEvent<TabMessage>) => onMessage(e.data);
  return {
    post(message: TabMessage): void {
      channel?.postMessage(message);
    },
    enabled: channel !== undefined,
    close: () => channel?.close(),
  };
}

/**
 * Runs `task` holding a Web Lock when the browser has them, waiting at most `waitMs`; past that
 * (or without Web Locks) it runs anyway. A lock can never hang the app.
 */
export async function withLock<T>(name: string, waitMs: number, task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === "object" ? navigator.locks : undefined;
  if (!locks) return task();
  let started = false;
  try {
    return await locks.request(name, { signal: AbortSignal.timeout(waitMs) }, () => {
      started = true;
      return task();
    });
  } catch (error) {
    // Only a wait that timed out runs the task unlocked; the task's own failures propagate.
    if (!started && error instanceof DOMException) return task();
    throw error;
  }
}
