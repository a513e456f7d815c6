import type { PublicUser } from "@hush/protocol";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AUTH, installFakeBrowser, makeToken, respond, settle, tokenResponse } from "../test/fake-browser.js";
import { createAuthApi } from "./auth-api.js";
import { createLifetime } from "./lifetime.js";
import { createRefresher, REFRESH_RETRIES, type RefreshHooks } from "./refresher.js";
import { createTokenStore, readToken } from "./token-store.js";

const REFRESH = `${AUTH}/auth/refresh`;
const unavailable = () => respond(REFRESH, { error: "unavailable" }, { status: 503 });

/** A refresher whose hooks take every token into `store` (unless `refuse`), and record what they are told. */
function setUp(browser: ReturnType<typeof installFakeBrowser>, refuse = false) {
  const store = createTokenStore();
  const life = createLifetime();
  const told: string[] = [];
  const hooks: RefreshHooks = {
    onToken(token: string, user: PublicUser) {
      told.push(`token:${user.id}`);
      if (refuse) return false;
      store.set(readToken(token)!);
      return true;
    },
    onRefused: (code) => told.push(`refused:${code}`),
    onFailed: (error) => told.push(`failed:${error.message}`),
  };
  const refresher = createRefresher(createAuthApi(`${AUTH}/auth`), store, life, "hush-refresh:test", 3_000, hooks);
  return { browser, store, life, told, refresher };
}

/** A Web Lock that another tab holds until the returned function grants it. */
function holdLock(): () => void {
  let release = () => {};
  vi.stubGlobal("navigator", {
    locks: {
      request: (_name: string, _options: unknown, callback: () => Promise<unknown>) =>
        new Promise<void>((resolve) => {
          release = resolve;
        }).then(callback),
    },
  });
  return () => release();
}

describe("createRefresher", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("shares one request among every concurrent caller (single flight), and starts a new one afterwards", async () => {
    const { browser, refresher, told } = setUp(installFakeBrowser());
    const tokens = await Promise.all([refresher.refresh(), refresher.refresh(), refresher.refresh()]);
    expect(browser.count("POST", REFRESH)).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/\./);
    expect(told).toEqual(["token:u1"]);
    await refresher.refresh();
    expect(browser.count("POST", REFRESH)).toBe(2);
  });

  it("passes the server's code on a 401, and invalid_refresh_token when the body has none", async () => {
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: () => respond(REFRESH, { error: "refresh_token_reused" }, { status: 401 }) });
    const { refresher, told } = setUp(browser);
    expect(await refresher.refresh()).toBeNull();
    browser.route(`POST ${REFRESH}`, () => respond(REFRESH, null, { status: 401 }));
    expect(await refresher.refresh()).toBeNull();
    expect(told).toEqual(["refused:refresh_token_reused", "refused:invalid_refresh_token"]);
    expect(browser.count("POST", REFRESH)).toBe(2);
  });

  it("retries network failures and 5xx with back-off, then fails for now and is unreachable until one succeeds", async () => {
    const browser = installFakeBrowser({
      [`POST ${REFRESH}`]: () => {
        throw new TypeError("Failed to fetch");
      },
    });
    const { refresher, told } = setUp(browser);
    const result = refresher.refresh();
    await settle(1);
    expect(browser.count("POST", REFRESH)).toBe(1);
    await settle(60_000);
    expect(await result).toBeNull();
    expect(browser.count("POST", REFRESH)).toBe(REFRESH_RETRIES + 1);
    expect(told).toEqual(["failed:network error"]);
    expect(refresher.unreachable).toBe(true);

    browser.route(`POST ${REFRESH}`, unavailable);
    void refresher.refresh();
    await settle(60_000);
    expect(told.at(-1)).toBe("failed:refresh answered 503");
    browser.route(`POST ${REFRESH}`, () => tokenResponse("u1", "s1"));
    expect(await refresher.refresh()).toMatch(/\./);
    expect(refresher.unreachable).toBe(false);
  });

  it("resolves to the token held when the client refuses the new one, or the answer is not a token response", async () => {
    const browser = installFakeBrowser();
    const { refresher, store } = setUp(browser, true);
    expect(await refresher.refresh()).toBeNull();
    const held = readToken(makeToken({ sub: "u1", sid: "s1" }))!;
    store.set(held);
    expect(await refresher.refresh()).toBe(held.token);
    browser.route(`POST ${REFRESH}`, () => respond(REFRESH, { accessToken: 42 }));
    expect(await refresher.refresh()).toBe(held.token);
  });

  it("uses the token another tab refreshed while this one waited for the lock, without a request", async () => {
    const browser = installFakeBrowser();
    const grant = holdLock();
    const { refresher, store } = setUp(browser);
    const result = refresher.refresh();
    const peers = readToken(makeToken({ sub: "u1", sid: "s1" }))!;
    store.set(peers);
    grant();
    expect(await result).toBe(peers.token);
    expect(browser.count("POST", REFRESH)).toBe(0);
  });

  it("uses a short-lived peer token too while more than half its life is left (tokens of seconds, not minutes)", async () => {
    const browser = installFakeBrowser();
    const grant = holdLock();
    const { refresher, store } = setUp(browser);
    const result = refresher.refresh();
    const peers = readToken(makeToken({ sub: "u1", sid: "s1", ttlSeconds: 6 }))!;
    store.set(peers);
    grant();
    expect(await result).toBe(peers.token);
    expect(browser.count("POST", REFRESH)).toBe(0);
  });

  it("makes no request once the lifetime ends, and ends a back-off wait at once", async () => {
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: unavailable });
    const { refresher, life } = setUp(browser);
    const result = refresher.refresh();
    await settle(1);
    life.end();
    expect(await result).toBeNull();
    expect(await refresher.refresh()).toBeNull();
    await settle(60_000);
    expect(browser.count("POST", REFRESH)).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
