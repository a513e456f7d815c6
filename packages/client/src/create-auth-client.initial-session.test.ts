import { afterEach, describe, expect, it, vi } from "vitest";
import { AUTH, installFakeBrowser, makeToken, settle, TTL_SECONDS, userOf } from "../test/fake-browser.js";
import { createAuthClient } from "./create-auth-client.js";
import type { AuthEvent } from "./events.js";

const REFRESH = `${AUTH}/auth/refresh`;

/** A client created on the fake page, with its events recorded. */
function open(options: Partial<Parameters<typeof createAuthClient>[0]> = {}) {
  const auth = createAuthClient({ baseUrl: `${AUTH}/auth`, ...options });
  const events: AuthEvent[] = [];
  auth.subscribe((event) => events.push(event));
  return { auth, events };
}

/** Puts the page on the auth server's host name (where its hint cookie is visible), with `cookie`. */
function samePage(cookie: string) {
  vi.stubGlobal("location", new URL("https://auth.example:8443/app"));
  vi.stubGlobal("document", { visibilityState: "visible", cookie });
}

describe("createAuthClient: a session rendered by the server (initialSession)", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("adopts it instead of refreshing on load, keeps it out of storage, and refreshes on schedule", async () => {
    const browser = installFakeBrowser();
    const accessToken = makeToken({ sub: "u7", sid: "s7" });
    const { auth, events } = open({ initialSession: { accessToken, expiresIn: TTL_SECONDS, user: userOf("u7") } });
    // Signed in as soon as created, so that a hydrating page renders signed in at once: there
    // was never a signed-out state to announce a change from.
    expect(auth.state).toBe("authenticated");
    expect(auth.user?.id).toBe("u7");
    await auth.ready;
    expect(await auth.getAccessToken()).toBe(accessToken);
    expect(events).toEqual([]);
    expect(browser.seen).toEqual([]);
    expect([...browser.storage.values()].join()).not.toContain(accessToken);
    // The scheduler takes over as after any refresh: one refresh 60–65 s before expiry, none before.
    await settle((TTL_SECONDS - 66) * 1000);
    expect(browser.count("POST", REFRESH)).toBe(0);
    await settle(7_000);
    expect(browser.count("POST", REFRESH)).toBe(1);
    auth.dispose();
  });

  it("shares it with a tab that opens next, which then asks nobody", async () => {
    const browser = installFakeBrowser();
    const accessToken = makeToken({ sub: "u7", sid: "s7" });
    const first = open({ initialSession: { accessToken, expiresIn: TTL_SECONDS, user: userOf("u7") } });
    await first.auth.ready;
    const second = open();
    await settle();
    await second.auth.ready;
    expect(second.auth.user?.id).toBe("u7");
    expect(browser.seen).toEqual([]);
    first.auth.dispose();
    second.auth.dispose();
  });

  it("starts signed out without a request when the server found no session (null)", async () => {
    const browser = installFakeBrowser();
    const { auth, events } = open({ initialSession: null });
    await auth.ready;
    expect(auth.state).toBe("anonymous");
    expect(events).toEqual([]);
    expect(browser.seen).toEqual([]);
    auth.dispose();
  });

  it("falls back to the usual refresh when the embedded token does not parse", async () => {
    const browser = installFakeBrowser();
    const { auth } = open({ initialSession: { accessToken: "not-a-jwt", expiresIn: 600, user: userOf("u7") } });
    await settle();
    await auth.ready;
    expect(auth.user?.id).toBe("u1");
    expect(browser.count("POST", REFRESH)).toBe(1);
    auth.dispose();
  });

  it("does not bring back a session whose logout still awaits the server", async () => {
    const browser = installFakeBrowser();
    browser.storage.set(`hush-logout:${AUTH}/auth`, "s7");
    const accessToken = makeToken({ sub: "u7", sid: "s7" });
    const { auth } = open({ initialSession: { accessToken, expiresIn: TTL_SECONDS, user: userOf("u7") } });
    await settle();
    await auth.ready;
    expect(auth.state).toBe("anonymous");
    expect(await auth.getAccessToken()).toBeNull();
    expect(browser.count("POST", `${AUTH}/auth/logout`)).toBe(1);
    auth.dispose();
  });
});

describe("createAuthClient: the hush_session hint", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("skips the load-time refresh, and the wait for peers, when the auth server's host set no hint", async () => {
    const browser = installFakeBrowser();
    samePage("theme=dark; other_hush_session=1");
    const { auth, events } = open();
    await auth.ready;
    expect(auth.state).toBe("anonymous");
    expect(events).toEqual([]);
    expect(browser.seen).toEqual([]);
    // An explicit call still reaches the server: a live cookie without its hint signs in then.
    expect(await auth.refresh()).not.toBeNull();
    expect(auth.user?.id).toBe("u1");
    auth.dispose();
  });

  it("refreshes on load when the hint is there", async () => {
    const browser = installFakeBrowser();
    samePage("theme=dark; hush_session=1");
    const { auth } = open();
    await settle();
    await auth.ready;
    expect(auth.user?.id).toBe("u1");
    expect(browser.count("POST", REFRESH)).toBe(1);
    auth.dispose();
  });

  it("always refreshes with sessionHint: false, and where the hint cannot be seen (another host name)", async () => {
    const browser = installFakeBrowser();
    samePage("");
    const optedOut = open({ sessionHint: false });
    await settle();
    await optedOut.auth.ready;
    expect(optedOut.auth.user?.id).toBe("u1");
    optedOut.auth.dispose();

    vi.stubGlobal("location", new URL("https://app.example/"));
    const elsewhere = open();
    await settle();
    await elsewhere.auth.ready;
    expect(elsewhere.auth.user?.id).toBe("u1");
    expect(browser.count("POST", REFRESH)).toBe(2);
    elsewhere.auth.dispose();
  });
});
