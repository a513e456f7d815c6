import { describe, expect, it } from "vitest";
import { parseDurationSeconds } from "./durations.js";

describe("parseDurationSeconds", () => {
  it.each([
    ["30s", 30],
    ["10m", 600],
    ["1h", 3600],
    ["30d", 2_592_000],
    ["2w", 1_209_600],
    ["90", 90],
    [" 7d ", 604_800],
  ])("reads %s as %i seconds", (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(["", "0", "0s", "10x", "-5m", "1.5h", "m", "10 m", "1e3"])("refuses %j", (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });
});
