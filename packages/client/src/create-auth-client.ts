import type { PublicUser } from "@hush/protocol";
import { createAuthApi } from "./auth-api.js";
import type { AuthClient, AuthState } from "./auth-client.js";
import { AuthError } from "./auth-error.js";
import { createAuthFetch } from "./auth-fetch.js";
import { internals } from "./client-internals.js";
import { type AuthClientOptions, resolveOptions } from "./client-options.js";
import { type AuthEvent, createEmitter } from "./events.js";
import { fieldOf, isPublicUser, isTokenAnswer } from "./json-guards.js";
import { createLifetime } from "./lifetime.js";
import { createPendingLogout } from "./pending-logout.js";
import { createRefreshScheduler } from "./refresh-scheduler.js";
import { createRefresher } from "./refresher.js";
import { createTabSync } from "./tab-sync.js";
import { createTokenStore, readToken } from "./token-store.js";

/**
 * `getAccessToken()` refreshes first when the token held has less than this left, in ms, or less
 * than a tenth of its lifetime. The scheduler refreshes well before, so this only catches a timer
 * that did not fire in time.
 */
export const NEAR_EXPIRY_MS = 5_000;

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
  const { base, assistedOrigins, trustedOrigins, autoRefresh, peerWaitMs, lockWaitMs, mayHaveSession } = resolveOptions(options);
  const life = createLifetime();
  const api = createAuthApi(base);
  const store = createTokenStore();
  const events = createEmitter();
  const emit = events.emit;
  const pending = createPendingLogout(`hush-logout:${base}`, api, emit, life);
  let state: AuthState = "loading";
  let user: PublicUser | null = null;

  const sync = createTabSync(`hush:${base}`, (message) => {
    if (message.t === "token") adopt(message.accessToken, message.user, "tab", message.skew);
    else if (message.t === "out") signOut({ type: "logged-out", source: "other-tab" });
    else if (message.t === "ask" && state === "authenticated" && user) share();
  });
  life.onEnd(sync.close);
  life.onEnd(events.clear);
  const scheduler = createRefreshScheduler(store, life, autoRefresh, check);
  const refresher = createRefresher(api, store, life, `hush-refresh:${base}`, lockWaitMs, {
    onToken(token, nextUser) {
      if (!adopt(token, nextUser, "network")) return false;
      share();
      return true;
    },
    onRefused: (error) => signOut({ type: "session-expired", error }),
    onFailed: (error) => emit({ type: "error", error }),
  });

  /** Takes a new token (and user) from any source, and schedules the next refresh. */
  function adopt(token: string, nextUser: PublicUser | null, source: "network" | "tab" | "header" | "sign-in", skew?: number): boolean {
    const held = readToken(token);
    const current = store.get();
    if (!held || (current && held.exp < current.exp)) return false;
    // An assisted refresh answers for whatever refresh cookie went with the request: take its
    // token only for the user this tab is signed in as, never slip another account in under it.
    const owner = user?.id ?? current?.sub;
    if (source === "header" && owner !== undefined && held.sub !== owner) return false;
    // While a logout awaits the server, nothing brings its session back: not a refresh, an
    // assisted refresh or a peer's token. A sign-in has replaced the cookie, so it may.
    if (source !== "sign-in" && !pending.allows(held)) return false;
    store.set(held, skew);
    const switched = nextUser !== null && nextUser.id !== user?.id;
    if (nextUser) user = nextUser;
    state = "authenticated";
    // A sign-in is news even as the same user: its answer may tell more (a verified address).
    if ((switched || source === "sign-in") && user) emit({ type: "authenticated", user });
    if (source !== "sign-in") emit({ type: "refreshed", expiresAt: held.exp - store.skew(), source });
    scheduler.schedule();
    // A token from an assisted refresh can sign a tab back in that had no user yet.
    if (!user && !life.ended) void loadUser(token);
    return true;
  }

  async function loadUser(token: string): Promise<void> {
    const me = await api.me(token);
    const held = store.get();
    // Only while that token is still held (no logout since), and only the user it names.
    if (user || held?.token !== token || me?.id !== held.sub) return;
    user = me;
    emit({ type: "authenticated", user });
    share();
  }

  function signOut(event: AuthEvent): void {
    store.clear();
    scheduler.cancel();
    const was = state;
    state = "anonymous";
    user = null;
    // A visitor without a session finding that out on load is no event.
    if (was === "authenticated") emit(event);
  }

  function share(): void {
    const held = store.get();
    if (held && user) sync.post({ t: "token", accessToken: held.token, user, skew: store.skew() });
  }

  function refresh(): Promise<string | null> {
    // A logout awaiting the server: the cookie still works, and must not sign anyone back in.
    // A tab still signed in here missed the other tab's word (no BroadcastChannel): sign it out.
    if (pending.get() !== null) {
      signOut({ type: "logged-out", source: "other-tab" });
      return Promise.resolve(null);
    }
    return refresher.refresh();
  }

  /** The scheduler's deadline or a wake-up (back online, tab shown): see what is due. */
  function check(): void {
    // The moment to retry a logout the server has not confirmed.
    if (pending.get() !== null) return void pending.confirm().catch(() => undefined);
    if (refresher.unreachable) return void refresh();
    if (state !== "authenticated" || !autoRefresh) return;
    if (scheduler.due()) void refresh();
    else scheduler.schedule();
  }

  async function signIn(path: string, request: object): Promise<PublicUser> {
    return take(await api.post(path, request));
  }

  /** Signs in with a successful answer's token response, as `login` does. */
  async function take(response: Response): Promise<PublicUser> {
    const body: unknown = await response.json();
    // A sign-up that must verify its address first (`202 {user}`): no session, still signed out.
    const created = fieldOf(body, "user");
    if (response.status === 202 && isPublicUser(created)) return created;
    if (!isTokenAnswer(body)) throw new AuthError("unavailable", "Not a token response.", response.status);
    // This sign-in's cookie replaced the one a pending logout was to end: that logout is moot,
    // and its retries must not end the new session.
    pending.drop();
    adopt(body.accessToken, body.user, "sign-in");
    share();
    return body.user;
  }

  async function getAccessToken(): Promise<string | null> {
    await ready;
    const held = store.get();
    if (held && held.exp - store.serverNow() > Math.min(NEAR_EXPIRY_MS, (held.exp - held.iat) / 10)) return held.token;
    return state === "authenticated" ? refresh() : null;
  }

  const ready = (async () => {
    // A logout of this browser still awaits the server: stay signed out and see it through.
    if (pending.get() !== null) {
      state = "anonymous";
      return void pending.confirm().catch(() => undefined);
    }
    const initial = options.initialSession;
    // A server-rendered page's session replaces the load-time refresh, adopted at once so that
    // a hydrating page is signed in from its first render (a token that does not parse is
    // ignored, and the usual refresh follows).
    if (initial) {
      if (adopt(initial.accessToken, initial.user, "network")) return share();
    } else if (initial === null || !mayHaveSession()) {
      // The server found no session, or the hint says there is none: ask nobody.
      state = "anonymous";
      return;
    }
    // A new tab asks its peers first; only without an answer does it ask the network.
    if (sync.enabled) {
      sync.post({ t: "ask" });
      await life.sleep(peerWaitMs);
    }
    if ((state as AuthState) === "authenticated") return;
    await refresh();
    // Unreachable server at load: show signed-out; the next `online` or call retries.
    if ((state as AuthState) === "loading") state = "anonymous";
  })();

  /** Signs this tab and every other one out: the server has ended the session(s) already. */
  function end(): void {
    signOut({ type: "logged-out", source: "this-tab" });
    sync.post({ t: "out" });
  }

  const client: AuthClient = {
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
    signup: (credentials) => signIn("/signup", credentials),
    login: (credentials) => signIn("/login", credentials),
    async logout() {
      // The user asked to leave: sign out here and in every tab now, whatever the server says.
      // Until the server confirms, the pending-logout mark keeps every tab and reload of this
      // browser from signing back in with the refresh cookie that still lives.
      pending.begin(store.get()?.sid ?? pending.get() ?? "");
      end();
      await pending.confirm();
    },
    async logoutAll() {
      const token = await getAccessToken();
      await api.post("/logout-all", undefined, token ?? undefined);
      end();
    },
    getAccessToken,
    refresh,
    fetch: createAuthFetch({
      trustedOrigins,
      assistedOrigins,
      getAccessToken,
      heldToken: () => store.get()?.token,
      refresh,
      adoptAssisted(token) {
        if (adopt(token, null, "header")) share();
      },
      emit,
    }),
    subscribe: events.subscribe,
    dispose: life.end,
  };
  internals.set(client, { base, signIn, take, end });
  return client;
}
