import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import type { RefreshMode } from "../src/index.js";
import { createTestServer, signUp, type TestServer } from "./test-server.js";

async function feed(t: TestServer) {
  const response = await fetch(`${t.url}/auth/revocations`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/jwt");
  const jwt = await response.text();
  const jwks = await (await fetch(`${t.url}/.well-known/jwks.json`)).json();
  const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), {
    issuer: t.url,
    typ: "rl+jwt",
    currentDate: new Date(t.clock.now()),
  });
  expect(protectedHeader.typ).toBe("rl+jwt");
  expect(payload.exp).toBe((payload.iat as number) + 60);
  return { revoked: payload.revoked as Array<{ sid: string; until: number }>, etag: response.headers.get("etag") };
}

const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

for (const database of TEST_DATABASES)
  describe(`GET /auth/revocations [${database}]`, () => {
    for (const mode of ["rotating", "stateless"] as RefreshMode[]) {
      it(`lists a logged-out session until its last access token expires (${mode})`, async () => {
        const t = await createTestServer({ database, rateLimits: false, refreshMode: mode });
        try {
          const a = await signUp(t);
          const kept = await signUp(t);
          expect((await feed(t)).revoked).toEqual([]);
          await t.request("/auth/logout", { method: "POST", headers: { cookie: a.cookie } });
          t.clock.advance(2_100);
          const { revoked } = await feed(t);
          expect(revoked.map((r) => r.sid)).toEqual([sidOf(a.accessToken)]);
          expect(revoked.map((r) => r.sid)).not.toContain(sidOf(kept.accessToken));
          const exp = decodeJwt(a.accessToken).exp as number;
          expect(revoked[0]?.until).toBeGreaterThanOrEqual(exp);
          expect(revoked[0]?.until).toBeLessThanOrEqual(exp + 2 + 10);
          // One access-token lifetime later, the entry has left the list.
          t.clock.advance(612_000);
          expect((await feed(t)).revoked).toEqual([]);
        } finally {
          await t.close();
        }
      });
    }

    it("lists every session ended by logout-all, suspension or a session delete (rotating)", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        const a = await signUp(t);
        const b = await signUp(t);
        const c = await signUp(t);
        const d = await signUp(t);
        await fetch(`${t.url}/auth/logout-all`, { method: "POST", headers: { authorization: `Bearer ${a.accessToken}` } });
        await t.server.admin.suspendUser(b.email);
        await fetch(`${t.url}/auth/sessions/${sidOf(c.accessToken)}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${c.accessToken}` },
        });
        await t.server.admin.revokeSession(sidOf(d.accessToken));
        t.clock.advance(2_100);
        const sids = (await feed(t)).revoked.map((r) => r.sid).sort();
        expect(sids).toEqual([a, b, c, d].map((x) => sidOf(x.accessToken)).sort());
      } finally {
        await t.close();
      }
    });

    it("serves the same body with an ETag and answers If-None-Match with 304 while unchanged", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        const first = await fetch(`${t.url}/auth/revocations`);
        const etag = first.headers.get("etag") as string;
        expect(etag).toMatch(/^"[\w-]+"$/);
        const body = await first.text();
        t.clock.advance(3_000);
        const again = await fetch(`${t.url}/auth/revocations`);
        expect(await again.text()).toBe(body);
        const conditional = await fetch(`${t.url}/auth/revocations`, { headers: { "if-none-match": etag } });
        expect(conditional.status).toBe(304);
        const a = await signUp(t);
        await t.request("/auth/logout", { method: "POST", headers: { cookie: a.cookie } });
        t.clock.advance(2_100);
        const changed = await fetch(`${t.url}/auth/revocations`, { headers: { "if-none-match": etag } });
        expect(changed.status).toBe(200);
        expect(changed.headers.get("etag")).not.toBe(etag);
      } finally {
        await t.close();
      }
    });

    it("shares one database read among many concurrent pollers", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        const calls: number[] = [];
        const original = t.server.storage.listRecentlyRevoked.bind(t.server.storage);
        t.server.storage.listRecentlyRevoked = (now: number) => {
          calls.push(now);
          return original(now);
        };
        t.clock.advance(5_000);
        const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(`${t.url}/auth/revocations`)));
        expect(responses.every((r) => r.status === 200)).toBe(true);
        expect(calls).toHaveLength(1);
      } finally {
        await t.close();
      }
    });
  });
