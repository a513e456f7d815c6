import type { PublicUser, TokenResponse } from "@hush/protocol";
import { AuthError, isAuthError } from "./auth-error.js";
import { type AuthEvent, createEmitter, type Listener } from "./events.js";
import { createPendingLogout } from "./pending-logout.js";
import { createTabSync, type TabMessage, withLock } from "./tab-sync.js";
import { createTokenStore, type HeldToken, readToken } from "./token-store.js";

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
   * Origins whose `X-Access-Token` response header (a server-assisted refresh, API.md §7) the
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
}

export type AuthState = "loading" | "authenticated" | "anonymous";

/** The browser client of API.md §5. */
export interface AuthClient {
  readonly ready: Promise<void>;
  readonly state: AuthState;
  readonly user: PublicUser | null;
  /** When the current access token expires, in this device's clock (ms), or null. */
  readonly expiresAt: number | null;
  signup(credentials: { email: string; password: string }): Promise<PublicUser>;
  login(credentials: { email: string; password: string }): Promise<PublicUser>;
  /**
   * Signs this tab and every other tab of the browser out at once, then ends the session on the
   * server. If the server does not confirm (an error status, or no answer), it rejects with an
   * `AuthError` `logout_failed`, emits it as an `error` event, and keeps retrying with back-off
   * (and on `online`, `focus` …) until the server confirms, emitting an `error` event per failed
   * attempt. Until then no tab or reload of this browser refreshes from the cookie that still
   * lives; a new sign-in ends the pending logout.
   */
  logout(): Promise<void>;
  logoutAll(): Promise<void>;
  getAccessToken(): Promise<string | null>;
  /** Refreshes now, sharing any refresh already under way; resolves to the new token or null. */
  refresh(): Promise<string | null>;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  subscribe(listener: Listener): () => void;
}

// The wire names of @hush/protocol, inlined so the client has no runtime dependency (a test
// keeps them equal to the protocol's).
export const CSRF_HEADER = "x-hush-csrf";
export const ACCESS_TOKEN_HEADER = "x-access-token";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INVALID_TOKEN = /error="?invalid_token/;
/** Longest wait between two attempts to have a logout confirmed. */
const LOGOUT_RETRY_MAX_MS = 30_000;

/** The origins of an option's URLs; checked once, naming the option when one is not a URL. */
function originsOf(name: string, urls: readonly string[] = []): string[] {
  return urls.map((url) => {
    try {
      return new URL(url).origin;
    } catch {
      throw new TypeError(`options.${name} must hold absolute URLs or origins, not "${url}"`);
    }
  });
}

/** The origin of a response's URL; "" for none (a response that no network produced). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

/** A user as the auth server describes one; anything else from `GET /auth/me` is refused. */
function isPublicUser(value: unknown): value is PublicUser {
  return (
    typeof value === "object" &&
    value !== null &&
    "id" in value &&
    typeof value.id === "string" &&
    "email" in value &&
    typeof value.email === "string" &&
    "createdAt" in value &&
    typeof value.createdAt === "string"
  );
}

