import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffMs } from "./backoff.js";

describe("backoffMs", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("doubles from the base per attempt up to the maximum", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    expect([0, 1, 2, 3, 4, 5, 10].map((attempt) => backoffMs(attempt, 1_000, 30_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it("jitters between half and one and a half times the wait", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    expect(backoffMs(2, 500, 8_000)).toBe(1_000);
    vi.spyOn(Math, "random").mockReturnValue(0.999_999);
    expect(backoffMs(2, 500, 8_000)).toBeCloseTo(3_000, 1);
    expect(backoffMs(9, 500, 8_000)).toBeCloseTo(12_000, 1);
  });
});
