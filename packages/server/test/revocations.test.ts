import { randomBytes } from "node:crypto";
import { createVerifier, isTokenError, type RevocationOptions } from "@hush/verify";
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

/** A list's claims, after jose has checked its signature, issuer, `typ` and `exp`. */
async function verifiedList(t: TestServer, jwt: string) {
  const jwks = await (await fetch(`${t.url}/.well-known/jwks.json`)).json();
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: t.url, typ: "rl+jwt", currentDate: new Date(t.clock.now()) });
  return { ...payload, revoked: payload.revoked as Array<{ sid: string; until: number }>, since: payload.since as number | undefined };
}

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

    it("shares one database read among many concurrent pollers, full and incremental alike", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        const calls: number[] = [];
        const storage = t.server.storage;
        const full = storage.listRecentlyRevoked.bind(storage);
        const incremental = storage.listRevokedSince.bind(storage);
        storage.listRecentlyRevoked = (now: number) => {
          calls.push(now);
          return full(now);
        };
        storage.listRevokedSince = (since: number, now: number) => {
          calls.push(now);
          return incremental(since, now);
        };
        t.clock.advance(5_000);
        const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(`${t.url}/auth/revocations`)));
        expect(responses.every((r) => r.status === 200)).toBe(true);
        expect(calls).toHaveLength(1);
        const { iat } = decodeJwt(await (responses[0] as Response).text());
        const etag = (responses[0] as Response).headers.get("etag") as string;
        t.clock.advance(2_100);
        const polls = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            fetch(`${t.url}/auth/revocations${i % 2 ? `?since=${iat}` : ""}`, { headers: i % 3 ? { "if-none-match": etag } : {} }),
          ),
        );
        expect(new Set(polls.map((r) => r.status))).toEqual(new Set([200, 304]));
        expect(calls).toHaveLength(2);
      } finally {
        await t.close();
      }
    });

    it("serves a signed delta to the holder of a recent list, the full list otherwise, gzipped when accepted", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        await seedRevocations(t, 300);
        const first = await fetch(`${t.url}/auth/revocations`);
        expect(first.headers.get("content-encoding")).toBe("gzip");
        expect(first.headers.get("vary")).toContain("accept-encoding");
        const etag = first.headers.get("etag") as string;
        const { iat } = decodeJwt(await first.text());
        const a = await signUp(t);
        await t.request("/auth/logout", { method: "POST", headers: { cookie: a.cookie } });
        t.clock.advance(2_100);
        const read = async (query: string, headers: Record<string, string> = {}) => {
          const response = await fetch(`${t.url}/auth/revocations${query}`, { headers });
          expect(response.status).toBe(200);
          return verifiedList(t, await response.text());
        };
        // The holder of the version just served gets exactly what is new, signed, naming its base.
        const delta = await read(`?since=${iat}`, { "if-none-match": etag });
        expect(delta.since).toBe(iat);
        expect(delta.revoked.map((r) => r.sid)).toEqual([sidOf(a.accessToken)]);
        expect(delta.iat).toBeGreaterThan(iat as number);
        // Anything else gets the whole list, without `since`.
        for (const query of ["", "?since=", "?since=abc", `?since=${(iat as number) - 3_600}`]) {
          const list = await read(query);
          expect(list.since).toBeUndefined();
          expect(list.revoked).toHaveLength(301);
        }
        const plain = await fetch(`${t.url}/auth/revocations`, { headers: { "accept-encoding": "gzip;q=0, identity" } });
        expect(plain.headers.get("content-encoding")).toBeNull();
        expect((await plain.text()).length).toBeGreaterThan(10_000);
      } finally {
        await t.close();
      }
    });
  });

// ---------------------------------------------------------------------------------------------
// The feed at scale, seen by a real @hush/verify over HTTP: a list past the 8 KiB access-token
// cap, incremental polling, a verifier that goes stale, and an older list replayed.

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (isTokenError(e) ? e.code : String(e)),
  );
