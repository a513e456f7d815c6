import { readFileSync } from "node:fs";
import {
  ACCESS_TOKEN_HEADER as PROTOCOL_ACCESS_TOKEN_HEADER,
  CSRF_HEADER as PROTOCOL_CSRF_HEADER,
  SESSION_HINT_COOKIE_NAME,
} from "@hush/protocol";
import { describe, expect, it } from "vitest";
import { CSRF_HEADER } from "./auth-api.js";
import type { ClientErrorCode } from "./auth-error.js";
import { ACCESS_TOKEN_HEADER } from "./auth-fetch.js";
import { SESSION_HINT_COOKIE } from "./client-options.js";
import { readToken } from "./token-store.js";

// The browser behaviour is tested in real Chromium (e2e/), and the client's decisions against a
// fake browser (create-auth-client.*.test.ts); these keep the zero-dependency client honest about
// the wire names it inlines and the one parser it has.
describe("@hush/client", () => {
  it("inlines exactly the protocol's header and cookie names", () => {
    expect(CSRF_HEADER).toBe(PROTOCOL_CSRF_HEADER);
    expect(ACCESS_TOKEN_HEADER).toBe(PROTOCOL_ACCESS_TOKEN_HEADER);
    expect(SESSION_HINT_COOKIE).toBe(SESSION_HINT_COOKIE_NAME);
  });

  it("has a row in docs/errors.md for each code of its own", () => {
    const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
    // A code added to the type and not here fails the type-check; one missing from the doc fails here.
    const codes: Record<ClientErrorCode, true> = { logout_failed: true };
    for (const code of Object.keys(codes)) expect(doc).toMatch(new RegExp(`^\\| \`${code}\` \\|`, "m"));
  });

  it("reads exp and iat of a JWT in milliseconds, sub and sid as UTF-8, and nothing from garbage", () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_800_000_600, iat: 1_800_000_000, sub: "ü-1", sid: "s€" })).toString("base64url");
    expect(readToken(`h.${payload}.s`)).toEqual({
      token: `h.${payload}.s`,
      exp: 1_800_000_600_000,
      iat: 1_800_000_000_000,
      sub: "ü-1",
      sid: "s€",
    });
    const noSid = Buffer.from(JSON.stringify({ exp: 1, iat: 1, sub: "u" })).toString("base64url");
    expect(readToken(`h.${noSid}.s`)?.sid).toBe("");
    for (const bad of [
      "",
      "a.b.c",
      `h.${Buffer.from("[1]").toString("base64url")}.s`,
      `h.${Buffer.from('{"exp":"x","iat":1,"sub":"u"}').toString("base64url")}.s`,
      `h.${Buffer.from('{"exp":1,"iat":1}').toString("base64url")}.s`,
      `h.${Buffer.from('{"exp":1,"iat":1,"sub":7}').toString("base64url")}.s`,
    ]) {
      expect(readToken(bad)).toBeUndefined();
    }
  });
});
