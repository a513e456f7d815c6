import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_STATUS, isErrorCode } from "./error-codes.js";

describe("ERROR_STATUS", () => {
  it("has exactly one row in docs/errors.md per code, with the same status", () => {
    const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` *\| (\d{3}) *\|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
    expect(rows).toHaveLength(ERROR_CODES.length);
  });

  it("recognises its own codes and nothing else", () => {
    expect(isErrorCode("invalid_token")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode(401)).toBe(false);
  });
});