const isFeed = (input: unknown) => String(input instanceof Request ? input.url : input).includes("/auth/revocations");

/** Writes `count` revocations straight through the server's storage, alive for ten minutes. */
async function seedRevocations(t: TestServer, count: number): Promise<string[]> {
  const now = t.clock.now();
  const ids = Array.from({ length: count }, () => randomBytes(16).toString("base64url"));
  for (let i = 0; i < ids.length; i += 250) {
    await Promise.all(
      ids
        .slice(i, i + 250)
        .map((sessionId) => t.server.storage.recordRevocation({ sessionId, userId: "seeded", now, until: now + 600_000 })),
    );
  }
  return ids;
}

interface FeedRequest {
  url: string;
  status: number;
  /** Characters of the compact JWT (after HTTP decompression). */
  chars: number;
  /** Bytes on the wire, when the server said. */
  wireBytes: number | undefined;
}

/**
 * A verifier of the test server's tokens over HTTP with the server's clock; it records every
 * feed request, and `outage` or `replay` change what the feed answers.
 */
function verifierFor(t: TestServer, revocations: Partial<RevocationOptions> = {}) {
  const requests: FeedRequest[] = [];
  const warnings: string[] = [];
  const control = { outage: false, replay: undefined as string | undefined };
  const recording: typeof fetch = async (input, init) => {
    if (!isFeed(input)) return fetch(input, init);
    if (control.outage) throw new TypeError("fetch failed (simulated outage)");
    if (control.replay !== undefined) {
      requests.push({ url: String(input), status: 200, chars: control.replay.length, wireBytes: undefined });
      return new Response(control.replay, { status: 200, headers: { "content-type": "application/jwt" } });
    }
    const response = await fetch(input, init);
    const length = response.headers.get("content-length");
    const chars = response.status === 200 ? (await response.clone().text()).length : 0;
    requests.push({ url: String(input), status: response.status, chars, wireBytes: length === null ? undefined : Number(length) });
    return response;
  };
  const verify = createVerifier({
    issuer: t.url,
    audience: "hush",
    jwksUrl: `${t.url}/.well-known/jwks.json`,
    now: t.clock.now,
    fetch: recording,
    cacheSize: 0,
    onWarning: (m) => warnings.push(m),
    revocations: { pollSeconds: 3600, ...revocations },
  });
  return { verify, requests, warnings, control };
}

