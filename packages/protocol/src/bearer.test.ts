import { describe, expect, it } from "vitest";
import { parseBearer } from "./bearer.js";

describe("parseBearer", () => {
  it("returns the token of a Bearer credential, whatever the scheme's case and the spaces around", () => {
    expect(parseBearer("Bearer abc.DEF-_~+/==")).toBe("abc.DEF-_~+/==");
    expect(parseBearer("bearer   abc  ")).toBe("abc");
  });

  it("refuses other schemes, a missing token and characters a b64token may not hold", () => {
    for (const value of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Bearer a=b", " Bearer a", "Bearer\ta", "Bearer a,b"]) {
      expect(parseBearer(value), value).toBeUndefined();
    }
  });
});
