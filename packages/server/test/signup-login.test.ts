import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, GOOD_PASSWORD, refreshCookieOf, signUp, type TestServer, uniqueEmail } from "./test-server.js";

for (const database of TEST_DATABASES)
  describe(`POST /auth/signup [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
    });
    afterAll(() => t.close());

    it("answers 201 with a token response, no-store, and the refresh cookie", async () => {
      const response = await t.request("/auth/signup", {
        method: "POST",
        json: { email: "  New.User@Example.COM ", password: GOOD_PASSWORD },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = await response.json();
      expect(body).toEqual({
        accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        tokenType: "Bearer",
        expiresIn: 600,
        user: {
          id: expect.any(String),
          email: "new.user@example.com",
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
          emailVerified: false,
        },
      });
      const cookie = refreshCookieOf(response);
      expect(cookie?.pair).toMatch(/^__Host-hush_rt=[\w-]{22}\.[\w-]{43}$/);
      expect(cookie?.attributes).toBe("Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Strict");
      expect(cookie?.raw).not.toMatch(/domain=/i);
    });

    it("refuses an email that is taken, whatever its case and spaces, with 409 email_taken", async () => {
      const { email } = await signUp(t);
      const again = await t.request("/auth/signup", {
        method: "POST",
        json: { email: ` ${email.toUpperCase()} `, password: GOOD_PASSWORD },
      });
      expect(again.status).toBe(409);
      expect(await again.json()).toEqual({ error: "email_taken", message: expect.any(String) });
    });

    it("gives exactly one account when the same email signs up twice at once", async () => {
      const email = uniqueEmail();
      const statuses = await Promise.all(
        [0, 1, 2, 3].map(() =>
          t.request("/auth/signup", { method: "POST", json: { email, password: GOOD_PASSWORD } }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(3);
    });

    it.each([
      ["a missing password", { email: "x@example.com" }],
      ["a missing email", { password: GOOD_PASSWORD }],
      ["an email that is not one", { email: "not-an-email", password: GOOD_PASSWORD }],
      ["a number as password", { email: "x@example.com", password: 12345678901 }],
      ["an array body", [1, 2]],
      ["a null body", null],
    ])("refuses %s with 400 invalid_request", async (_name, json) => {
      const response = await t.request("/auth/signup", { method: "POST", json });
      expect(response.status).toBe(400);
      expect((await response.json()).error).toBe("invalid_request");
    });

    it.each([
      ["7 characters", "Ab3$xyz"],
      ["257 characters", "k".repeat(257)],
      ["a common password", "password123"],
      ["a common password in other case", "PaSsWoRd123"],
      ["a common password (qwertyuiop)", "qwertyuiop"],
    ])("refuses %s with 400 weak_password", async (_name, password) => {
      const response = await t.request("/auth/signup", { method: "POST", json: { email: uniqueEmail(), password } });
      expect(response.status).toBe(400);
      expect((await response.json()).error).toBe("weak_password");
    });

    it("accepts 8 characters, 256 characters and any Unicode", async () => {
      for (const password of ["Zq8#mW2!", "é".repeat(256), "пароль-🔑-密码-كلمة"]) {
        const response = await t.request("/auth/signup", { method: "POST", json: { email: uniqueEmail(), password } });
        expect(response.status).toBe(201);
      }
    });
  });

for (const database of TEST_DATABASES)
  describe(`POST /auth/login [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
    });
    afterAll(() => t.close());

    it("answers 200 with a token response and starts a new session on every sign-in", async () => {
      const { email, cookie: signupCookie } = await signUp(t);
      const response = await t.request("/auth/login", { method: "POST", json: { email: email.toUpperCase(), password: GOOD_PASSWORD } });
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = await response.json();
      expect(body.user.email).toBe(email);
      const cookie = refreshCookieOf(response);
      expect(cookie?.pair.split(".")[0]).not.toBe(signupCookie.split(".")[0]);
    });

    it("answers the same 401 body for an unknown email and a wrong password", async () => {
      const { email } = await signUp(t);
      const wrong = await t.request("/auth/login", { method: "POST", json: { email, password: "not-the-password-1" } });
      const unknown = await t.request("/auth/login", { method: "POST", json: { email: uniqueEmail(), password: "not-the-password-1" } });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(await wrong.json()).toEqual(await unknown.json());
      expect(refreshCookieOf(wrong)).toBeUndefined();
    });

    it("spends the same password-hashing work on an unknown email as on a wrong password", async () => {
      // An attacker timing the two: with a dummy argon2id verify for unknown emails the medians
      // stay close (each is one full argon2id verify of about 10 ms).
      const { email } = await signUp(t);
      const time = async (who: string) => {
        const samples: number[] = [];
        for (let i = 0; i < 7; i++) {
          const start = performance.now();
          await (await t.request("/auth/login", { method: "POST", json: { email: who, password: "not-the-password-1" } })).text();
          samples.push(performance.now() - start);
        }
        return samples.sort((a, b) => a - b)[3] ?? 0;
      };
      const known = await time(email);
      const unknown = await time(uniqueEmail());
      expect(unknown / known).toBeGreaterThan(0.5);
      expect(unknown / known).toBeLessThan(2);
    });

    it("refuses a 257-character password without hashing trouble, as invalid_credentials", async () => {
      const { email } = await signUp(t);
      const response = await t.request("/auth/login", { method: "POST", json: { email, password: "x".repeat(257) } });
      expect(response.status).toBe(401);
      expect((await response.json()).error).toBe("invalid_credentials");
    });
  });