for (const database of TEST_DATABASES)
  describe(`GET /auth/revocations with @hush/verify [${database}]`, () => {
    it("tells a verifier of a logout made after the list has grown far past 8 KiB (2,000 entries)", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      await seedRevocations(t, 2_000);
      const victim = await signUp(t);
      const { verify, requests, warnings } = verifierFor(t);
      try {
        await verify.ready;
        expect(requests.at(-1)?.chars).toBeGreaterThan(100_000);
        expect(await codeOf(verify(victim.accessToken))).toBe("accepted");
        await t.request("/auth/logout", { method: "POST", headers: { cookie: victim.cookie } });
        t.clock.advance(2_100);
        await verify.pollRevocations();
        expect(await codeOf(verify(victim.accessToken))).toBe("revoked");
        expect(warnings).toEqual([]);
      } finally {
        verify.close();
        await t.close();
      }
    });

    it("polls incrementally: a full list once, then 304 while unchanged and small signed deltas", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      await seedRevocations(t, 2_000);
      const { verify, requests, warnings } = verifierFor(t);
      try {
        await verify.ready;
        const full = requests.at(-1) as FeedRequest;
        expect(full.url).not.toContain("since=");
        // Nothing changed: the verifier holds the current version and gets a 304.
        t.clock.advance(2_100);
        await verify.pollRevocations();
        expect(requests.at(-1)?.status).toBe(304);
        const victim = await signUp(t);
        await t.request("/auth/logout", { method: "POST", headers: { cookie: victim.cookie } });
        t.clock.advance(2_100);
        await verify.pollRevocations();
        const delta = requests.at(-1) as FeedRequest;
        expect(delta.url).toMatch(/\?since=\d+$/);
        expect(delta.status).toBe(200);
        expect(delta.chars).toBeLessThan(full.chars / 20);
        expect(await codeOf(verify(victim.accessToken))).toBe("revoked");
        // The entries of the full list are still in force after the delta was merged.
        expect(verify.revocations?.size).toBe(2_001);
        expect(warnings).toEqual([]);
      } finally {
        verify.close();
        await t.close();
      }
    });

    for (const whenStale of ["reject", "accept"] as const) {
      it(`after maxStaleSeconds without a fresh list, does what whenStale says (${whenStale}), with a warning and a readable status`, async () => {
        const t = await createTestServer({ database, rateLimits: false });
        const user = await signUp(t);
        const { verify, warnings, control } = verifierFor(t, { maxStaleSeconds: 30, whenStale });
        try {
          await verify.ready;
          expect(await codeOf(verify(user.accessToken))).toBe("accepted");
          control.outage = true;
          t.clock.advance(20_000);
          await verify.pollRevocations();
          expect(verify.revocations?.stale).toBe(false);
          expect(await codeOf(verify(user.accessToken))).toBe("accepted");
          t.clock.advance(11_000);
          await verify.pollRevocations();
          expect(verify.revocations?.stale).toBe(true);
          expect(verify.revocations?.staleSeconds).toBeGreaterThanOrEqual(31);
          expect(await codeOf(verify(user.accessToken))).toBe(whenStale === "reject" ? "revoked" : "accepted");
          expect(warnings.filter((w) => w.includes("maxStaleSeconds"))).toHaveLength(1);
          expect(warnings.some((w) => w.includes(whenStale === "reject" ? "rejecting every token" : "still accepting tokens"))).toBe(true);
          control.outage = false;
          t.clock.advance(1_000);
          await verify.pollRevocations();
          expect(verify.revocations?.stale).toBe(false);
          expect(await codeOf(verify(user.accessToken))).toBe("accepted");
          expect(warnings.at(-1)).toContain("fresh again");
        } finally {
          verify.close();
          await t.close();
        }
      });
    }

    it("refuses a list over maxListBytes, and warns when a list passes half of it", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      await seedRevocations(t, 2_000);
      const small = verifierFor(t, { maxListBytes: 20_000 });
      const roomy = verifierFor(t, { maxListBytes: 200_000 });
      try {
        await Promise.all([small.verify.ready, roomy.verify.ready]);
        expect(small.verify.revocations).toMatchObject({ size: 0, failures: 1, fullLists: 0 });
        expect(small.warnings.join("\n")).toContain("over maxListBytes (20000)");
        expect(roomy.verify.revocations).toMatchObject({ size: 2_000, failures: 0, fullLists: 1 });
        expect(roomy.warnings.join("\n")).toContain("over half of maxListBytes (200000)");
      } finally {
        small.verify.close();
        roomy.verify.close();
        await t.close();
      }
    });

    it("refuses a list older than the one it holds, so a replayed list cannot un-revoke a session", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      const victim = await signUp(t);
      // A list captured before the logout: validly signed and not yet expired.
      const before = await (await fetch(`${t.url}/auth/revocations`)).text();
      t.clock.advance(2_100);
      await t.request("/auth/logout", { method: "POST", headers: { cookie: victim.cookie } });
      t.clock.advance(2_100);
      const { verify, warnings, control } = verifierFor(t);
      try {
        await verify.ready;
        expect(await codeOf(verify(victim.accessToken))).toBe("revoked");
        control.replay = before;
        await verify.pollRevocations();
        expect(await codeOf(verify(victim.accessToken))).toBe("revoked");
        expect(warnings.some((w) => w.includes("older than the list held"))).toBe(true);
        expect(verify.revocations?.refusedOlder).toBe(1);
      } finally {
        verify.close();
        await t.close();
      }
    });
  });