/**
 * Creates the browser client: silent refresh on load, before expiry and after a 401, with the
 * access token in memory only.
 *
 * @example
 * const auth = createAuthClient({ baseUrl: "https://auth.example.com/auth", apiOrigins: ["https://api.example.com"] });
 * await auth.ready;
 * const res = await auth.fetch("https://api.example.com/notes");
 */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  const base = options.baseUrl.replace(/\/$/, "");
  const authOrigin = new URL(base, location.href).origin;
  // Only the auth server mints tokens: an X-Access-Token counts from its process alone.
  const assistedOrigins = new Set([authOrigin, ...originsOf("assistedRefreshOrigins", options.assistedRefreshOrigins)]);
  const trusted = new Set([location.origin, ...originsOf("apiOrigins", options.apiOrigins), ...assistedOrigins]);
  const store = createTokenStore();
  const pending = createPendingLogout(`hush-logout:${base}`);
  const events = createEmitter();
  let state: AuthState = "loading";
  let user: PublicUser | null = null;
  let inflight: Promise<string | null> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = 0;
  /** Set when refreshes failed for want of a network: the next wake-up tries again. */
  let unreachable = false;
  let ending: Promise<void> | undefined;
  let logoutTimer: ReturnType<typeof setTimeout> | undefined;
  let logoutAttempts = 0;

  const emit = (event: AuthEvent) => events.emit(event);

  /** Takes a new token (and user) from any source, and schedules the next refresh. */
  function adopt(token: string, nextUser: PublicUser | null, source: "network" | "tab" | "header" | "sign-in", skew?: number): boolean {
    const held = readToken(token);
    const current = store.get();
    if (!held || (current && held.exp < current.exp)) return false;
    // An assisted refresh answers for whatever refresh cookie went with the request: take its
    // token only for the user this tab is signed in as, never slip another account in under it.
    const owner = user?.id ?? current?.sub;
    if (source === "header" && owner !== undefined && held.sub !== owner) return false;
    if (source !== "sign-in" && !outsidePendingLogout(held)) return false;
    store.set(held, skew);
    const switched = nextUser !== null && nextUser.id !== user?.id;
    if (nextUser) user = nextUser;
    state = "authenticated";
    if (switched && user) emit({ type: "authenticated", user });
    if (source !== "sign-in") emit({ type: "refreshed", expiresAt: held.exp - store.skew(), source });
    schedule();
    // A token from an assisted refresh can sign a tab back in that had no user yet.
    if (!user) void loadUser(token);
    return true;
  }

  async function loadUser(token: string): Promise<void> {
    const response = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    const body: unknown = response?.ok ? await response.json().catch(() => undefined) : undefined;
    const me = typeof body === "object" && body !== null && "user" in body ? body.user : undefined;
    const held = store.get();
    // Only while that token is still held (no logout since), and only the user it names.
    if (user || held?.token !== token || !isPublicUser(me) || me.id !== held.sub) return;
    user = me;
    emit({ type: "authenticated", user });
    share();
  }

  /**
   * While a logout awaits the server, nothing brings its session back: not a refresh, an assisted
   * refresh or a peer's token. A token of another session means a sign-in replaced the cookie,
   * so the pending logout has nothing left to end (and must not end the new session).
   */
  function outsidePendingLogout(held: HeldToken): boolean {
    const sid = pending.get();
    if (sid === null) return true;
    if (sid === "" || sid === held.sid) return false;
    dropPendingLogout();
    return true;
  }

  function dropPendingLogout(): void {
    pending.set(null);
    clearTimeout(logoutTimer);
  }

  /**
   * Asks the server to end the session of the pending logout. A failure (an error status or no
   * answer) rejects with `logout_failed`, is emitted as an `error` event, and schedules another
   * attempt with back-off (1 s doubling to 30 s, jittered) for as long as the logout is pending.
   */
  function endSession(): Promise<void> {
    clearTimeout(logoutTimer);
    ending ??= post("/logout")
      .then(
        () => {
          pending.set(null);
          logoutAttempts = 0;
        },
        (failure: unknown) => {
          const error = new AuthError(
            "logout_failed",
            `The auth server did not confirm the logout (${isAuthError(failure) ? failure.code : "network error"}); retrying.`,
            isAuthError(failure) ? failure.status : 0,
          );
          emit({ type: "error", error });
          const delay = Math.min(LOGOUT_RETRY_MAX_MS, 1000 * 2 ** logoutAttempts++) * (0.5 + Math.random());
          logoutTimer = setTimeout(() => pending.get() !== null && endSession().catch(() => undefined), delay);
          throw error;
        },
      )
      .finally(() => {
        ending = undefined;
      });
    return ending;
  }

  function signOut(event: AuthEvent | undefined): void {
    store.clear();
    clearTimeout(timer);
    const was = state;
    state = "anonymous";
    user = null;
    // A visitor without a session finding that out on load is no event.
    if (event && was === "authenticated") emit(event);
  }

  const sync = createTabSync(`hush:${base}`, (message: TabMessage) => {
    if (message.t === "token") adopt(message.token, message.user, "tab", message.skew);
    else if (message.t === "out") signOut({ type: "logged-out", source: "other-tab" });
    else if (message.t === "ask" && state === "authenticated" && user) share();
  });

  function share(): void {
    const held = store.get();
    if (held && user) sync.post({ t: "token", token: held.token, user, skew: store.skew() });
  }

  /** The refresh request itself: retries network failures and 5xx/429 with back-off; a 401 signs out. */
  async function requestRefresh(): Promise<string | null> {
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      try {
        response = await fetch(`${base}/refresh`, { method: "POST", credentials: "include", headers: { [CSRF_HEADER]: "1" } });
      } catch {
        // Offline or unreachable: not a reason to sign anyone out.
      }
      unreachable = false;
      if (response?.ok) {
        const body = (await response.json()) as TokenResponse;
        // Refused: an older token than the one held, or a session being logged out meanwhile.
        if (!adopt(body.accessToken, body.user, "network")) return store.get()?.token ?? null;
        share();
        return body.accessToken;
      }
      if (response?.status === 401) {
        const body = await response.json().catch(() => ({ error: "invalid_refresh_token" }));
        signOut({ type: "session-expired", error: String(body.error) });
        return null;
      }
      if (attempt >= 4) {
        unreachable = true;
        emit({ type: "error", error: new Error(response ? `refresh answered ${response.status}` : "network error") });
        return null;
      }
      await sleep(Math.min(8000, 500 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }

  function refresh(): Promise<string | null> {
    // A logout awaiting the server: the cookie still works, and must not sign anyone back in.
    // A tab still signed in here missed the other tab's word (no BroadcastChannel): sign it out.
    if (pending.get() !== null) {
      signOut({ type: "logged-out", source: "other-tab" });
      return Promise.resolve(null);
    }
    // Single flight: every caller in this tab shares one refresh.
    inflight ??= (async () => {
      const before = store.get();
      return withLock(`hush-refresh:${base}`, options.lockWaitMs ?? 3000, async () => {
        // Another tab refreshed while we waited for the lock: use its token.
        const now = store.get();
        if (now && now !== before && now.exp - store.serverNow() > 10_000) return now.token;
        return requestRefresh();
      });
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  /** Schedules the refresh from a wall-clock deadline, a little before `exp`, with jitter. */
  function schedule(): void {
    clearTimeout(timer);
    const held = store.get();
    if (!held || options.autoRefresh === false) return;
    const life = held.exp - held.iat;
    deadline = held.exp - Math.min(60_000, life * 0.2) - Math.random() * Math.min(5_000, life * 0.1);
    timer = setTimeout(check, Math.min(2 ** 31 - 1, Math.max(0, deadline - store.serverNow())));
  }

  /** Timers stall in background tabs and sleeping machines: re-check the deadline on wake-ups. */
  function check(): void {
    // A wake-up (back online, tab shown) is the moment to retry a logout the server has not confirmed.
    if (pending.get() !== null) return void endSession().catch(() => undefined);
    if (unreachable) return void refresh();
    if (state !== "authenticated" || options.autoRefresh === false) return;
    if (store.serverNow() >= deadline) void refresh();
    else schedule();
  }
  for (const type of ["visibilitychange", "focus", "online", "pageshow"]) {
    addEventListener(type, () => (document.visibilityState === "hidden" ? undefined : check()));
  }

  async function post(path: string, body?: unknown, bearer?: string): Promise<Response> {
    const headers: Record<string, string> = { [CSRF_HEADER]: "1" };
    if (body) headers["content-type"] = "application/json";
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      credentials: "include",
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new AuthError(error.error ?? "unavailable", error.message ?? response.statusText, response.status);
    }
    return response;
  }

  async function signIn(path: string, credentials: { email: string; password: string }): Promise<PublicUser> {
    const body = (await (await post(path, credentials)).json()) as TokenResponse;
    // This sign-in's cookie replaced the one a pending logout was to end: that logout is moot,
    // and its retries must not end the new session.
    dropPendingLogout();
    adopt(body.accessToken, body.user, "sign-in");
    share();
    return body.user;
  }

  async function getAccessToken(): Promise<string | null> {
    await ready;
    const held = store.get();
    // "Near expiry": the last tenth of the token's life, at most 5 s (the scheduler refreshes
    // earlier, so this only catches a timer that did not fire in time).
    if (held && held.exp - store.serverNow() > Math.min(5_000, (held.exp - held.iat) / 10)) return held.token;
    return state === "authenticated" ? refresh() : null;
  }

  function withBearer(request: Request, token: string | null): Request {
    const headers = new Headers(request.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return new Request(request, { headers });
  }

  async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    // The bearer goes only to the page's origin, the auth server and the configured APIs.
    if (!trusted.has(new URL(request.url).origin)) return fetch(request);
    const send = async (token: string | null) => {
      const response = await fetch(withBearer(request.clone(), token));
      // Judge the header by who answered: the final URL after any redirect, not the one asked.
      const assisted = assistedOrigins.has(originOf(response.url)) ? response.headers.get(ACCESS_TOKEN_HEADER) : null;
      if (assisted && adopt(assisted, null, "header")) share();
      return response;
    };
    const used = await getAccessToken();
    const response = await send(used);
    // Only the server's own verdict on the token triggers a refresh; an application's 401/403 is handed back as is.
    if (response.status !== 401 || !INVALID_TOKEN.test(response.headers.get("www-authenticate") ?? "")) return response;
    const current = store.get()?.token;
    const next = current && current !== used ? current : await refresh();
    return next ? send(next) : response;
  }

  const ready = (async () => {
    // A logout of this browser still awaits the server: stay signed out and see it through.
    if (pending.get() !== null) {
      state = "anonymous";
      return void endSession().catch(() => undefined);
    }
    // A new tab asks its peers first; only without an answer does it ask the network.
    if (sync.enabled) {
      sync.post({ t: "ask" });
      await sleep(options.peerWaitMs ?? 150);
    }
    if ((state as AuthState) === "authenticated") return;
    await refresh();
    // Unreachable server at load: show signed-out; the next `online` or call retries.
    if ((state as AuthState) === "loading") state = "anonymous";
  })();

  return {
    ready,
    get state() {
      return state;
    },
    get user() {
      return user;
    },
    get expiresAt() {
      const held = store.get();
      return held ? held.exp - store.skew() : null;
    },
    signup: (c) => signIn("/signup", c),
    login: (c) => signIn("/login", c),
    async logout() {
      // The user asked to leave: sign out here and in every tab now, whatever the server says.
      // Until the server confirms, the pending-logout mark keeps every tab and reload of this
      // browser from signing back in with the refresh cookie that still lives.
      pending.set(store.get()?.sid ?? pending.get() ?? "");
      signOut({ type: "logged-out", source: "this-tab" });
      sync.post({ t: "out" });
      logoutAttempts = 0;
      await endSession();
    },
    async logoutAll() {
      const token = await getAccessToken();
      await post("/logout-all", undefined, token ?? undefined);
      signOut({ type: "logged-out", source: "this-tab" });
      sync.post({ t: "out" });
    },
    getAccessToken,
    refresh,
    fetch: authFetch,
    subscribe: events.subscribe,
  };
}
