import { fieldOf, stringFieldOf } from "./json-guards.js";

/** The current access token and what the client needs from it. Memory only, never storage. */
export interface HeldToken {
  token: string;
  /** `exp` and `iat` in server milliseconds. */
  exp: number;
  iat: number;
  /** The user it was issued to (`sub`). */
  sub: string;
  /** Its session (`sid`), or "" when it names none. */
  sid: string;
}

/** The claims the client relies on, each checked: a token's payload is untrusted input here. */
function hasClaims(value: unknown): value is { exp: number; iat: number; sub: string } {
  return (
    typeof fieldOf(value, "exp") === "number" && typeof fieldOf(value, "iat") === "number" && stringFieldOf(value, "sub") !== undefined
  );
}

/**
 * Reads `exp`, `iat`, `sub` and `sid` from a JWT without verifying it: the server verifies; the
 * client only schedules, and refuses tokens that are not the signed-in user's.
 */
export function readToken(token: string): HeldToken | undefined {
  try {
    const part = (token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
    const json: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
    if (!hasClaims(json)) return undefined;
    return { token, exp: json.exp * 1000, iat: json.iat * 1000, sub: json.sub, sid: stringFieldOf(json, "sid") ?? "" };
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
    /** The token held, or `undefined`. */
    get: () => held,
    /** Stores a token; `skew` is given when it comes from another tab (same device clock). */
    set(next: HeldToken, skew?: number): void {
      held = next;
      skewMs = skew ?? next.iat - Date.now();
    },
    /** Forgets the token (the skew stays: it is the device's, not the token's). */
    clear(): void {
      held = undefined;
    },
    /** The server's clock minus this device's, in ms. */
    skew: () => skewMs,
    /** The server's time now, as well as this device can tell. */
    serverNow: () => Date.now() + skewMs,
  };
}

/** The token store of one client. */
export type TokenStore = ReturnType<typeof createTokenStore>;
