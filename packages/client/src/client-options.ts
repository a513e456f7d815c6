import type { PublicUser } from "@hush/protocol";

/** A session rendered into the page by the server (`@hush/ssr`'s `embedSession`). */
export interface InitialSession {
  accessToken: string;
  /** Lifetime of `accessToken` in seconds. */
  expiresIn: number;
  user: PublicUser;
}

/** Options of `createAuthClient()`. Times in milliseconds unless the name says otherwise. */
export interface AuthClientOptions {
  /** The auth server's `/auth` base, e.g. `https://auth.example.com/auth`. */
  baseUrl: string;
  /**
   * Origins of APIs that get the bearer token, besides the page's own and the auth server's. An
   * `X-Access-Token` in their answers is ignored unless they are in `assistedRefreshOrigins`.
   */
  apiOrigins?: readonly string[];
  /**
   * Origins whose `X-Access-Token` response header (a server-assisted refresh, docs/api.md, server.protect) the
   * client adopts, besides the auth server's own: those of APIs that `server.protect(handler, {
   * assistRefresh: true })` serves from the auth server's process. They get the bearer too.
   * Default: none, so only the auth server's origin. Even from these origins the header counts
   * only when the response's final URL (after any redirect) is on one of them, and only when the
   * token's `sub` is the signed-in user's; an anonymous tab adopts it and loads that user.
   */
  assistedRefreshOrigins?: readonly string[];
  /** Refresh on a timer before expiry. Default true; off only for tests of the 401 path. */
  autoRefresh?: boolean;
  /** How long a new tab waits for its peers to share a token before it asks the network. Default 150. */
  peerWaitMs?: number;
  /** Longest wait for the cross-tab refresh lock; past it the tab refreshes anyway. Default 3,000. */
  lockWaitMs?: number;
  /**
   * The session the server rendered the page with: adopted instead of the load-time refresh,
   * held in memory only. `null` says the server looked and found none, so the page starts
   * signed out without asking; leave it out when the server did not look.
   */
  initialSession?: InitialSession | null;
  /**
   * Skip the load-time refresh when the `hush_session` hint cookie is absent (no session: an
   * anonymous visit sends nothing). It applies only where the page can see the hint, an auth
   * server on the page's host name. Default true; `false` always asks.
   */
  sessionHint?: boolean;
}

/** The session hint cookie's name, `SESSION_HINT_COOKIE_NAME` of `@hush/protocol` inlined (a test keeps them equal). */
export const SESSION_HINT_COOKIE = "hush_session";

/** Default of `peerWaitMs`, in ms: a peer on the same machine answers well within it. */
export const PEER_WAIT_MS = 150;
/** Default of `lockWaitMs`, in ms. */
export const LOCK_WAIT_MS = 3_000;

/** `AuthClientOptions`, checked once, with their defaults and the origins each role trusts. */
export interface ResolvedOptions {
  /** `baseUrl` without a trailing slash. */
  readonly base: string;
  /** Origins whose `X-Access-Token` is adopted: the auth server's and `assistedRefreshOrigins`. */
  readonly assistedOrigins: ReadonlySet<string>;
  /** Origins that get the bearer: the page's, `apiOrigins` and the assisted origins. */
  readonly trustedOrigins: ReadonlySet<string>;
  readonly autoRefresh: boolean;
  readonly peerWaitMs: number;
  readonly lockWaitMs: number;
  /** Whether a load-time refresh may find a session: false only when the hint says there is none. */
  readonly mayHaveSession: () => boolean;
}

/** The origins of an option's URLs; checked once, naming the option when one is not a URL. */
function originsOf(name: string, urls: readonly string[] = []): string[] {
  return urls.map((url) => {
    try {
      return new URL(url).origin;
    } catch {
      throw new TypeError(`options.${name}: "${url}" is not an absolute URL`);
    }
  });
}

/** Checks `options` once and fills in the defaults; throws a `TypeError` naming the option at fault. */
export function resolveOptions(options: AuthClientOptions): ResolvedOptions {
  const base = options.baseUrl.replace(/\/$/, "");
  // Only the auth server mints tokens: an X-Access-Token counts from its process alone.
  const server = new URL(base, location.href);
  const assistedOrigins = new Set([server.origin, ...originsOf("assistedRefreshOrigins", options.assistedRefreshOrigins)]);
  return {
    base,
    assistedOrigins,
    trustedOrigins: new Set([location.origin, ...originsOf("apiOrigins", options.apiOrigins), ...assistedOrigins]),
    autoRefresh: options.autoRefresh !== false,
    peerWaitMs: options.peerWaitMs ?? PEER_WAIT_MS,
    lockWaitMs: options.lockWaitMs ?? LOCK_WAIT_MS,
    // Cookies belong to a host name, whatever the port: the auth server's hint is visible here
    // exactly when it runs on this page's host name.
    mayHaveSession: () =>
      options.sessionHint === false ||
      server.hostname !== location.hostname ||
      `; ${document.cookie}`.includes(`; ${SESSION_HINT_COOKIE}=1`),
  };
}
