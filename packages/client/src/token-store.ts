/** The current access token and what the client needs from it. Memory only, never storage. */
export interface HeldToken {
  token: string;
  /** `exp` and `iat` in server milliseconds. */
  exp: number;
  iat: number;
}

/** Reads `exp` and `iat` from a JWT without verifying it (the server verifies; this only schedules). */
export function readToken(token: string): HeldToken | undefined {
  try {
    const part = token.split(".")[1] ?? "";
    const json: unknown = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof json !== "object" || json === null) return undefined;
    const { exp, iat } = json as Record<string, unknown>;
    return typeof exp === "number" && typeof iat === "number" ? { token, exp: exp * 1000, iat: iat * 1000 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Holds the token and the estimated offset of the server's clock from this device's (from the
 * token's `iat`, which the server set a moment before the response arrived), so that expiry
 * decisions hold on a device whose clock is minutes wrong.
 */
export function createTokenStore() {
  let held: HeldToken | undefined;
  let skewMs = 0;
  return {
    get: () => held,
    /** Stores a token; `skew` is given when it comes from another tab (same device clock). */
    set(next: HeldToken, skew?: number): void {
      held = next;
      skewMs = skew ?? next.iat - Date.now();
    },
    clear(): void {
      held = undefined;
    },
    skew: () => skewMs,
    /** The server's time now, as well as this device can tell. */
    serverNow: () => Date.now() + skewMs,
  };
}

export type TokenStore = ReturnType<typeof createTokenStore>;
