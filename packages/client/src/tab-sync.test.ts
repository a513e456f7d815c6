import { afterEach, describe, expect, it, vi } from "vitest";
import { installFakeBrowser, makeToken, settle, userOf } from "../test/fake-browser.js";
import { createLifetime } from "./lifetime.js";
import { createTabSync, isTabMessage, type TabMessage, withLock } from "./tab-sync.js";

const token: TabMessage = { t: "token", accessToken: makeToken({ sub: "u1", sid: "s1" }), user: userOf("u1"), skew: 0 };

/**
 * Web Locks where another tab holds every lock until `release()`: a request waits, or rejects
 * with its signal's reason (a DOMException) when that aborts, as the browser's does.
 */
function fakeLocks() {
  let release = () => {};
  const free = new Promise<void>((resolve) => {
    release = resolve;
  });
  const locks = {
    async request(_name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>) {
      await new Promise<void>((resolve, reject) => {
        void free.then(resolve);
        options.signal?.addEventListener("abort", () => reject(options.signal?.reason));
      });
      return callback();
    },
  };
  vi.stubGlobal("navigator", { locks });
  return { release };
}

describe("createTabSync", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("delivers each message to the other tabs of the same channel, not to its sender", async () => {
    installFakeBrowser();
    const [a, b, other] = [vi.fn(), vi.fn(), vi.fn()];
    const tabA = createTabSync("hush:x", a);
    createTabSync("hush:x", b);
    createTabSync("hush:y", other);
    tabA.post(token);
    tabA.post({ t: "ask" });
    await settle(10);
    expect(b.mock.calls).toEqual([[token], [{ t: "ask" }]]);
    expect(a).not.toHaveBeenCalled();
    expect(other).not.toHaveBeenCalled();
  });

  it("ignores malformed messages: any script of the origin can post to the channel", async () => {
    installFakeBrowser();
    const received = vi.fn();
    createTabSync("hush:x", received);
    const stranger = new BroadcastChannel("hush:x");
    for (const bad of [
      null,
      "out",
      { t: "login" },
      { ...token, accessToken: 1 },
      { ...token, user: { id: "u1" } },
      { ...token, skew: "0" },
    ]) {
      stranger.postMessage(bad);
    }
    await settle(10);
    expect(received).not.toHaveBeenCalled();
    expect(isTabMessage(token) && isTabMessage({ t: "out" })).toBe(true);
  });

  it("neither sends nor receives once closed", async () => {
    installFakeBrowser();
    const received = vi.fn();
    const closed = createTabSync("hush:x", received);
    const open = createTabSync("hush:x", received);
    closed.close();
    expect(() => closed.post({ t: "out" })).not.toThrow();
    open.post({ t: "out" });
    await settle(10);
    expect(received).not.toHaveBeenCalled();
  });

  it("is disabled, and posts nothing, without BroadcastChannel", () => {
    vi.stubGlobal("BroadcastChannel", undefined);
    const sync = createTabSync("hush:x", () => undefined);
    expect(sync.enabled).toBe(false);
    expect(() => sync.post({ t: "ask" })).not.toThrow();
  });
});

describe("withLock", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("runs the task at once without Web Locks", async () => {
    vi.stubGlobal("navigator", undefined);
    expect(await withLock("l", 3_000, createLifetime(), async () => "done")).toBe("done");
  });

  it("runs the task under the lock once another tab releases it, leaving no timer behind", async () => {
    vi.useFakeTimers();
    const locks = fakeLocks();
    const task = vi.fn(async () => "done");
    const result = withLock("l", 3_000, createLifetime(), task);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task).not.toHaveBeenCalled();
    locks.release();
    expect(await result).toBe("done");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("runs the task anyway after waitMs, or at once when the lifetime ends: a lock never hangs the app", async () => {
    vi.useFakeTimers();
    fakeLocks();
    const task = vi.fn(async () => "unlocked");
    const waited = withLock("l", 3_000, createLifetime(), task);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(task).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(await waited).toBe("unlocked");

    const life = createLifetime();
    const ended = withLock("l", 3_000, life, task);
    life.end();
    expect(await ended).toBe("unlocked");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("lets the task's own failure through, without running it twice", async () => {
    vi.useFakeTimers();
    fakeLocks().release();
    const task = vi.fn(async () => {
      throw new DOMException("task failed", "NetworkError");
    });
    await expect(withLock("l", 3_000, createLifetime(), task)).rejects.toThrow("task failed");
    expect(task).toHaveBeenCalledOnce();
  });
});
