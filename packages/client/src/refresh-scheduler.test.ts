import { afterEach, describe, expect, it, vi } from "vitest";
import { installFakeBrowser, makeToken } from "../test/fake-browser.js";
import { createLifetime } from "./lifetime.js";
import { createRefreshScheduler, REFRESH_JITTER_MS, REFRESH_MARGIN_MS } from "./refresh-scheduler.js";
import { createTokenStore, readToken } from "./token-store.js";

/** A store holding a fresh token of the fake browser's lifetime (600 s), and a scheduler for it. */
function setUp({ enabled = true, random = 0 } = {}) {
  const browser = installFakeBrowser();
  vi.spyOn(Math, "random").mockReturnValue(random);
  const store = createTokenStore();
  const life = createLifetime();
  const wake = vi.fn();
  const scheduler = createRefreshScheduler(store, life, enabled, wake);
  const hold = () => store.set(readToken(makeToken({ sub: "u1", sid: "s1" }))!);
  return { browser, store, life, wake, scheduler, hold };
}

describe("createRefreshScheduler", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("wakes REFRESH_MARGIN_MS before exp, and due() turns true then", async () => {
    const { wake, scheduler, hold } = setUp();
    hold();
    scheduler.schedule();
    await vi.advanceTimersByTimeAsync(600_000 - REFRESH_MARGIN_MS - 1);
    expect(wake).not.toHaveBeenCalled();
    expect(scheduler.due()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(wake).toHaveBeenCalledOnce();
    expect(scheduler.due()).toBe(true);
  });

  it("jitters up to REFRESH_JITTER_MS earlier", async () => {
    const { wake, scheduler, hold } = setUp({ random: 0.5 });
    hold();
    scheduler.schedule();
    await vi.advanceTimersByTimeAsync(600_000 - REFRESH_MARGIN_MS - REFRESH_JITTER_MS / 2);
    expect(wake).toHaveBeenCalledOnce();
  });

  it("keeps a short-lived token's margin and jitter to a share of its life", async () => {
    const { store, wake, scheduler } = setUp({ random: 0.999_999 });
    // A 60-second token: 20 % of its life (12 s) before exp, and a jitter of up to 10 % (6 s) capped at 5 s.
    const payload = Buffer.from(JSON.stringify({ sub: "u1", iat: Date.now() / 1000, exp: Date.now() / 1000 + 60 })).toString("base64url");
    store.set(readToken(`h.${payload}.s`)!);
    scheduler.schedule();
    await vi.advanceTimersByTimeAsync(60_000 - 12_000 - 5_000 - 1);
    expect(wake).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(wake).toHaveBeenCalledOnce();
  });

  it("arms nothing without a token, when disabled, or once cancelled", async () => {
    for (const enabled of [true, false]) {
      const { scheduler, hold } = setUp({ enabled });
      scheduler.schedule();
      expect(vi.getTimerCount()).toBe(0);
      hold();
      scheduler.schedule();
      scheduler.cancel();
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it("wakes on every wake-up of a visible page, never of a hidden one", () => {
    const { browser, wake } = setUp();
    for (const type of ["visibilitychange", "focus", "online", "pageshow"]) browser.fire(type);
    expect(wake).toHaveBeenCalledTimes(4);
    vi.stubGlobal("document", { visibilityState: "hidden" });
    browser.fire("visibilitychange");
    expect(wake).toHaveBeenCalledTimes(4);
  });

  it("leaves no listener and no timer once the lifetime ends", () => {
    const { browser, life, wake, scheduler, hold } = setUp();
    hold();
    scheduler.schedule();
    life.end();
    expect(vi.getTimerCount()).toBe(0);
    browser.fire("online");
    expect(wake).not.toHaveBeenCalled();
  });
});
