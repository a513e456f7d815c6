import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AUTH, installFakeBrowser, makeToken, respond, settle } from "../test/fake-browser.js";
import { createAuthApi } from "./auth-api.js";
import { isAuthError } from "./auth-error.js";
import type { AuthEvent } from "./events.js";
import { createLifetime } from "./lifetime.js";
import { createPendingLogout, LOGOUT_RETRY_BASE_MS, LOGOUT_RETRY_MAX_MS } from "./pending-logout.js";
import { readToken } from "./token-store.js";

const LOGOUT = `${AUTH}/auth/logout`;
const KEY = "hush-logout:test";
const unavailable = () => respond(LOGOUT, { error: "unavailable", message: "The database is unreachable." }, { status: 503 });
const confirmed = () => respond(LOGOUT, null, { status: 204 });
const heldOf = (sid: string) => readToken(makeToken({ sub: "u1", sid }))!;

function setUp(browser: ReturnType<typeof installFakeBrowser>) {
  const events: AuthEvent[] = [];
  const life = createLifetime();
  const pending = createPendingLogout(KEY, createAuthApi(`${AUTH}/auth`), (event) => events.push(event), life);
  return { browser, events, life, pending };
}

describe("createPendingLogout", () => {
  beforeEach(() => {
    // No jitter: each wait is exactly the back-off's.
    vi.spyOn(Math, "random").mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("keeps the mark in localStorage, shared with every tab and reload, until dropped", () => {
    const { browser, pending } = setUp(installFakeBrowser());
    expect(pending.get()).toBeNull();
    pending.begin("s1");
    expect(browser.storage.get(KEY)).toBe("s1");
    expect(createPendingLogout(KEY, createAuthApi(AUTH), () => undefined, createLifetime()).get()).toBe("s1");
    pending.drop();
    expect(pending.get()).toBeNull();
    expect(browser.storage.size).toBe(0);
  });

  it("keeps the mark in this tab's memory where storage is unavailable", () => {
    const { pending } = setUp(installFakeBrowser());
    const blocked = () => {
      throw new DOMException("blocked", "SecurityError");
    };
    vi.stubGlobal("localStorage", { getItem: blocked, setItem: blocked, removeItem: blocked });
    pending.begin("s1");
    expect(pending.get()).toBe("s1");
    pending.drop();
    expect(pending.get()).toBeNull();
  });

  it("refuses tokens of the session being logged out (or of any session when it is unknown), and gives way to another session", () => {
    const { pending } = setUp(installFakeBrowser());
    expect(pending.allows(heldOf("s1"))).toBe(true);
    pending.begin("");
    expect(pending.allows(heldOf("s1"))).toBe(false);
    pending.begin("s1");
    expect(pending.allows(heldOf("s1"))).toBe(false);
    // A token of another session: a sign-in replaced the cookie, so the logout is moot.
    expect(pending.allows(heldOf("s2"))).toBe(true);
    expect(pending.get()).toBeNull();
  });

  it("clears the mark once the server confirms, sharing one request among concurrent calls", async () => {
    const { browser, pending } = setUp(installFakeBrowser());
    pending.begin("s1");
    await Promise.all([pending.confirm(), pending.confirm()]);
    expect(browser.count("POST", LOGOUT)).toBe(1);
    expect(pending.get()).toBeNull();
  });

  it("rejects with logout_failed, emits it, and retries with back-off (1 s doubling to 30 s) until the server confirms", async () => {
    let failures = 7;
    const { browser, events, pending } = setUp(
      installFakeBrowser({ [`POST ${LOGOUT}`]: () => (failures-- > 0 ? unavailable() : confirmed()) }),
    );
    pending.begin("s1");
    const error = await pending.confirm().catch((e: unknown) => e);
    expect(isAuthError(error) && [error.code, error.status]).toEqual(["logout_failed", 503]);
    expect(events).toEqual([{ type: "error", error }]);
    // Attempt n+1 comes LOGOUT_RETRY_BASE_MS · 2^n after attempt n fails, at most LOGOUT_RETRY_MAX_MS.
    const waits = [1, 2, 4, 8, 16, 30, 30].map((s) => s * 1_000);
    expect(waits[0]).toBe(LOGOUT_RETRY_BASE_MS);
    expect(Math.max(...waits)).toBe(LOGOUT_RETRY_MAX_MS);
    for (const [n, wait] of waits.entries()) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(browser.count("POST", LOGOUT)).toBe(n + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(browser.count("POST", LOGOUT)).toBe(n + 2);
    }
    expect(events).toHaveLength(7);
    expect(pending.get()).toBeNull();
    await settle(300_000);
    expect(browser.count("POST", LOGOUT)).toBe(8);
  });

  it("reports a network failure as logout_failed with status 0", async () => {
    const { pending } = setUp(
      installFakeBrowser({
        [`POST ${LOGOUT}`]: () => {
          throw new TypeError("Failed to fetch");
        },
      }),
    );
    pending.begin("s1");
    const error = await pending.confirm().catch((e: unknown) => e);
    expect(isAuthError(error) && [error.code, error.status]).toEqual(["logout_failed", 0]);
  });

  it("stops retrying when dropped, when another tab had it confirmed, or when the lifetime ends", async () => {
    for (const stop of ["drop", "other-tab", "end"] as const) {
      const { browser, life, pending } = setUp(installFakeBrowser({ [`POST ${LOGOUT}`]: unavailable }));
      pending.begin("s1");
      await pending.confirm().catch(() => undefined);
      if (stop === "drop") pending.drop();
      else if (stop === "other-tab") browser.storage.delete(KEY);
      else life.end();
      await settle(300_000);
      expect(browser.count("POST", LOGOUT)).toBe(1);
    }
  });
});
