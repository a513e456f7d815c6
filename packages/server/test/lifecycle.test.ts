import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import type { RefreshMode } from "../src/index.js";
import { createTestServer, GOOD_PASSWORD, refreshCookieOf, refreshWith, signUp, type TestServer } from "./test-server.js";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function login(t: TestServer, email: string, password = GOOD_PASSWORD) {
  const response = await t.request("/auth/login", { method: "POST", json: { email, password } });
  const body = await response.json();
  return { response, body, cookie: refreshCookieOf(response)?.pair };
}

const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

// One suite, both modes: every lifecycle row of docs/api.md, HTTP API must hold whichever mode is chosen.
const MODES: RefreshMode[] = ["rotating", "stateless"];

for (const database of TEST_DATABASES)
  for (const mode of MODES) {
    describe(`account lifecycle (${mode} mode) [${database}]`, () => {
      let t: TestServer;
      beforeAll(async () => {
        t = await createTestServer({ database, rateLimits: false, refreshMode: mode });
      });
      afterAll(() => t.close());

      it("logout ends this device's session and clears the cookie", async () => {
        const { cookie } = await signUp(t);
        const out = await t.request("/auth/logout", { method: "POST", headers: { cookie } });
        expect(out.status).toBe(204);
        expect(refreshCookieOf(out)?.attributes).toContain("Max-Age=0");
        if (mode === "rotating") {
          expect(await errorOf((await refreshWith(t, cookie)).response)).toBe("session_revoked");
        }
      });

      it("logout-all ends every session of the user on every device, and nobody else's", async () => {
        const a = await signUp(t);
        const second = await login(t, a.email);
        const other = await signUp(t);
        const out = await fetch(`${t.url}/auth/logout-all`, { method: "POST", headers: bearer(a.accessToken) });
        expect(out.status).toBe(204);
        expect(refreshCookieOf(out)?.attributes).toContain("Max-Age=0");
        for (const cookie of [a.cookie, second.cookie as string]) {
          const { response } = await refreshWith(t, cookie);
          expect(response.status).toBe(401);
          expect(["session_revoked", "invalid_refresh_token"]).toContain(await errorOf(response));
        }
        expect((await refreshWith(t, other.cookie)).response.status).toBe(200);
        expect((await login(t, a.email)).response.status).toBe(200);
        expect(t.events.some((e) => e.type === "logout_all" && e.userId === a.user.id)).toBe(true);
      });

      it("password change needs the current password, keeps this session and ends every other", async () => {
        const a = await signUp(t);
        const other = await login(t, a.email);
        const wrong = await fetch(`${t.url}/auth/password`, {
          method: "POST",
          headers: { ...bearer(a.accessToken), "content-type": "application/json" },
          body: JSON.stringify({ currentPassword: "not-my-password-1", newPassword: "a-brand-new-passphrase-7" }),
        });
        expect(wrong.status).toBe(401);
        expect(await errorOf(wrong)).toBe("invalid_credentials");
        const weak = await fetch(`${t.url}/auth/password`, {
          method: "POST",
          headers: { ...bearer(a.accessToken), "content-type": "application/json" },
          body: JSON.stringify({ currentPassword: GOOD_PASSWORD, newPassword: "password1" }),
        });
        expect(await errorOf(weak)).toBe("weak_password");

        const changed = await fetch(`${t.url}/auth/password`, {
          method: "POST",
          headers: { ...bearer(a.accessToken), "content-type": "application/json" },
          body: JSON.stringify({ currentPassword: GOOD_PASSWORD, newPassword: "a-brand-new-passphrase-7" }),
        });
        expect(changed.status).toBe(200);
        expect(changed.headers.get("cache-control")).toBe("no-store");
        const body = await changed.json();
        expect(decodeJwt(body.accessToken).sid).toBe(decodeJwt(a.accessToken).sid);
        const reissued = refreshCookieOf(changed)?.pair as string;
        // This device goes on with the re-issued cookie; the old one and the other device are out.
        expect((await refreshWith(t, reissued)).response.status).toBe(200);
        const otherRefresh = await refreshWith(t, other.cookie as string);
        expect(otherRefresh.response.status).toBe(401);
        expect((await login(t, a.email)).response.status).toBe(401);
        expect((await login(t, a.email, "a-brand-new-passphrase-7")).response.status).toBe(200);
      });

      it("suspension refuses refresh at once with session_revoked; login answers account_suspended only after the right password", async () => {
        const a = await signUp(t);
        await t.server.admin.suspendUser(a.email);
        const refused = await refreshWith(t, a.cookie);
        expect(refused.response.status).toBe(401);
        expect(await errorOf(refused.response)).toBe("session_revoked");
        expect((await login(t, a.email, "wrong-password-99")).body.error).toBe("invalid_credentials");
        const suspended = await login(t, a.email);
        expect(suspended.response.status).toBe(403);
        expect(suspended.body.error).toBe("account_suspended");
        // The auth server itself refuses the suspended user's live access token.
        expect((await fetch(`${t.url}/auth/me`, { headers: bearer(a.accessToken) })).status).toBe(401);
      });

      it("unsuspension does not revive old refresh tokens; a new login works", async () => {
        const a = await signUp(t);
        await t.server.admin.suspendUser(a.email);
        await t.server.admin.unsuspendUser(a.email);
        const old = await refreshWith(t, a.cookie);
        expect(old.response.status).toBe(401);
        const fresh = await login(t, a.email);
        expect(fresh.response.status).toBe(200);
        expect((await refreshWith(t, fresh.cookie as string)).response.status).toBe(200);
        expect(t.events.map((e) => e.type)).toEqual(expect.arrayContaining(["user_suspended", "user_unsuspended"]));
      });

      it("never accepts a refresh token as a bearer access token", async () => {
        const { cookie } = await signUp(t);
        const refreshToken = cookie.slice(cookie.indexOf("=") + 1);
        const response = await fetch(`${t.url}/auth/me`, { headers: bearer(refreshToken) });
        expect(response.status).toBe(401);
        expect(await errorOf(response)).toBe("invalid_token");
        if (mode === "stateless") expect(decodeProtectedHeader(refreshToken).typ).toBe("rt+jwt");
      });

      it("never accepts an access token as a refresh token", async () => {
        const { accessToken } = await signUp(t);
        const name = mode === "rotating" ? "__Host-hush_rt" : "__Host-hush_rt";
        const { response } = await refreshWith(t, `${name}=${accessToken}`);
        expect(response.status).toBe(401);
        expect(await errorOf(response)).toBe("invalid_refresh_token");
      });

      it("lists the user's sessions with the current one marked", async () => {
        const a = await signUp(t);
        await login(t, a.email);
        const response = await fetch(`${t.url}/auth/sessions`, { headers: { ...bearer(a.accessToken), "user-agent": "lifecycle-test" } });
        expect(response.status).toBe(200);
        const { sessions } = await response.json();
        const current = sessions.filter((s: { current: boolean }) => s.current);
        expect(current).toHaveLength(1);
        expect(current[0]).toEqual({
          id: decodeJwt(a.accessToken).sid,
          createdAt: expect.stringMatching(/Z$/),
          lastUsedAt: expect.stringMatching(/Z$/),
          expiresAt: expect.stringMatching(/Z$/),
          userAgent: expect.any(String),
          current: true,
        });
        expect(sessions).toHaveLength(mode === "rotating" ? 2 : 1);
      });

      it("deletes only the user's own sessions: another user's id answers 404", async () => {
        const a = await signUp(t);
        const b = await signUp(t);
        const bSid = decodeJwt(b.accessToken).sid as string;
        const foreign = await fetch(`${t.url}/auth/sessions/${bSid}`, { method: "DELETE", headers: bearer(a.accessToken) });
        expect(foreign.status).toBe(404);
        expect(await errorOf(foreign)).toBe("not_found");
        expect((await refreshWith(t, b.cookie)).response.status).toBe(200);
        if (mode === "rotating") {
          const second = await login(t, a.email);
          const secondSid = decodeJwt(second.body.accessToken).sid as string;
          const own = await fetch(`${t.url}/auth/sessions/${secondSid}`, { method: "DELETE", headers: bearer(a.accessToken) });
          expect(own.status).toBe(204);
          expect(await errorOf((await refreshWith(t, second.cookie as string)).response)).toBe("session_revoked");
          expect((await refreshWith(t, a.cookie)).response.status).toBe(200);
          // Revoked sessions are not listed (docs/api.md, HTTP API).
          const listed = await (await fetch(`${t.url}/auth/sessions`, { headers: bearer(a.accessToken) })).json();
          expect(listed.sessions.map((s: { id: string }) => s.id)).toEqual([decodeJwt(a.accessToken).sid]);
        } else {
          // Stateless sessions cannot be ended one at a time; the answer says so.
          const own = await fetch(`${t.url}/auth/sessions/${decodeJwt(a.accessToken).sid}`, {
            method: "DELETE",
            headers: bearer(a.accessToken),
          });
          expect(own.status).toBe(400);
        }
      });

      it("re-hashing a password with new argon2 parameters logs no one out", async () => {
        const a = await signUp(t);
        const user = await t.server.storage.findUserByEmail(a.email);
        // Simulate a hash made with older, weaker parameters (t=1): login upgrades it in place.
        const { hash } = await import("@node-rs/argon2");
        const weaker = await hash(GOOD_PASSWORD, { algorithm: 2, memoryCost: 8192, timeCost: 1, parallelism: 1 });
        await t.server.storage.setPasswordHash(user?.id as string, weaker, false, t.clock.now());
        expect((await login(t, a.email)).response.status).toBe(200);
        const upgraded = await t.server.storage.findUserByEmail(a.email);
        expect(upgraded?.passwordHash).toContain("m=19456,t=2,p=1");
        expect(upgraded?.securityStamp).toBe(user?.securityStamp);
        expect((await refreshWith(t, a.cookie)).response.status).toBe(200);
      });
    });
  }

for (const database of TEST_DATABASES)
  describe(`stateless mode [${database}]`, () => {
    it("writes no session rows", async () => {
      const t = await createTestServer({ database, rateLimits: false, refreshMode: "stateless" });
      try {
        const { cookie, user } = await signUp(t);
        expect((await refreshWith(t, cookie)).response.status).toBe(200);
        expect(await t.server.storage.listUserSessions(user.id, t.clock.now())).toEqual([]);
      } finally {
        await t.close();
      }
    });

    it("keeps the absolute session lifetime across sliding refreshes", async () => {
      const t = await createTestServer({
        database,
        rateLimits: false,
        refreshMode: "stateless",
        refreshTokenTtlSeconds: 3 * 86_400,
        refreshIdleTtlSeconds: 2 * 86_400,
      });
      try {
        let { cookie } = await signUp(t);
        for (let day = 0; day < 2; day++) {
          t.clock.advance(86_400_000);
          const next = await refreshWith(t, cookie);
          expect(next.response.status).toBe(200);
          cookie = next.cookie?.pair as string;
        }
        t.clock.advance(86_400_000 + 1000);
        expect((await refreshWith(t, cookie)).response.status).toBe(401);
      } finally {
        await t.close();
      }
    });
  });
