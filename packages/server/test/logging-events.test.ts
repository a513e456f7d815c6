import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, GOOD_PASSWORD, refreshCookieOf, refreshWith, signUp, type TestServer } from "./test-server.js";

for (const database of TEST_DATABASES)
  describe(`security events and logs [${database}]`, () => {
    let t: TestServer;
    const secrets: string[] = [];
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: { loginFailuresPerAccount: { points: 2, durationSeconds: 60 } } });
      // A full life: sign-up, failed and good logins, refreshes, a replay, a logout, a rate limit.
      const { email, cookie, accessToken } = await signUp(t);
      secrets.push(GOOD_PASSWORD, accessToken, cookie.split("=")[1] as string);
      const wrong = "Wrong-Password-Typed-99";
      secrets.push(wrong);
      await t.request("/auth/login", { method: "POST", json: { email, password: wrong } });
      const login = await t.request("/auth/login", { method: "POST", json: { email, password: GOOD_PASSWORD } });
      const loginCookie = refreshCookieOf(login)?.pair as string;
      secrets.push((await login.json()).accessToken, loginCookie.split("=")[1] as string);
      const first = await refreshWith(t, cookie);
      secrets.push(first.cookie?.value as string, (await first.response.json()).accessToken);
      t.clock.advance(30_000);
      await refreshWith(t, cookie);
      await t.request("/auth/logout", { method: "POST", headers: { cookie: loginCookie } });
      for (let i = 0; i < 3; i++) await t.request("/auth/login", { method: "POST", json: { email, password: wrong } });
    });
    afterAll(() => t.close());

    it("hands every kind of event to onEvent with ids and request metadata", () => {
      const types = t.events.map((e) => e.type);
      for (const type of ["signup", "login_failed", "login_succeeded", "refresh", "refresh_token_reused", "logout", "rate_limited"]) {
        expect(types).toContain(type);
      }
      const reuse = t.events.find((e) => e.type === "refresh_token_reused");
      expect(reuse).toMatchObject({ userId: expect.any(String), sessionId: expect.any(String), ip: "127.0.0.1", msSinceRotation: 30_000 });
      expect(reuse?.userAgent).toBeTruthy();
      for (const event of t.events) expect(event.at).toMatch(/Z$/);
    });

    it("writes each event as one structured JSON log line", () => {
      const lines = t.logs.flatMap((chunk) => chunk.split("\n").filter(Boolean)).map((line) => JSON.parse(line));
      const eventLines = lines.filter((l) => l.event);
      expect(eventLines.length).toBe(t.events.length);
      expect(eventLines.find((l) => l.event.type === "refresh_token_reused")?.level).toBe(40);
    });

    it("never writes a password, token, cookie value or the secret to a log line", () => {
      const all = t.logs.join("");
      expect(all.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(7);
        expect(all).not.toContain(secret);
      }
      expect(all).not.toContain("a3f1c2e4b5d6a798");
      // Nor the secret half of any refresh token.
      for (const secret of secrets.filter((s) => s.includes("."))) expect(all).not.toContain(secret.split(".").at(-1));
    });
  });
