import { afterEach, describe, expect, it, vi } from "vitest";
import { APP, AUTH, installFakeBrowser, makeToken, respond, settle, userOf } from "../test/fake-browser.js";
import { isAuthError } from "./auth-error.js";
import { createAuthClient } from "./create-auth-client.js";
import type { AuthEvent } from "./events.js";

const LOGOUT = `${AUTH}/auth/logout`;
const REFRESH = `${AUTH}/auth/refresh`;
const unavailable = () => respond(LOGOUT, { error: "unavailable", message: "The database is unreachable." }, { status: 503 });

/** Opens a "tab": a client on the fake page, signed in from the cookie (user u1, session s1). */
async function openTab(options: { assistedRefreshOrigins?: string[] } = {}) {
  const auth = createAuthClient({ baseUrl: `${AUTH}/auth`, ...options });
  const events: AuthEvent[] = [];
  auth.subscribe((event) => events.push(event));
  await settle();
  await auth.ready;
  return { auth, events };
}

/** What `promise` settled with: the AuthError code it rejected with, or "resolved". */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isAuthError(error) ? `${error.code}:${error.status}` : `not an AuthError: ${String(error)}`),
  );

describe("createAuthClient: logout() when the server does not confirm", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("drops the token at once, rejects with logout_failed and emits an error event on a 503", async () => {
    const browser = installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable });
    const { auth, events } = await openTab();
    expect(auth.state).toBe("authenticated");
    const done = outcome(auth.logout());
    // Signed out before the server has even answered.
    expect(auth.state).toBe("anonymous");
    expect(await auth.getAccessToken()).toBeNull();
    expect(await done).toBe("logout_failed:503");
    expect(events.map((e) => e.type)).toEqual(["authenticated", "refreshed", "logged-out", "error"]);
    const error = events.at(-1);
    expect(error?.type === "error" && isAuthError(error.error) && error.error.code).toBe("logout_failed");
    expect(browser.count("POST", LOGOUT)).toBe(1);
  });

  it("rejects with logout_failed (status 0) when the network fails", async () => {
    installFakeBrowser({
      [`POST ${LOGOUT}`]: () => {
        throw new TypeError("Failed to fetch");
      },
    });
    const { auth } = await openTab();
    expect(await outcome(auth.logout())).toBe("logout_failed:0");
    expect(auth.state).toBe("anonymous");
  });

  it("retries with back-off until the server confirms, then stops and leaves nothing in storage", async () => {
    let failures = 3;
    const browser = installFakeBrowser({
      [`POST ${LOGOUT}`]: () => (failures-- > 0 ? unavailable() : respond(LOGOUT, null, { status: 204 })),
    });
    const { auth, events } = await openTab();
    expect(await outcome(auth.logout())).toBe("logout_failed:503");
    expect(browser.count("POST", LOGOUT)).toBe(1);
    // Back-off: no hammering right after the failure.
    await settle(400);
    expect(browser.count("POST", LOGOUT)).toBe(1);
    await settle(60_000);
    expect(browser.count("POST", LOGOUT)).toBe(4);
    expect(events.filter((e) => e.type === "error")).toHaveLength(3);
    expect(browser.storage.size).toBe(0);
    await settle(300_000);
    expect(browser.count("POST", LOGOUT)).toBe(4);
    expect(browser.count("POST", REFRESH)).toBe(1);
  });

  it("resolves, with nothing left behind, when the server confirms at once", async () => {
    const browser = installFakeBrowser();
    const { auth } = await openTab();
    expect(await outcome(auth.logout())).toBe("resolved");
    expect(browser.storage.size).toBe(0);
    await settle(300_000);
    expect(browser.count("POST", LOGOUT)).toBe(1);
  });

  it("signs the other tabs out at once, whatever the server answers", async () => {
    installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable });
    const a = await openTab();
    const b = await openTab();
    expect(b.auth.state).toBe("authenticated");
    void a.auth.logout().catch(() => undefined);
    await settle(10);
    expect(b.auth.state).toBe("anonymous");
    expect(b.events.at(-1)).toEqual({ type: "logged-out", source: "other-tab" });
  });

  it("does not sign back in on a reload, or in a new tab, while the logout awaits the server: it retries the logout instead", async () => {
    const browser = installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable });
    const first = await openTab();
    await first.auth.logout().catch(() => undefined);
    const refreshesBefore = browser.count("POST", REFRESH);
    // A reload (or a new tab): a fresh client on the same page, with the cookie still alive.
    const reloaded = await openTab();
    expect(reloaded.auth.state).toBe("anonymous");
    expect(await reloaded.auth.getAccessToken()).toBeNull();
    expect(await reloaded.auth.refresh()).toBeNull();
    expect(browser.count("POST", REFRESH)).toBe(refreshesBefore);
    // … and it takes the logout over: once the server is back, the session ends.
    const logoutsBefore = browser.count("POST", LOGOUT);
    browser.route(`POST ${LOGOUT}`, () => respond(LOGOUT, null, { status: 204 }));
    await settle(60_000);
    expect(browser.count("POST", LOGOUT)).toBeGreaterThan(logoutsBefore);
    expect(browser.storage.size).toBe(0);
    // Confirmed: the next load refreshes as usual (the server has cleared the cookie by now).
    const later = await openTab();
    expect(browser.count("POST", REFRESH)).toBe(refreshesBefore + 1);
    expect(later.auth.state).toBe("authenticated");
  });

  it("refuses every way back into the session being logged out: refresh, wake-ups, assisted refresh, a peer's stale token", async () => {
    const browser = installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable });
    const { auth } = await openTab({ assistedRefreshOrigins: [APP] });
    await auth.logout().catch(() => undefined);
    expect(await auth.refresh()).toBeNull();
    // A wake-up retries the logout at once (well before the first back-off delay), never a refresh.
    browser.fire("online");
    await settle(10);
    expect(browser.count("POST", LOGOUT)).toBe(2);
    browser.route(`GET ${APP}/api/me`, () =>
      respond(`${APP}/api/me`, {}, { headers: { "x-access-token": makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 5 }) } }),
    );
    await auth.fetch(`${APP}/api/me`);
    // A peer that refreshed just before it heard of the logout shares a token of that session.
    const peer = new BroadcastChannel(`hush:${AUTH}/auth`);
    peer.postMessage({ t: "token", accessToken: makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 6 }), user: userOf("u1"), skew: 0 });
    await settle(1000);
    expect(auth.state).toBe("anonymous");
    expect(await auth.getAccessToken()).toBeNull();
    expect(browser.count("POST", REFRESH)).toBe(1);
    expect(browser.storage.size).toBe(1);
  });

  it("takes a peer's token of another session (a sign-in in another tab) and ends the pending logout", async () => {
    const browser = installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable });
    const { auth } = await openTab();
    await auth.logout().catch(() => undefined);
    const logouts = browser.count("POST", LOGOUT);
    const peer = new BroadcastChannel(`hush:${AUTH}/auth`);
    peer.postMessage({ t: "token", accessToken: makeToken({ sub: "u2", sid: "s5" }), user: userOf("u2"), skew: 0 });
    await settle(10);
    expect(auth.state).toBe("authenticated");
    expect(auth.user?.id).toBe("u2");
    expect(browser.storage.size).toBe(0);
    await settle(300_000);
    expect(browser.count("POST", LOGOUT)).toBe(logouts);
  });

  it("ends the pending logout with a new sign-in, which the retries then leave alone", async () => {
    const browser = installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable });
    const { auth } = await openTab();
    await auth.logout().catch(() => undefined);
    const logouts = browser.count("POST", LOGOUT);
    await auth.login({ email: "u1@example.com", password: "violet-otter-keeps-42-secrets" });
    expect(auth.state).toBe("authenticated");
    expect(browser.storage.size).toBe(0);
    await settle(300_000);
    // No retry may end the new session (the cookie in the jar is now the new one).
    expect(browser.count("POST", LOGOUT)).toBe(logouts);
    expect(auth.state).toBe("authenticated");
  });
});
