import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, GOOD_PASSWORD, refreshCookieOf, signUp, type TestServer, uniqueEmail } from "./test-server.js";

const TRUSTED_EXTRA = "https://app.example.com";

for (const database of TEST_DATABASES)
  describe(`CSRF checks on every cookie endpoint [${database}]`, () => {
    let t: TestServer;
    let victim: Awaited<ReturnType<typeof signUp>>;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false, allowedOrigins: [TRUSTED_EXTRA] });
      victim = await signUp(t);
    });
    afterAll(() => t.close());

    const endpoints = ["/auth/signup", "/auth/login", "/auth/refresh", "/auth/logout"];
    const attacks: Array<[string, (origin: string) => Record<string, string>]> = [
      ["no CSRF header", (origin) => ({ origin, "x-hush-csrf": "" })],
      ["a wrong CSRF header value", (origin) => ({ origin, "x-hush-csrf": "0" })],
      ["a foreign Origin", () => ({ origin: "https://evil.example" })],
      ["Origin: null", () => ({ origin: "null" })],
      ["an Origin that only starts like ours", (origin) => ({ origin: `${origin}.evil.example` })],
      ["our host on another scheme", (origin) => ({ origin: origin.replace("http:", "https:") })],
      ["our host on another port", (origin) => ({ origin: origin.replace(/:\d+$/, ":1") })],
      ["Sec-Fetch-Site: cross-site without Origin", () => ({ origin: "", "sec-fetch-site": "cross-site" })],
    ];

    for (const path of endpoints) {
      for (const [name, headersFor] of attacks) {
        it(`${path} refuses ${name} with 403 csrf_failed and no effect`, async () => {
          const headers = new Headers({ cookie: victim.cookie, "content-type": "application/json" });
          for (const [k, v] of Object.entries(headersFor(t.origin))) headers.set(k, v);
          if (headers.get("origin") === "") headers.delete("origin");
          if (headers.get("x-hush-csrf") === "") headers.delete("x-hush-csrf");
          const response = await fetch(`${t.url}${path}`, {
            method: "POST",
            headers,
            body: JSON.stringify({ email: uniqueEmail(), password: GOOD_PASSWORD }),
          });
          expect(response.status).toBe(403);
          expect((await response.json()).error).toBe("csrf_failed");
          expect(refreshCookieOf(response)).toBeUndefined();
        });
      }
    }

    it("leaves the victim's session untouched after every attack", async () => {
      const response = await t.request("/auth/refresh", { method: "POST", headers: { cookie: victim.cookie } });
      expect(response.status).toBe(200);
    });

    it("refuses a form-encoded login (a cross-site HTML form) even with the header", async () => {
      const response = await t.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `email=${encodeURIComponent(victim.email)}&password=${GOOD_PASSWORD}`,
      });
      expect(response.status).toBe(415);
    });

    it("accepts a configured extra origin and a same-origin Sec-Fetch-Site", async () => {
      const { cookie } = await signUp(t);
      const fromApp = await t.request("/auth/refresh", { method: "POST", headers: { cookie, origin: TRUSTED_EXTRA } });
      expect(fromApp.status).toBe(200);
      const next = refreshCookieOf(fromApp)?.pair as string;
      const headers = new Headers({ cookie: next, "x-hush-csrf": "1", "sec-fetch-site": "same-origin" });
      const sameOrigin = await fetch(`${t.url}/auth/refresh`, { method: "POST", headers });
      expect(sameOrigin.status).toBe(200);
    });

    it("accepts a non-browser client with the header and neither Origin nor Sec-Fetch-Site", async () => {
      const response = await fetch(`${t.url}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hush-csrf": "1" },
        body: JSON.stringify({ email: victim.email, password: GOOD_PASSWORD }),
      });
      expect(response.status).toBe(200);
    });
  });

for (const database of TEST_DATABASES)
  describe(`CORS [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false, allowedOrigins: [TRUSTED_EXTRA] });
    });
    afterAll(() => t.close());

    it("answers a preflight from an allowed origin with that exact origin and credentials", async () => {
      const response = await fetch(`${t.url}/auth/refresh`, {
        method: "OPTIONS",
        headers: {
          origin: TRUSTED_EXTRA,
          "access-control-request-method": "POST",
          "access-control-request-headers": "x-hush-csrf,content-type",
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(TRUSTED_EXTRA);
      expect(response.headers.get("access-control-allow-credentials")).toBe("true");
      const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (const header of ["content-type", "authorization", "x-hush-csrf"]) expect(allowed).toContain(header);
    });

    it("gives a foreign origin no CORS grant, on preflight or on the request", async () => {
      const preflight = await fetch(`${t.url}/auth/refresh`, {
        method: "OPTIONS",
        headers: {
          origin: "https://evil.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "x-hush-csrf",
        },
      });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
      const get = await fetch(`${t.url}/.well-known/jwks.json`, { headers: { origin: "https://evil.example" } });
      expect(get.headers.get("access-control-allow-origin")).toBeNull();
    });

    it("exposes X-Access-Token, WWW-Authenticate and Date to allowed origins, also on errors", async () => {
      const response = await fetch(`${t.url}/auth/me`, { headers: { origin: TRUSTED_EXTRA } });
      expect(response.status).toBe(401);
      expect(response.headers.get("access-control-allow-origin")).toBe(TRUSTED_EXTRA);
      const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase();
      for (const header of ["x-access-token", "www-authenticate", "date"]) expect(exposed).toContain(header);
    });

    it("grants CORS on token responses, never with a wildcard", async () => {
      const response = await t.request("/auth/signup", {
        method: "POST",
        headers: { origin: TRUSTED_EXTRA },
        json: { email: uniqueEmail(), password: GOOD_PASSWORD },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("access-control-allow-origin")).toBe(TRUSTED_EXTRA);
      expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    });
  });
