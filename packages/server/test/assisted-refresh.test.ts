import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { type Listening, listen } from "../src/index.js";
import { createTestServer, refreshCookieOf, signUp, type TestServer } from "./test-server.js";

/** An application API in the same process: GET/POST /api/notes behind `server.protect`. */
for (const database of TEST_DATABASES)
  describe(`server.protect with assistRefresh (docs/api.md, server.protect) [${database}]`, () => {
    let t: TestServer;
    let app: Listening;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
      const notes = t.server.protect((_request, auth) => Response.json({ owner: auth.user.email, sid: auth.claims.sid }), {
        assistRefresh: true,
      });
      const strict = t.server.protect((_request, auth) => Response.json({ owner: auth.user.email }));
      app = await listen(
        {
          fetch: (request, connection) =>
            new URL(request.url).pathname === "/api/strict" ? strict(request, connection) : notes(request, connection),
        },
        0,
        "127.0.0.1",
      );
    });
    afterAll(async () => {
      await app.close();
      await t.close();
    });

    const generationOf = async (cookie: string) => {
      const sid = cookie.slice(cookie.indexOf("=") + 1).split(".")[0] as string;
      return (await t.server.storage.findSessionWithUser(sid))?.session.generation;
    };

    it("serves a request with a valid access token without touching the session", async () => {
      const { accessToken, email, cookie } = await signUp(t);
      const response = await fetch(`${app.url}/api/notes`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status).toBe(200);
      expect((await response.json()).owner).toBe(email);
      expect(response.headers.get("x-access-token")).toBeNull();
      expect(await generationOf(cookie)).toBe(0);
    });

    it("refreshes a legitimate request that has no access token, and returns the new one in X-Access-Token", async () => {
      const { email, cookie } = await signUp(t);
      const response = await fetch(`${app.url}/api/notes`, { headers: { cookie, "x-hush-csrf": "1", origin: t.origin } });
      expect(response.status).toBe(200);
      expect((await response.json()).owner).toBe(email);
      const token = response.headers.get("x-access-token") as string;
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(refreshCookieOf(response)?.pair).not.toBe(cookie);
      expect(await generationOf(cookie)).toBe(1);
      const me = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
    });

    it("refreshes a legitimate request whose access token has expired", async () => {
      const { accessToken, cookie } = await signUp(t);
      t.clock.advance(700_000);
      const response = await fetch(`${app.url}/api/notes`, {
        headers: { authorization: `Bearer ${accessToken}`, cookie, "x-hush-csrf": "1", origin: t.origin },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-access-token")).toBeTruthy();
    });

    it("never refreshes for a forged (not merely expired) access token", async () => {
      const { accessToken, cookie } = await signUp(t);
      const forged = `${accessToken.slice(0, -4)}AAAA`;
      const response = await fetch(`${app.url}/api/notes`, {
        headers: { authorization: `Bearer ${forged}`, cookie, "x-hush-csrf": "1", origin: t.origin },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("x-access-token")).toBeNull();
      expect(await generationOf(cookie)).toBe(0);
    });

    const attacks: Array<[string, Record<string, string>, string | undefined]> = [
      [
        "a cross-site HTML form POST",
        {
          "content-type": "application/x-www-form-urlencoded",
          origin: "https://evil.example",
          "sec-fetch-site": "cross-site",
          "sec-fetch-mode": "navigate",
        },
        "title=pwned",
      ],
      [
        "a no-cors fetch (no custom header possible)",
        { origin: "https://evil.example", "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" },
        undefined,
      ],
      ["a foreign Origin, even with the CSRF header", { origin: "https://evil.example", "x-hush-csrf": "1" }, undefined],
      ["Origin: null with the CSRF header", { origin: "null", "x-hush-csrf": "1" }, undefined],
      ["a same-origin request without the CSRF header", { origin: "" }, undefined],
    ];
    for (const [name, headers, body] of attacks) {
      it(`gives ${name} no refresh and no X-Access-Token`, async () => {
        const { cookie } = await signUp(t);
        const h = new Headers({ cookie, ...headers });
        if (h.get("origin") === "") h.set("origin", t.origin);
        const response = await fetch(`${app.url}/api/notes`, { method: body ? "POST" : "GET", headers: h, body });
        expect(response.status).toBe(401);
        expect(response.headers.get("x-access-token")).toBeNull();
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
        expect(refreshCookieOf(response)).toBeUndefined();
        expect(await generationOf(cookie)).toBe(0);
      });
    }

    it("does nothing of the kind when assistRefresh is off (the default)", async () => {
      const { cookie } = await signUp(t);
      const response = await fetch(`${app.url}/api/strict`, { headers: { cookie, "x-hush-csrf": "1", origin: t.origin } });
      expect(response.status).toBe(401);
      expect(response.headers.get("x-access-token")).toBeNull();
      expect(await generationOf(cookie)).toBe(0);
    });
  });
