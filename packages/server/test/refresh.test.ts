import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, refreshCookieOf, refreshWith, signUp, type TestServer } from "./test-server.js";

for (const database of TEST_DATABASES)
  describe(`POST /auth/refresh (rotating) [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
    });
    afterAll(() => t.close());

    it("issues a new access token and rotates the refresh cookie", async () => {
      const { cookie, user } = await signUp(t);
      const { response, cookie: next } = await refreshWith(t, cookie);
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = await response.json();
      expect(body.tokenType).toBe("Bearer");
      expect(body.user.id).toBe(user.id);
      expect(next?.pair).toBeDefined();
      expect(next?.pair).not.toBe(cookie);
      // Same session id, new secret.
      expect(next?.pair.split(".")[0]).toBe(cookie.split(".")[0]);
      const me = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${body.accessToken}` } });
      expect(me.status).toBe(200);
    });

    it("gives every one of 10 parallel presenters of one token the same successor", async () => {
      const { cookie } = await signUp(t);
      const results = await Promise.all(Array.from({ length: 10 }, () => refreshWith(t, cookie)));
      expect(results.map((r) => r.response.status)).toEqual(Array(10).fill(200));
      const successors = new Set(results.map((r) => r.cookie?.pair));
      expect(successors.size).toBe(1);
      // The one successor is valid and rotates on.
      const [successor] = successors;
      const after = await refreshWith(t, successor as string);
      expect(after.response.status).toBe(200);
    });

    it("honours a just-rotated token within the grace window with the same successor", async () => {
      const { cookie } = await signUp(t);
      const first = await refreshWith(t, cookie);
      t.clock.advance(9_000);
      const second = await refreshWith(t, cookie);
      expect(second.response.status).toBe(200);
      expect(second.cookie?.pair).toBe(first.cookie?.pair);
    });

    it("revokes the whole session when a retired token is replayed after the grace", async () => {
      const { cookie } = await signUp(t);
      const first = await refreshWith(t, cookie);
      t.clock.advance(11_000);
      const replay = await refreshWith(t, cookie);
      expect(replay.response.status).toBe(401);
      expect((await replay.response.json()).error).toBe("refresh_token_reused");
      expect(replay.cookie?.attributes).toContain("Max-Age=0");
      const event = t.events.findLast((e) => e.type === "refresh_token_reused");
      expect(event?.msSinceRotation).toBeGreaterThanOrEqual(11_000);
      // The legitimate holder of the successor is signed out too: the session is gone.
      const legit = await refreshWith(t, first.cookie?.pair as string);
      expect(legit.response.status).toBe(401);
      expect((await legit.response.json()).error).toBe("session_revoked");
    });

    it("detects the replay of an older ancestor of the chain", async () => {
      const { cookie } = await signUp(t);
      let current = cookie;
      for (let i = 0; i < 5; i++) {
        const next = await refreshWith(t, current);
        current = next.cookie?.pair as string;
        t.clock.advance(20_000);
      }
      const replay = await refreshWith(t, cookie);
      expect((await replay.response.json()).error).toBe("refresh_token_reused");
      expect((await refreshWith(t, current)).response.status).toBe(401);
    });

    it("does not let a forged secret for a known session id revoke that session", async () => {
      const { cookie } = await signUp(t);
      const [sessionPart] = cookie.split(".");
      const forged = await refreshWith(t, `${sessionPart}.${"A".repeat(43)}`);
      expect((await forged.response.json()).error).toBe("invalid_refresh_token");
      expect((await refreshWith(t, cookie)).response.status).toBe(200);
    });

    it.each([
      ["no cookie", undefined],
      ["a malformed cookie", "__Host-hush_rt=garbage"],
      ["an unknown session", `__Host-hush_rt=${"A".repeat(22)}.${"B".repeat(43)}`],
    ])("answers 401 invalid_refresh_token and clears the cookie for %s", async (_name, cookie) => {
      const response = await t.request("/auth/refresh", { method: "POST", headers: cookie ? { cookie } : {} });
      expect(response.status).toBe(401);
      expect((await response.json()).error).toBe("invalid_refresh_token");
      expect(refreshCookieOf(response)?.raw).toBe("__Host-hush_rt=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict");
    });

    it("expires a session that was idle longer than the idle lifetime", async () => {
      const { cookie } = await signUp(t);
      t.clock.advance(7 * 86_400_000 + 1000);
      const { response } = await refreshWith(t, cookie);
      expect((await response.json()).error).toBe("invalid_refresh_token");
    });

    it("expires a session at its absolute lifetime even when used every day, with Max-Age counting down", async () => {
      const { cookie } = await signUp(t);
      let current = cookie;
      for (let day = 0; day < 29; day++) {
        t.clock.advance(86_400_000);
        const next = await refreshWith(t, current);
        expect(next.response.status).toBe(200);
        current = next.cookie?.pair as string;
        const maxAge = Number(/Max-Age=(\d+)/.exec(next.cookie?.attributes ?? "")?.[1]);
        expect(maxAge).toBe(Math.min(604_800, (30 - day - 1) * 86_400));
      }
      t.clock.advance(86_400_000);
      expect((await (await refreshWith(t, current)).response.json()).error).toBe("invalid_refresh_token");
    });
  });

