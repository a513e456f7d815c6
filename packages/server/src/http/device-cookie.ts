import type { CookieSameSite } from "../config/options.js";
import { readCookie, usesHostPrefix } from "./refresh-cookie.js";

/** About 400 days: the longest lifetime browsers keep a cookie. */
const DEVICE_COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600;

/**
 * The device cookie (`__Host-hush_device`, or `hush_device` where the refresh cookie is plain
 * `hush_rt`): a `DeviceTrust` token, `HttpOnly; Secure`, with the refresh cookie's `SameSite`.
 * It survives logout on purpose: it says "this browser has signed in to this account before".
 */
export class DeviceCookie {
  readonly name: string;

  constructor(
    issuer: string,
    private readonly sameSite: CookieSameSite,
  ) {
    this.name = usesHostPrefix(issuer) ? "__Host-hush_device" : "hush_device";
  }

  set(token: string): string {
    return `${this.name}=${token}; Max-Age=${DEVICE_COOKIE_MAX_AGE_SECONDS}; Path=/; HttpOnly; Secure; SameSite=${this.sameSite}`;
  }

  read(cookieHeader: string | null | undefined): string | undefined {
    return readCookie(cookieHeader ?? null, this.name);
  }
}
