import { type AccessTokenClaims, CSRF_HEADER, PATHS, type PublicUser } from "@hush/protocol";
import { type AuthHandler, createSessionReader, isPageNavigation, type SessionReaderOptions } from "@hush/ssr";
import { createVerifier, type Verifier, type VerifierOptions } from "@hush/verify";
import { headers as requestHeaders } from "next/headers.js";
import { type NextRequest, NextResponse } from "next/server.js";

/**
 * `@hush/next`: Hush in a Next.js App Router app (docs/api.md, Next.js). The auth server is
 * mounted as a route handler on the app's own origin; `proxy` signs document navigations (and
 * same-origin server actions) in from the refresh cookie and hands the access token to the
 * render on a request header; `getServerAuth()` verifies that token, so nothing but a token the
 * auth server signed makes a render signed in.
 */

/** Request header on which the proxy hands the access token to the render. Stripped from every incoming request. */
export const ACCESS_TOKEN_REQUEST_HEADER = "x-hush-access-token";
/** Request header with the user (URI-encoded JSON) that goes with it. Stripped likewise. */
export const USER_REQUEST_HEADER = "x-hush-user";
/** Request header saying that the proxy looked for a session (`1`): without a token, there was none. Stripped likewise. */
export const CHECKED_REQUEST_HEADER = "x-hush-session-checked";
const OWN_HEADERS = [ACCESS_TOKEN_REQUEST_HEADER, USER_REQUEST_HEADER, CHECKED_REQUEST_HEADER];

export interface HushNextOptions {
  /**
   * The auth server: in process (what `createAuthServer()` resolves to, or a function giving
   * it, called at the first request), or the base URL of one running elsewhere.
   */
  auth: AuthHandler | (() => AuthHandler | Promise<AuthHandler>) | string;
  /** The auth server's issuer (`HUSH_ISSUER`), matched exactly in every token. */
  issuer: string;
  /** The audience its access tokens carry (`HUSH_AUDIENCE`). Default `"hush"`. */
  audience?: string | readonly string[];
  /** Further options of the verifier (`@hush/verify`), e.g. `revocations`. */
  verify?: Omit<VerifierOptions, "issuer" | "audience">;
  /** Options of the session reader (`@hush/ssr`): `timeoutMs`, `joinWindowMs`. */
  reader?: Omit<SessionReaderOptions, "auth">;
}

/** What a server component, route handler or server action knows of the signed-in user. */
export interface ServerAuth {
  accessToken: string;
  /** The verified claims of `accessToken`. */
  claims: AccessTokenClaims;
  /** Seconds `accessToken` has left. */
  expiresIn: number;
  /** The user, when the proxy signed this request in; `null` for a bearer token (its `sub` is `claims.sub`). */
  user: PublicUser | null;
}

/** The session a page hands to the browser client: `initialSession` of `createAuthClient`. */
export interface EmbeddedSession {
  accessToken: string;
  expiresIn: number;
  user: PublicUser;
}

export interface HushNext {
  /** The auth server as route handlers: `export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = hush.handlers;` */
  readonly handlers: Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS", (request: Request) => Promise<Response>>;
  /** The body of `proxy.ts`: `export const proxy = hush.proxy;` */
  proxy(request: NextRequest): Promise<NextResponse>;
  /**
   * The signed-in user of the request being rendered or handled, or `null`: the proxy's token
   * (a navigation or a same-origin action), else an `Authorization: Bearer` token (a call from
   * `auth.fetch`). Either is verified; anything else is anonymous.
   */
  getServerAuth(): Promise<ServerAuth | null>;
  /**
   * The session for `<HushProvider session={…}>`: the embedded session, `null` when the proxy
   * looked and found none (the browser then asks nobody), `undefined` when it did not look.
   */
  getInitialSession(): Promise<EmbeddedSession | null | undefined>;
}

/** Whether `value` is an absolute URL of this request's own origin (scheme, host and port). */
function sameOrigin(value: string | null, request: NextRequest): boolean {
  if (!value) return false;
  try {
    return new URL(value).origin === request.nextUrl.origin;
  } catch {
    return false;
  }
}

/**
 * A state-changing request that may be signed in from the cookie, checked as Hush's own cookie
 * endpoints are: a server action (`Next-Action`) or a call with `X-Hush-CSRF: 1`, sent by this
 * origin's pages (`Origin` is this origin, and `Sec-Fetch-Site` says so where the browser sends it).
 * A cross-site form or `fetch` gets no session, so it can change nothing.
 */
export function isSameOriginAction(request: NextRequest): boolean {
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return false;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return false;
  if (!request.headers.has("next-action") && request.headers.get(CSRF_HEADER) !== "1") return false;
  return sameOrigin(request.headers.get("origin"), request);
}

const isUser = (value: unknown): value is PublicUser =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as PublicUser).id === "string" &&
  typeof (value as PublicUser).email === "string" &&
  typeof (value as PublicUser).createdAt === "string" &&
  typeof (value as PublicUser).emailVerified === "boolean";

