import { REFRESH_COOKIE_HOST_NAME, REFRESH_COOKIE_PLAIN_NAME, SESSION_HINT_COOKIE_NAME } from "@hush/protocol";
import { type CookieSameSite, isLoopbackHost } from "../config/options.js";

/**
 * `__Host-hush_rt` where browsers accept `__Host-` cookies (an `https:` issuer, or a loopback
 * host, which browsers treat as secure); plain `hush_rt` for any other `http:` issuer.
 */
export function refreshCookieName(issuer: string): string {
  return usesHostPrefix(issuer) ? REFRESH_COOKIE_HOST_NAME : REFRESH_COOKIE_PLAIN_NAME;
}

/** Whether browsers accept `__Host-` cookies from this issuer: `https:`, or a loopback host. */
export function usesHostPrefix(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === "https:" || isLoopbackHost(url.hostname);
}

/** The value of cookie `name` in a `Cookie` header, if any. */
export function readCookie(cookieHeader: string | null, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Response headers: one `Set-Cookie` per cookie, then `headers`. */
export function cookieHeaders(cookies: readonly string[], headers: Record<string, string> = {}): [string, string][] {
  return [...cookies.map((cookie): [string, string] => ["set-cookie", cookie]), ...Object.entries(headers)];
}

/**
 * Writes and clears the refresh cookie with exactly the attributes of docs/api.md, CSRF, and
 * beside it the session hint (`hush_session=1`: same lifetime and attributes but readable by
 * scripts, so a page can tell it has no session without asking the server).
 */
export class RefreshCookie {
  readonly name: string;

  constructor(
    issuer: string,
    private readonly sameSite: CookieSameSite,
  ) {
    this.name = refreshCookieName(issuer);
  }

  /** `Set-Cookie` values carrying a refresh token, and the hint, for `maxAgeSeconds`. */
  set(token: string, maxAgeSeconds: number): [refresh: string, hint: string] {
    const maxAge = `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; Path=/`;
    return [
      `${this.name}=${token}; ${maxAge}; HttpOnly; Secure; SameSite=${this.sameSite}`,
      `${SESSION_HINT_COOKIE_NAME}=1; ${maxAge}; Secure; SameSite=${this.sameSite}`,
    ];
  }

  /** `Set-Cookie` values that remove the cookie and the hint. */
  clear(): [refresh: string, hint: string] {
    return [
      `${this.name}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=${this.sameSite}`,
      `${SESSION_HINT_COOKIE_NAME}=; Max-Age=0; Path=/; Secure; SameSite=${this.sameSite}`,
    ];
  }

  /** The refresh token from a `Cookie` header, if any. */
  read(cookieHeader: string | null): string | undefined {
    return readCookie(cookieHeader, this.name);
  }
}
