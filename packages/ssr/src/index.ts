import { CSRF_HEADER, type PublicUser, REFRESH_COOKIE_HOST_NAME, REFRESH_COOKIE_PLAIN_NAME, type TokenResponse } from "@hush/protocol";

/**
 * `@hush/ssr`: a page rendered on the server signs in from the request's refresh cookie
 * (docs/api.md, Server rendering). The cookie is rotated through the auth server — in process
 * when it is mounted in the same app, over HTTP otherwise — and the rotated `Set-Cookie` goes
 * back with the page. Renders that carry one cookie at once share one rotation per process;
 * the auth server's reuse grace keeps renders in other processes safe.
 */

/** What a render knows once signed in. `setCookie` must go on the page's response. */
export interface ServerSession {
  accessToken: string;
  user: PublicUser;
  /** Lifetime of `accessToken` in seconds. */
  expiresIn: number;
  /** The rotated refresh cookie (and its companions), for the page's response. */
  setCookie: string[];
}

/** Anything that answers `Request → Response` as the auth server does (`createAuthServer()`'s result). */
export interface AuthHandler {
  fetch(request: Request, connection?: { remoteAddress?: string }): Promise<Response>;
}

export interface SessionReaderOptions {
  /** The auth server: in process (`createAuthServer()`), or its base URL (`https://auth.example.com`). */
  auth: AuthHandler | string;
  /** A render waits at most this long for a rotation, then renders signed out. Default 5,000 ms. */
  timeoutMs?: number;
  /**
   * How long a finished rotation is handed to renders that arrive with the same (now rotated)
   * cookie — parallel navigations a moment apart. Default 2,000 ms; the auth server's reuse
   * grace covers the rest.
   */
  joinWindowMs?: number;
}

/** What one rotation gave: the session, if any, and the cookies for the response either way. */
export interface SessionResult {
  session: ServerSession | null;
  /**
   * The `Set-Cookie` values for the response: the rotated cookies with a session, the clearing
   * ones when the auth server refused the cookie (so the browser stops sending it), else none.
   */
  setCookie: string[];
}

export interface SessionReader {
  /**
   * The session of a page request, or `null`: no refresh cookie, not a same-site page
   * navigation (a prefetch, an asset, a cross-site request — never refreshed), a refused cookie,
   * or an auth server that did not answer in time.
   */
  getSession(request: Request, connection?: { remoteAddress?: string }): Promise<ServerSession | null>;
  /**
   * Rotates the request's refresh cookie whatever the kind of request — the caller has decided
   * that it may (a same-origin, CSRF-checked action, say) — sharing one rotation per cookie like
   * `getSession`, and gives the cookies to send back even when there is no session.
   */
  readSession(request: Request, connection?: { remoteAddress?: string }): Promise<SessionResult>;
}

/** The refresh cookie of a `Cookie` header, under either of its names, as `name=value`. */
export function refreshCookieOf(cookieHeader: string | null): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    const name = part.slice(0, eq).trim();
    if (eq > 0 && (name === REFRESH_COOKIE_HOST_NAME || name === REFRESH_COOKIE_PLAIN_NAME)) return `${name}=${part.slice(eq + 1).trim()}`;
  }
  return undefined;
}

/**
 * Whether a request is a same-site page navigation, the only kind a server refreshes for:
 * `Sec-Fetch-Mode: navigate` and `Sec-Fetch-Site` `same-origin` or `none` (typed, bookmarked),
 * and not a prefetch (`Sec-Purpose`/`Purpose: prefetch`, Next's `Next-Router-Prefetch`, RSC).
 */
export function isPageNavigation(headers: Headers): boolean {
  const site = headers.get("sec-fetch-site");
  if (headers.get("sec-fetch-mode") !== "navigate" || (site !== "same-origin" && site !== "none")) return false;
  const purpose = `${headers.get("sec-purpose") ?? ""} ${headers.get("purpose") ?? ""}`;
  return !purpose.includes("prefetch") && !headers.has("next-router-prefetch") && !headers.has("rsc");
}

/**
 * A copy of `response` with `Cache-Control: private, no-store` (replacing the page's own: a
 * shared cache must never keep a rotated refresh cookie or a signed-in page) and the session's
 * cookies appended.
 */
export function withSession(response: Response, session: ServerSession | null): Response {
  const headers = new Headers(response.headers);
  headers.set("cache-control", "private, no-store");
  for (const cookie of session?.setCookie ?? []) headers.append("set-cookie", cookie);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The session as a page embeds it for the browser client: JSON safe inside `<script>`. */
export function embedSession(session: ServerSession): string {
  const { accessToken, user, expiresIn } = session;
  return JSON.stringify({ accessToken, user, expiresIn })
    .replace(/</g, "\\u003c")
    .replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

async function keyOf(cookie: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(cookie));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

const isTokenResponse = (body: unknown): body is TokenResponse =>
  typeof body === "object" &&
  body !== null &&
  typeof (body as TokenResponse).accessToken === "string" &&
  typeof (body as TokenResponse).expiresIn === "number" &&
  typeof (body as TokenResponse).user === "object";

/** Creates the reader of sessions for page renders. */
export function createSessionReader(options: SessionReaderOptions): SessionReader {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const joinWindowMs = options.joinWindowMs ?? 2_000;
  const inFlight = new Map<string, Promise<SessionResult>>();
  const none: SessionResult = { session: null, setCookie: [] };

  async function rotate(cookie: string, connection: { remoteAddress?: string } | undefined): Promise<SessionResult> {
    const { auth } = options;
    const base = typeof auth === "string" ? auth.replace(/\/$/, "") : "http://hush.internal";
    // A server-to-server call: no Origin, so the auth server's CSRF rules let it through on the header.
    const request = new Request(`${base}/auth/refresh`, {
      method: "POST",
      headers: { cookie, [CSRF_HEADER]: "1" },
    });
    const response = typeof auth === "string" ? await fetch(request) : await auth.fetch(request, connection);
    const setCookie = response.headers.getSetCookie();
    // A refused cookie (401) is cleared; a busy or unreachable auth server (429, 5xx) clears nothing.
    if (response.status !== 200) return { session: null, setCookie: response.status === 401 ? setCookie : [] };
    const body: unknown = await response.json();
    if (!isTokenResponse(body)) return none;
    return { session: { accessToken: body.accessToken, user: body.user, expiresIn: body.expiresIn, setCookie }, setCookie };
  }

  async function readSession(request: Request, connection?: { remoteAddress?: string }): Promise<SessionResult> {
    const cookie = refreshCookieOf(request.headers.get("cookie"));
    if (!cookie) return none;
    const key = await keyOf(cookie);
    let shared = inFlight.get(key);
    if (!shared) {
      shared = rotate(cookie, connection).catch(() => none);
      inFlight.set(key, shared);
      // Renders arriving a moment later with the same cookie join this rotation; after the
      // window, a new request carries the rotated cookie anyway.
      void shared.finally(() => setTimeout(() => inFlight.delete(key), joinWindowMs).unref?.());
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<SessionResult>((resolve) => {
      timer = setTimeout(() => resolve(none), timeoutMs);
    });
    try {
      return await Promise.race([shared, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    readSession,
    async getSession(request, connection) {
      if (!isPageNavigation(request.headers)) return null;
      return (await readSession(request, connection)).session;
    },
  };
}