/** Creates the route handlers, proxy and server-side reads of one auth server. */
export function createHushNext(options: HushNextOptions): HushNext {
  let handler: Promise<AuthHandler> | undefined;
  const auth = (): Promise<AuthHandler> => {
    const given = options.auth;
    if (typeof given === "string") throw new Error("no in-process auth server");
    if (!handler) {
      handler = Promise.resolve().then(() => (typeof given === "function" ? given() : given));
      // A server that failed to start (a database down) is tried again at the next request.
      handler.catch(() => {
        handler = undefined;
      });
    }
    return handler;
  };
  const inProcess: AuthHandler = { fetch: async (request, connection) => (await auth()).fetch(request, connection) };
  const reader = createSessionReader({ ...options.reader, auth: typeof options.auth === "string" ? options.auth : inProcess });
  // Created at the first check, not at import: `next build` imports this module too, and must
  // not start an auth server (or fetch its keys) then.
  let verifier: Verifier | undefined;
  const verifierOf = (): Verifier => {
    verifier ??= createVerifier({
      ...options.verify,
      issuer: options.issuer,
      audience: options.audience ?? "hush",
      jwksUrl:
        options.verify?.jwksUrl ?? `${typeof options.auth === "string" ? options.auth.replace(/\/$/, "") : options.issuer}${PATHS.jwks}`,
      // In process, the keys come from the auth server itself, without a network round trip.
      fetch:
        options.verify?.fetch ??
        (typeof options.auth === "string" ? undefined : (input, init) => inProcess.fetch(new Request(input, init))),
    });
    return verifier;
  };

  /** The app's request, answered by the auth server: its paths are the app's (`/auth/…`, `/.well-known/jwks.json`). */
  async function forward(request: Request): Promise<Response> {
    if (typeof options.auth === "string") throw new Error("@hush/next: handlers need the auth server in process");
    return (await auth()).fetch(request);
  }

  async function getServerAuth(): Promise<ServerAuth | null> {
    const incoming = await requestHeaders();
    const bearer = /^Bearer ([^\s,]+)$/i.exec(incoming.get("authorization") ?? "")?.[1];
    const token = incoming.get(ACCESS_TOKEN_REQUEST_HEADER) ?? bearer;
    if (!token) return null;
    let claims: AccessTokenClaims;
    try {
      claims = await verifierOf()(token);
    } catch {
      // A forged, expired or foreign token, whichever header it came on: anonymous.
      return null;
    }
    let user: PublicUser | null = null;
    if (token !== bearer) {
      try {
        const parsed: unknown = JSON.parse(decodeURIComponent(incoming.get(USER_REQUEST_HEADER) ?? ""));
        if (isUser(parsed) && parsed.id === claims.sub) user = parsed;
      } catch {
        user = null;
      }
    }
    return { accessToken: token, claims, user, expiresIn: Math.max(0, claims.exp - Math.floor(Date.now() / 1000)) };
  }

  return {
    handlers: { GET: forward, POST: forward, PUT: forward, PATCH: forward, DELETE: forward, OPTIONS: forward },

    async proxy(request) {
      // Whatever a browser (or anyone) sent on these headers is dropped before anything reads them.
      const forwarded = new Headers(request.headers);
      for (const name of OWN_HEADERS) forwarded.delete(name);
      const path = request.nextUrl.pathname;
      const onAuthServer = path.startsWith("/auth/") || path.startsWith("/.well-known/");
      // Only document navigations and same-origin actions: never prefetches, RSC requests or assets.
      if (onAuthServer || !(isPageNavigation(request.headers) || isSameOriginAction(request))) {
        return NextResponse.next({ request: { headers: forwarded } });
      }
      const { session, setCookie } = await reader.readSession(request);
      forwarded.set(CHECKED_REQUEST_HEADER, "1");
      if (session) {
        forwarded.set(ACCESS_TOKEN_REQUEST_HEADER, session.accessToken);
        forwarded.set(USER_REQUEST_HEADER, encodeURIComponent(JSON.stringify(session.user)));
      }
      const response = NextResponse.next({ request: { headers: forwarded } });
      for (const cookie of setCookie) response.headers.append("set-cookie", cookie);
      // A rotated refresh cookie or a signed-in page must never sit in a shared cache.
      if (session || setCookie.length > 0) response.headers.set("cache-control", "private, no-store");
      return response;
    },

    getServerAuth,

    async getInitialSession() {
      const incoming = await requestHeaders();
      const auth = await getServerAuth();
      if (auth?.user && incoming.get(ACCESS_TOKEN_REQUEST_HEADER) === auth.accessToken) {
        return { accessToken: auth.accessToken, expiresIn: auth.expiresIn, user: auth.user };
      }
      return incoming.get(CHECKED_REQUEST_HEADER) === "1" ? null : undefined;
    },
  };
}
