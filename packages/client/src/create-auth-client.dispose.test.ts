import { afterEach, describe, expect, it, vi } from "vitest";
import { AUTH, installFakeBrowser, makeToken, respond, settle, tokenResponse, userOf } from "../test/fake-browser.js";
import { createAuthClient } from "./create-auth-client.js";
import type { AuthEvent } from "./events.js";

const REFRESH = `${AUTH}/auth/refresh`;
const LOGOUT = `${AUTH}/auth/logout`;

/** A client on the fake page, and the events it emits. */
function openTab() {
  const auth = createAuthClient({ baseUrl: `${AUTH}/auth` });
  const events: AuthEvent[] = [];
  auth.subscribe((event) => events.push(event));
  return { auth, events };
}

describe("createAuthClient: dispose()", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("removes every listener and timer of a signed-in client: no wake-up, peer or schedule reaches it", async () => {
    const browser = installFakeBrowser();
    const { auth, events } = openTab();
    await settle();
    expect(auth.state).toBe("authenticated");
    expect(vi.getTimerCount()).toBe(1);
    const seen = events.length;

    auth.dispose();
    expect(vi.getTimerCount()).toBe(0);
    for (const type of ["visibilitychange", "focus", "online", "pageshow"]) browser.fire(type);
    new BroadcastChannel(`hush:${AUTH}/auth`).postMessage({ t: "out" });
    await settle(3_600_000);
    expect(browser.count("POST", REFRESH)).toBe(1);
    expect(auth.state).toBe("authenticated");
    expect(await auth.refresh()).toBeNull();
    expect(browser.count("POST", REFRESH)).toBe(1);
    expect(events).toHaveLength(seen);
    auth.dispose();
  });

  it("ends a refresh's back-off at once: ready settles anonymous, and no more requests follow", async () => {
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: () => respond(REFRESH, { error: "unavailable" }, { status: 503 }) });
    const { auth } = openTab();
    await settle(300);
    expect(browser.count("POST", REFRESH)).toBe(1);
    auth.dispose();
    await auth.ready;
    expect(auth.state).toBe("anonymous");
    expect(vi.getTimerCount()).toBe(0);
    await settle(60_000);
    expect(browser.count("POST", REFRESH)).toBe(1);
  });

  it("stops retrying an unconfirmed logout, and leaves its mark for the next page to see through", async () => {
    const browser = installFakeBrowser({ [`POST ${LOGOUT}`]: () => respond(LOGOUT, { error: "unavailable" }, { status: 503 }) });
    const { auth } = openTab();
    await settle();
    await auth.logout().catch(() => undefined);
    auth.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await settle(300_000);
    expect(browser.count("POST", LOGOUT)).toBe(1);
    expect(browser.storage.size).toBe(1);
  });

  it("arms nothing when a request under way settles afterwards", async () => {
    let answer = () => {};
    installFakeBrowser({
      [`POST ${REFRESH}`]: () =>
        new Promise((resolve) => {
          answer = () => resolve(tokenResponse("u1", "s1"));
        }),
    });
    const { auth } = openTab();
    await settle();
    auth.dispose();
    answer();
    await settle();
    expect(vi.getTimerCount()).toBe(0);
    // A peer's token sent now would have been adopted by a live client.
    new BroadcastChannel(`hush:${AUTH}/auth`).postMessage({
      t: "token",
      accessToken: makeToken({ sub: "u2", sid: "s2" }),
      user: userOf("u2"),
      skew: 0,
    });
    await settle();
    expect(auth.user?.id).toBe("u1");
  });
});