for (const database of TEST_DATABASES)
  describe(`POST /auth/logout [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
    });
    afterAll(() => t.close());

    it("revokes the session, clears the cookie and answers 204", async () => {
      const { cookie, accessToken } = await signUp(t);
      const response = await t.request("/auth/logout", { method: "POST", headers: { cookie } });
      expect(response.status).toBe(204);
      expect(refreshCookieOf(response)?.attributes).toContain("Max-Age=0");
      const after = await refreshWith(t, cookie);
      expect((await after.response.json()).error).toBe("session_revoked");
      // The auth server itself refuses the ended session's access token at once.
      const me = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(me.status).toBe(401);
      expect(t.events.some((e) => e.type === "logout")).toBe(true);
    });

    it("answers 204 and clears the cookie even without a valid refresh cookie (logout is idempotent)", async () => {
      const response = await t.request("/auth/logout", { method: "POST" });
      expect(response.status).toBe(204);
      expect(refreshCookieOf(response)?.attributes).toContain("Max-Age=0");
    });

    it("ignores a forged secret: a session id alone cannot log anyone out", async () => {
      const { cookie } = await signUp(t);
      const [sessionPart] = cookie.split(".");
      await t.request("/auth/logout", { method: "POST", headers: { cookie: `${sessionPart}.${"Z".repeat(43)}` } });
      expect((await refreshWith(t, cookie)).response.status).toBe(200);
    });
  });

for (const database of TEST_DATABASES)
  describe(`GET /auth/me [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
    });
    afterAll(() => t.close());

    it("returns the user for a valid access token", async () => {
      const { accessToken, user, email } = await signUp(t);
      const response = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ user: { id: user.id, email, createdAt: expect.any(String), emailVerified: false } });
    });

    it("answers 401 with a bare Bearer challenge when no token is sent (RFC 6750 §3.1)", async () => {
      const response = await fetch(`${t.url}/auth/me`);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect((await response.json()).error).toBe("invalid_token");
    });

    it.each([
      ["garbage", "Bearer not.a.token"],
      ["a wrong scheme", "Basic dXNlcjpwYXNz"],
      ["a token with a flipped signature bit", "FLIP"],
    ])("answers 401 invalid_token with the error challenge for %s", async (_name, header) => {
      let authorization = header;
      if (header === "FLIP") {
        const { accessToken } = await signUp(t);
        const last = accessToken.at(-2) === "A" ? "B" : "A";
        authorization = `Bearer ${accessToken.slice(0, -2)}${last}${accessToken.at(-1)}`;
      }
      const response = await fetch(`${t.url}/auth/me`, { headers: { authorization } });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect((await response.json()).error).toBe("invalid_token");
    });

    it("refuses an expired access token", async () => {
      const { accessToken } = await signUp(t);
      t.clock.advance(611_000);
      const response = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    });

    it("never accepts a refresh token as an access token", async () => {
      const { cookie } = await signUp(t);
      const refreshToken = cookie.slice(cookie.indexOf("=") + 1);
      const response = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${refreshToken}` } });
      expect(response.status).toBe(401);
    });
  });
