import { vi } from "vitest";

/** The page the fake browser shows, and the servers the client under test talks to. */
export const APP = "https://app.example";
export const AUTH = "https://auth.example";
export const API = "https://api.example";

/** One request the client made, as the fake network saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | null;
}

/** Answers a request; `url` of the returned response is the final one (after "redirects"). */
export type Handler = (request: Request) => Response | Promise<Response>;

/** Lifetime of the tokens `makeToken` mints, in seconds. */
export const TTL_SECONDS = 600;

/** A JWT-shaped access token (unsigned: the client never verifies, it only reads claims). */
export function makeToken(claims: { sub: string; sid: string; iatOffsetSeconds?: number; ttlSeconds?: number }): string {
  const iat = Math.floor(Date.now() / 1000) + (claims.iatOffsetSeconds ?? 0);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "none", typ: "at+jwt" })}.${encode({ sub: claims.sub, sid: claims.sid, iat, exp: iat + (claims.ttlSeconds ?? TTL_SECONDS) })}.sig`;
}

export const userOf = (id: string) => ({ id, email: `${id}@example.com`, createdAt: "2025-01-01T00:00:00.000Z", emailVerified: false });

/** A response whose `url` is set, as a real fetch's is (the URL after any redirect). */
export function respond(url: string, body: unknown, init: ResponseInit = {}): Response {
  const response =
    body === null
      ? new Response(null, init)
      : Response.json(body, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  Object.defineProperty(response, "url", { value: url });
  return response;
}

export function tokenResponse(sub: string, sid: string): Response {
  return respond(`${AUTH}/auth/refresh`, {
    accessToken: makeToken({ sub, sid }),
    tokenType: "Bearer",
    expiresIn: TTL_SECONDS,
    user: userOf(sub),
  });
}

/** BroadcastChannel between the "tabs" (clients) of one test, delivering asynchronously like the real one. */
class FakeChannel {
  static open = new Set<FakeChannel>();
  onmessage: ((event: MessageEvent) => void) | null = null;
  constructor(readonly name: string) {
    FakeChannel.open.add(this);
  }
  postMessage(data: unknown): void {
    for (const peer of FakeChannel.open) {
      if (peer !== this && peer.name === this.name) setTimeout(() => peer.onmessage?.(new MessageEvent("message", { data })), 0);
    }
  }
  close(): void {
    FakeChannel.open.delete(this);
  }
}

/**
 * Installs a fake browser (location, window events, document, localStorage, BroadcastChannel,
 * fetch) on the globals the client uses, with fake timers. `routes` maps "METHOD url" to a
 * handler; the defaults sign user `u1` in (session `s1`) on refresh and answer `/me` for a
 * token's `sub`. Undo with `vi.unstubAllGlobals()` and `vi.useRealTimers()`.
 */
export function installFakeBrowser(routes: Record<string, Handler> = {}) {
  vi.useFakeTimers();
  FakeChannel.open.clear();
  const storage = new Map<string, string>();
  const seen: SeenRequest[] = [];
  const window = new EventTarget();
  const defaults: Record<string, Handler> = {
    [`POST ${AUTH}/auth/refresh`]: () => tokenResponse("u1", "s1"),
    [`POST ${AUTH}/auth/logout`]: () => respond(`${AUTH}/auth/logout`, null, { status: 204 }),
    [`POST ${AUTH}/auth/login`]: () => tokenResponse("u1", "s2"),
    [`GET ${AUTH}/auth/me`]: (request) => {
      const token = request.headers.get("authorization")?.split(".")[1] ?? "";
      const { sub } = JSON.parse(Buffer.from(token, "base64url").toString() || "{}");
      return respond(`${AUTH}/auth/me`, { user: userOf(sub) });
    },
  };
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push({ method: request.method, url: request.url, authorization: request.headers.get("authorization") });
    const handler = routes[`${request.method} ${request.url}`] ?? defaults[`${request.method} ${request.url}`];
    if (!handler) return respond(request.url, { error: "not_found" }, { status: 404 });
    return handler(request);
  });
  vi.stubGlobal("location", new URL(`${APP}/`));
  vi.stubGlobal("addEventListener", window.addEventListener.bind(window));
  vi.stubGlobal("removeEventListener", window.removeEventListener.bind(window));
  vi.stubGlobal("dispatchEvent", window.dispatchEvent.bind(window));
  vi.stubGlobal("document", { visibilityState: "visible" });
  vi.stubGlobal("BroadcastChannel", FakeChannel);
  vi.stubGlobal("localStorage", {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, String(value)),
    removeItem: (key: string) => void storage.delete(key),
    get length() {
      return storage.size;
    },
  });
  vi.stubGlobal("fetch", fetch);
  return {
    /** Every request made so far. */
    seen,
    /** What the client keeps in localStorage (no token may ever be there). */
    storage,
    /** Requests so far for one method and URL. */
    count: (method: string, url: string) => seen.filter((r) => r.method === method && r.url === url).length,
    /** Replaces (or adds) the handler of "METHOD url". */
    route(key: string, handler: Handler) {
      routes[key] = handler;
    },
    /** Fires a window event, as the browser does on wake-ups (`online`, `focus` …). */
    fire: (type: string) => window.dispatchEvent(new Event(type)),
  };
}

/** Lets the client's pending promises and zero-delay timers run (fake time moves by `ms`). */
export const settle = (ms = 200) => vi.advanceTimersByTimeAsync(ms);

/**
 * Puts the fake page at `url` with a history of its entries, whose `replaceState` rewrites the
 * current one as a browser does. Undo with `vi.unstubAllGlobals()`.
 */
export function fakePage(url: string) {
  const location = new URL(url);
  const entries = [location.href];
  const history = {
    state: { app: 1 } as unknown,
    replaceState: vi.fn((state: unknown, _unused: string, next: string) => {
      location.href = new URL(next, location.href).href;
      entries[entries.length - 1] = location.href;
      history.state = state;
    }),
  };
  vi.stubGlobal("location", location);
  vi.stubGlobal("history", history);
  return { location, history, entries };
}
