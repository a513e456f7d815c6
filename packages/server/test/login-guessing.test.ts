import { afterEach, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, GOOD_PASSWORD, loginWith, signUp, type TestServer, uniqueEmail } from "./test-server.js";

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const login = loginWith;

/** The device cookie a response sets, as `name=value`. */
function deviceCookieOf(response: Response): string {
  const raw = response.headers.getSetCookie().find((c) => /^(__Host-)?hush_device=/.test(c));
  if (!raw) throw new Error("no device cookie");
  return raw.split(";")[0] ?? "";
}

function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

for (const database of TEST_DATABASES)
  describe(`password guessing [${database}]`, () => {
    it("checks at most the limit of concurrent wrong passwords for one account", async () => {
      t = await createTestServer({ database, rateLimits: { loginFailuresPerAccount: { points: 10, durationSeconds: 900 } } });
      const { email } = await signUp(t);
      const server = t;
      const statuses = await Promise.all(Array.from({ length: 60 }, () => login(server, email, "wrong-password-x").then((r) => r.status)));
      const counts = tally(statuses);
      expect(counts[401]).toBeLessThanOrEqual(10);
      expect(counts[429]).toBeGreaterThanOrEqual(50);
      expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(60);
    });

    it("reserves password-change attempts the same way", async () => {
      t = await createTestServer({ database, rateLimits: { loginFailuresPerAccount: { points: 5, durationSeconds: 900 } } });
      const { accessToken } = await signUp(t);
      const server = t;
      const statuses = await Promise.all(
        Array.from({ length: 30 }, () =>
          server
            .request("/auth/password", {
              method: "POST",
              headers: { authorization: `Bearer ${accessToken}` },
              json: { currentPassword: "wrong-password-x", newPassword: "another-fine-password-77" },
            })
            .then((r) => r.status),
        ),
      );
      const counts = tally(statuses);
      expect(counts[401]).toBeLessThanOrEqual(5);
      expect(counts[429]).toBeGreaterThanOrEqual(25);
    });

    it("lets the owner's browser in while an attacker who knows only the email is locked out", async () => {
      t = await createTestServer({
        database,
        rateLimits: {
          loginFailuresPerAccount: { points: 3, durationSeconds: 900 },
          loginFailuresPerDevice: { points: 3, durationSeconds: 900 },
        },
      });
      const { email } = await signUp(t);
      // The owner signed in from this browser before: it holds a device cookie for the account.
      const owner = deviceCookieOf(await login(t, email, GOOD_PASSWORD));
      expect(owner).toMatch(/^__Host-hush_device=[\w-]{22}\.[\w-]{43}$/);
      for (let i = 0; i < 5; i++) await login(t, email, "wrong-password-x");
      // Untrusted clients are locked out, even with the right password…
      expect((await login(t, email, GOOD_PASSWORD)).status).toBe(429);
      // …a device cookie forged, or issued for another account, does not help…
      const other = await signUp(t);
      const othersDevice = deviceCookieOf(await login(t, other.email, GOOD_PASSWORD));
      expect((await login(t, email, GOOD_PASSWORD, { cookie: othersDevice })).status).toBe(429);
      const forged = owner.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
      expect((await login(t, email, GOOD_PASSWORD, { cookie: forged })).status).toBe(429);
      // …but the owner's browser still signs in.
      const back = await login(t, email, GOOD_PASSWORD, { cookie: owner });
      expect(back.status).toBe(200);
      // A trusted device has a limit of its own: guessing from it locks that device alone.
      const device = deviceCookieOf(back);
      for (let i = 0; i < 3; i++) expect((await login(t, email, "wrong-password-x", { cookie: device })).status).toBe(401);
      const locked = await login(t, email, GOOD_PASSWORD, { cookie: device });
      expect(locked.status).toBe(429);
      expect(t.events.some((e) => e.type === "rate_limited" && e.reason === "loginFailuresPerDevice")).toBe(true);
      expect((await login(t, email, GOOD_PASSWORD, { cookie: owner })).status).toBe(200);
    });

    it("sets the device cookie HttpOnly and Secure, and keeps it at logout", async () => {
      t = await createTestServer({ database, rateLimits: false });
      const response = await t.request("/auth/signup", { method: "POST", json: { email: uniqueEmail(), password: GOOD_PASSWORD } });
      const raw = response.headers.getSetCookie();
      expect(raw[0]).toMatch(/^__Host-hush_rt=/);
      expect(raw[1]).toMatch(/^__Host-hush_device=[\w-]+\.[\w-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
      const logout = await t.request("/auth/logout", { method: "POST", headers: { cookie: deviceCookieOf(response) } });
      expect(logout.headers.getSetCookie().some((c) => c.includes("hush_device"))).toBe(false);
    });

    it("counts an IPv6 client's whole /64 as one client for per-IP limits", async () => {
      t = await createTestServer({ database, trustProxy: true, rateLimits: { loginsPerIp: { points: 3, durationSeconds: 900 } } });
      const from = (ip: string) => login(t as TestServer, uniqueEmail(), "whatever-password", { "x-forwarded-for": ip });
      const statuses: number[] = [];
      for (let i = 1; i <= 4; i++) statuses.push((await from(`2001:db8:aa:bb::${i.toString(16)}`)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect((await from("2001:db8:aa:bc::1")).status).toBe(401);
      expect((await from("2001:db8:aa:bb:1234:5678:9abc:def0")).status).toBe(429);
    });

    it("refuses a password of white space only, also after NFKC", async () => {
      t = await createTestServer({ database, rateLimits: false });
      for (const password of [" ".repeat(8), "\u00a0".repeat(8), "\u3000".repeat(10), " \t ".repeat(4)]) {
        const response = await t.request("/auth/signup", { method: "POST", json: { email: uniqueEmail(), password } });
        expect(response.status).toBe(400);
        expect((await response.json()).error).toBe("weak_password");
      }
    });
  });
