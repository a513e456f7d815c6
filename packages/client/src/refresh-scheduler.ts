import type { Lifetime } from "./lifetime.js";
import type { TokenStore } from "./token-store.js";

/** The scheduled refresh comes at most this long before `exp`, in ms … */
export const REFRESH_MARGIN_MS = 60_000;
/** … and at most this share of the token's lifetime before it (a 10-minute token: 60 s; a 1-minute one: 12 s). */
export const REFRESH_MARGIN_SHARE = 0.2;
/** Up to this much earlier still, at random, in ms, so that devices signed in together do not refresh together … */
export const REFRESH_JITTER_MS = 5_000;
/** … and at most this share of the token's lifetime. */
export const REFRESH_JITTER_SHARE = 0.1;
/** The longest delay `setTimeout` takes (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** The moments a throttled or stopped timer may have missed its deadline. */
const WAKE_UPS = ["visibilitychange", "focus", "online", "pageshow"];

/** The refresh timer of one client: see `createRefreshScheduler`. */
export interface RefreshScheduler {
  /** Arms the timer for the token held (disarms it when none is held, or when `enabled` is false). */
  schedule(): void;
  /** Disarms the timer. */
  cancel(): void;
  /** True once the deadline of the last `schedule()` has passed, in the server's time. */
  due(): boolean;
}

/**
 * Schedules the refresh from a wall-clock deadline a little before the held token's `exp` (see
 * the constants above), and calls `wake` when it is reached. Timers stall in background tabs and
 * on sleeping machines, so `wake` is also called on every wake-up of a visible page
 * (`visibilitychange`, `focus`, `online`, `pageshow`) for the client to re-check the deadline.
 */
export function createRefreshScheduler(store: TokenStore, life: Lifetime, enabled: boolean, wake: () => void): RefreshScheduler {
  let deadline = 0;
  let cancel = () => {};
  for (const type of WAKE_UPS) life.listen(type, () => (document.visibilityState === "hidden" ? undefined : wake()));
  return {
    schedule() {
      cancel();
      const held = store.get();
      if (!held || !enabled) return;
      const lifeMs = held.exp - held.iat;
      deadline =
        held.exp -
        Math.min(REFRESH_MARGIN_MS, lifeMs * REFRESH_MARGIN_SHARE) -
        Math.random() * Math.min(REFRESH_JITTER_MS, lifeMs * REFRESH_JITTER_SHARE);
      cancel = life.after(Math.min(MAX_TIMEOUT_MS, Math.max(0, deadline - store.serverNow())), wake);
    },
    cancel: () => cancel(),
    due: () => store.serverNow() >= deadline,
  };
}
