import { afterEach, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, GOOD_PASSWORD, loginWith, refreshWith, signUp, type TestServer, uniqueEmail } from "./test-server.js";

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const login = loginWith;

for (const database of TEST_DATABASES)
  describe(`rate limits [${database}]`, () => {
    it("blocks an account after its failed logins with 429 and Retry-After, even for the right password", async () => {
      t = await createTestServer({ database, rateLimits: { loginFailuresPerAccount: { points: 3, durationSeconds: 900 } } });
      const { email } = await signUp(t);
      for (let i = 0; i < 3; i++) expect((await login(t, email, "wrong-password-x")).status).toBe(401);
      const blocked = await login(t, email, GOOD_PASSWORD);
      expect(blocked.status).toBe(429);
      expect(await blocked.json()).toEqual({ error: "rate_limited", message: expect.any(String) });
      const retryAfter = Number(blocked.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(t.events.some((e) => e.type === "rate_limited" && e.reason === "loginFailuresPerAccount")).toBe(true);
    });

    it("counts failures per account, so another account from the same address still signs in", async () => {
      t = await createTestServer({ database, rateLimits: { loginFailuresPerAccount: { points: 2, durationSeconds: 900 } } });
      const victim = await signUp(t);
      const other = await signUp(t);
      for (let i = 0; i < 3; i++) await login(t, victim.email, "wrong-password-x");
      expect((await login(t, other.email, GOOD_PASSWORD)).status).toBe(200);
    });

    it("limits login attempts per IP", async () => {
      t = await createTestServer({ database, rateLimits: { loginsPerIp: { points: 4, durationSeconds: 900 } } });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await login(t, uniqueEmail(), "whatever-password")).status);
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
    });

    it("limits sign-ups per IP", async () => {
      t = await createTestServer({ database, rateLimits: { signupsPerIp: { points: 2, durationSeconds: 900 } } });
      const signup = () => t?.request("/auth/signup", { method: "POST", json: { email: uniqueEmail(), password: GOOD_PASSWORD } });
      expect((await signup())?.status).toBe(201);
      expect((await signup())?.status).toBe(201);
      const third = await signup();
      expect(third?.status).toBe(429);
      expect(third?.headers.get("retry-after")).toMatch(/^\d+$/);
    });

    it("limits refreshes per session without signing the session out", async () => {
      t = await createTestServer({ database, rateLimits: { refreshesPerSession: { points: 3, durationSeconds: 900 } } });
      const { cookie } = await signUp(t);
      let current = cookie;
      for (let i = 0; i < 3; i++) {
        const next = await refreshWith(t, current);
        expect(next.response.status).toBe(200);
        current = next.cookie?.pair as string;
      }
      const limited = await refreshWith(t, current);
      expect(limited.response.status).toBe(429);
      // A 429 never clears the cookie: the session survives the limit.
      expect(limited.cookie).toBeUndefined();
    });

    it("can be switched off entirely", async () => {
      t = await createTestServer({ database, rateLimits: false });
      const { email } = await signUp(t);
      for (let i = 0; i < 12; i++) await login(t, email, "wrong-password-x");
      expect((await login(t, email, GOOD_PASSWORD)).status).toBe(200);
    });
  });
