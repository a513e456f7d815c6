import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeToken } from "../test/fake-browser.js";
import { createTokenStore, readToken } from "./token-store.js";

/** A token as held, issued `offsetSeconds` from this device's now by the server's clock. */
const held = (offsetSeconds = 0) => readToken(makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: offsetSeconds }))!;

describe("createTokenStore", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00.000Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("holds a token until cleared", () => {
    const store = createTokenStore();
    expect(store.get()).toBeUndefined();
    const token = held();
    store.set(token);
    expect(store.get()).toBe(token);
    store.clear();
    expect(store.get()).toBeUndefined();
  });

  it("estimates the server's clock from the token's iat, so a device minutes wrong still judges expiry right", () => {
    const store = createTokenStore();
    // The server's clock is 5 minutes ahead of this device's.
    store.set(held(300));
    expect(store.skew()).toBe(300_000);
    expect(store.serverNow()).toBe(Date.now() + 300_000);
    vi.advanceTimersByTime(1_000);
    expect(store.serverNow()).toBe(Date.now() + 300_000);
  });

  it("takes the skew given with a token from another tab (same device clock) instead of guessing", () => {
    const store = createTokenStore();
    store.set(held(300), 42);
    expect(store.skew()).toBe(42);
  });
});
