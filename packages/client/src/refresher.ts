import type { PublicUser } from "@hush/protocol";
import type { AuthApi } from "./auth-api.js";
import { backoffMs } from "./backoff.js";
import { isTokenAnswer, stringFieldOf } from "./json-guards.js";
import type { Lifetime } from "./lifetime.js";
import { withLock } from "./tab-sync.js";
import type { TokenStore } from "./token-store.js";

/** Retries of one refresh, after its first attempt, when the network fails or the server answers 5xx/429. */
export const REFRESH_RETRIES = 4;
/** First wait between two attempts at one refresh, in ms; it doubles per retry. */
export const REFRESH_RETRY_BASE_MS = 500;
/** Longest wait between two attempts at one refresh, in ms. */
export const REFRESH_RETRY_MAX_MS = 8_000;
/**
 * A token that another tab refreshed while this one waited for the lock is used, not refreshed
 * again, with more than this left (in ms) — or, for short-lived tokens, more than half its life.
 */
export const PEER_TOKEN_MIN_LIFE_MS = 10_000;
/** Share of a token's life that must be left for a peer's token to be used (see `PEER_TOKEN_MIN_LIFE_MS`). */
export const PEER_TOKEN_MIN_LIFE_SHARE = 0.5;

/** How much life a peer's token must have left to be used instead of refreshing again, in ms. */
function peerMinLifeMs(token: { exp: number; iat: number }): number {
  return Math.min(PEER_TOKEN_MIN_LIFE_MS, (token.exp - token.iat) * PEER_TOKEN_MIN_LIFE_SHARE);
}

/** What the refresher tells the client. */
export interface RefreshHooks {
  /** Takes a refreshed token and its user; false when the client refused it (older than the one held, or of a session being logged out). */
  onToken(token: string, user: PublicUser): boolean;
  /** The server refused the refresh cookie (a 401): `code` is its error code. */
  onRefused(code: string): void;
  /** This refresh failed for now: every attempt met a network failure or an error status other than 401. */
  onFailed(error: Error): void;
}

/** The refresh of one client: see `createRefresher`. */
export interface Refresher {
  /** Refreshes now, sharing any refresh already under way; resolves to the new token or null. */
  refresh(): Promise<string | null>;
  /** True when the last refresh failed for want of a network: the next wake-up tries again. */
  readonly unreachable: boolean;
}

/**
 * Refreshes the access token with the refresh cookie (`POST /refresh`). Single flight: every
 * caller in this tab shares one refresh, and across tabs it runs under the Web Lock `lockName`
 * (at most `lockWaitMs` of waiting). A network failure, 5xx or 429 is retried with back-off
 * (0.5 s doubling to 8 s, jittered), never a reason to sign anyone out; a 401 is. Once `life`
 * ends it makes no more requests and resolves to null.
 */
export function createRefresher(
  api: AuthApi,
  store: TokenStore,
  life: Lifetime,
  lockName: string,
  lockWaitMs: number,
  hooks: RefreshHooks,
): Refresher {
  let inflight: Promise<string | null> | undefined;
  let unreachable = false;

  async function request(): Promise<string | null> {
    for (let attempt = 0; !life.ended; attempt++) {
      let response: Response | undefined;
      try {
        response = await api.send("/refresh");
      } catch {
        // Offline or unreachable: not a reason to sign anyone out.
      }
      unreachable = false;
      if (response?.ok) {
        const body: unknown = await response.json();
        // Refused: an older token than the one held, or a session being logged out meanwhile.
        if (!isTokenAnswer(body) || !hooks.onToken(body.accessToken, body.user)) return store.get()?.token ?? null;
        return body.accessToken;
      }
      if (response?.status === 401) {
        const body: unknown = await response.json().catch(() => undefined);
        hooks.onRefused(stringFieldOf(body, "error") ?? "invalid_refresh_token");
        return null;
      }
      if (attempt >= REFRESH_RETRIES) {
        unreachable = true;
        hooks.onFailed(new Error(response ? `refresh answered ${response.status}` : "network error"));
        return null;
      }
      await life.sleep(backoffMs(attempt, REFRESH_RETRY_BASE_MS, REFRESH_RETRY_MAX_MS));
    }
    return null;
  }

  return {
    refresh() {
      if (!inflight) {
        const before = store.get();
        inflight = withLock(lockName, lockWaitMs, life, async () => {
          // Another tab refreshed while we waited for the lock: use its token.
          const now = store.get();
          if (now && now !== before && now.exp - store.serverNow() > peerMinLifeMs(now)) return now.token;
          return request();
        }).finally(() => {
          inflight = undefined;
        });
      }
      return inflight;
    },
    get unreachable() {
      return unreachable;
    },
  };
}
