import { afterEach, describe, expect, it, vi } from "vitest";
import { type AuthEvent, createEmitter } from "./events.js";

const event: AuthEvent = { type: "logged-out", source: "this-tab" };

describe("createEmitter", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("calls every listener in the order they subscribed, until it unsubscribes", () => {
    const emitter = createEmitter();
    const calls: string[] = [];
    emitter.subscribe(() => calls.push("a"));
    const off = emitter.subscribe(() => calls.push("b"));
    emitter.emit(event);
    off();
    emitter.emit(event);
    expect(calls).toEqual(["a", "b", "a"]);
  });

  it("keeps calling the others when a listener throws, and logs the error", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const emitter = createEmitter();
    const seen: AuthEvent[] = [];
    emitter.subscribe(() => {
      throw new Error("listener bug");
    });
    emitter.subscribe((e) => seen.push(e));
    emitter.emit(event);
    expect(seen).toEqual([event]);
    expect(logged).toHaveBeenCalledOnce();
  });

  it("calls no one after clear()", () => {
    const emitter = createEmitter();
    const listener = vi.fn();
    emitter.subscribe(listener);
    emitter.clear();
    emitter.emit(event);
    expect(listener).not.toHaveBeenCalled();
  });
});
