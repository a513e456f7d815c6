import { afterEach, describe, expect, it, vi } from "vitest";
import { installFakeBrowser } from "../test/fake-browser.js";
import { createLifetime } from "./lifetime.js";

describe("createLifetime", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("runs a timer after its delay, unless cancelled", async () => {
    installFakeBrowser();
    const life = createLifetime();
    const fired = vi.fn();
    const dropped = vi.fn();
    life.after(1_000, fired);
    const cancel = life.after(1_000, dropped);
    cancel();
    await vi.advanceTimersByTimeAsync(999);
    expect(fired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toHaveBeenCalledOnce();
    expect(dropped).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("on end, clears every timer and removes every listener; scheduled work never runs, waits move on at once", async () => {
    const browser = installFakeBrowser();
    const life = createLifetime();
    const scheduled = vi.fn();
    const onOnline = vi.fn();
    const cleanup = vi.fn();
    life.after(60_000, scheduled);
    const slept = vi.fn();
    void life.sleep(60_000).then(slept);
    life.listen("online", onOnline);
    life.onEnd(cleanup);
    expect(vi.getTimerCount()).toBe(2);

    life.end();
    expect(life.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await Promise.resolve();
    expect(slept).toHaveBeenCalledOnce();
    browser.fire("online");
    expect(onOnline).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(scheduled).not.toHaveBeenCalled();
    life.end();
    expect(cleanup).toHaveBeenCalledOnce();
  });

  it("arms nothing once ended: a timer never runs, a sleep resolves at once", async () => {
    installFakeBrowser();
    const life = createLifetime();
    life.end();
    const scheduled = vi.fn();
    life.after(10, scheduled);
    await life.sleep(60_000);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(scheduled).not.toHaveBeenCalled();
  });
});
