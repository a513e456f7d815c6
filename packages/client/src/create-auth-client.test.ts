import { ACCESS_TOKEN_HEADER as PROTOCOL_ACCESS_TOKEN_HEADER, CSRF_HEADER as PROTOCOL_CSRF_HEADER } from "@hush/protocol";
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_HEADER, CSRF_HEADER } from "./create-auth-client.js";
import { readToken } from "./token-store.js";

// The browser behaviour is tested in real Chromium (e2e/); these keep the zero-dependency
// client honest about the wire names it inlines and the one parser it has.
describe("@hush/client", () => {
  it("inlines exactly the protocol's header names", () => {
    expect(CSRF_HEADER).toBe(PROTOCOL_CSRF_HEADER);
    expect(ACCESS_TOKEN_HEADER).toBe(PROTOCOL_ACCESS_TOKEN_HEADER);
  });

  it("reads exp and iat of a JWT in milliseconds, and nothing from garbage", () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_800_000_600, iat: 1_800_000_000, sub: "ü" })).toString("base64url");
    expect(readToken(`h.${payload}.s`)).toEqual({ token: `h.${payload}.s`, exp: 1_800_000_600_000, iat: 1_800_000_000_000 });
    for (const bad of [
      "",
      "a.b.c",
      `h.${Buffer.from("[1]").toString("base64url")}.s`,
      `h.${Buffer.from('{"exp":"x","iat":1}').toString("base64url")}.s`,
    ]) {
      expect(readToken(bad)).toBeUndefined();
    }
  });
});
