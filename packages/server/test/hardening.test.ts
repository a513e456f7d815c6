import { statSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { listen, type RefreshMode } from "../src/index.js";
import type { KyselyStorage } from "../src/storage/kysely-storage.js";
import { createTestServer, GOOD_PASSWORD, refreshCookieOf, refreshWith, signUp, type TestServer } from "./test-server.js";

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;
const sidOf = (cookie: string) => cookie.slice(cookie.indexOf("=") + 1).split(".")[0] as string;

/** A cookie with the same session id and a secret of the right shape that the server never issued. */
function forgedCookie(cookie: string): string {
  const name = cookie.slice(0, cookie.indexOf("="));
  return `${name}=${sidOf(cookie)}.${Buffer.alloc(32, 7).toString("base64url")}`;
}

for (const database of TEST_DATABASES)
  describe(`refresh hardening [${database}]`, () => {
    it("gives the session's current token for ANY secret retired within the grace, not only the last", async () => {
      t = await createTestServer({ database, rateLimits: false, reuseGraceSeconds: 10 });
      const { cookie: t0 } = await signUp(t);
      const r1 = await refreshWith(t, t0);
      const r2 = await refreshWith(t, r1.cookie?.pair as string);
      const t2 = r2.cookie?.pair as string;
      t.clock.advance(1_000);
      // A slow request that still carries T0, two rotations ago, well within its grace.
      const slow = await refreshWith(t, t0);
      expect(slow.response.status).toBe(200);
      expect(slow.cookie?.pair).toBe(t2);
      expect((await refreshWith(t, t2)).response.status).toBe(200);
      expect(t.events.some((e) => e.type === "refresh_token_reused")).toBe(false);
    });

    it("covers each retired secret for its own grace: an older one past it is theft while a newer one is honoured", async () => {
      t = await createTestServer({ database, rateLimits: false, reuseGraceSeconds: 10 });
      const { cookie: t0 } = await signUp(t);
      const t1 = (await refreshWith(t, t0)).cookie?.pair as string; // T0 retired at 0 s
      t.clock.advance(9_000);
      const t2 = (await refreshWith(t, t1)).cookie?.pair as string; // T1 retired at 9 s
      t.clock.advance(2_000);
      // At 11 s T1 is still covered: its presenter gets the current token.
      const late = await refreshWith(t, t1);
      expect(late.response.status).toBe(200);
      expect(late.cookie?.pair).toBe(t2);
      // T0's grace ended at 10 s: two steps behind, with one retirement still covered, it is a replay.
      const replay = await refreshWith(t, t0);
      expect(await errorOf(replay.response)).toBe("refresh_token_reused");
    });

    it("lets the holder of a secret still in its grace log out, and nobody with a forged one", async () => {
      t = await createTestServer({ database, rateLimits: false, reuseGraceSeconds: 10 });
      const { cookie: t0 } = await signUp(t);
      const t1 = (await refreshWith(t, t0)).cookie?.pair as string;
      const t2 = (await refreshWith(t, t1)).cookie?.pair as string;
      await t.request("/auth/logout", { method: "POST", headers: { cookie: forgedCookie(t2) } });
      expect((await refreshWith(t, t2)).response.status).toBe(200);
      const current = (await refreshWith(t, t2)).cookie?.pair as string;
      // T1 is two rotations behind now, both within the grace: logging out with it ends the session.
      await t.request("/auth/logout", { method: "POST", headers: { cookie: t1 } });
      expect(await errorOf((await refreshWith(t, current)).response)).toBe("session_revoked");
    });

    it("still treats a retired secret presented after its grace as theft, however far back", async () => {
      t = await createTestServer({ database, rateLimits: false, reuseGraceSeconds: 10 });
      const { cookie: t0 } = await signUp(t);
      let current = t0;
      for (let i = 0; i < 5; i++) current = (await refreshWith(t, current)).cookie?.pair as string;
      t.clock.advance(11_000);
      const replay = await refreshWith(t, t0);
      expect(replay.response.status).toBe(401);
      expect(await errorOf(replay.response)).toBe("refresh_token_reused");
      expect(await errorOf((await refreshWith(t, current)).response)).toBe("session_revoked");
    });

    it("refuses a forged secret for a live, long-lived session cheaply: no walk, no revocation, an event", async () => {
      t = await createTestServer({ database, rateLimits: false });
      const { cookie } = await signUp(t);
      // A session tens of thousands of rotations old: a forged secret used to cost a walk of
      // up to 10,000 HMACs on the main thread. Its tag now fails after one.
      const { db } = t.server.storage as unknown as KyselyStorage;
      await db.updateTable("sessions").set({ generation: 50_000 }).where("id", "=", sidOf(cookie)).execute();
      const forged = await refreshWith(t, forgedCookie(cookie));
      expect(forged.response.status).toBe(401);
      expect(await errorOf(forged.response)).toBe("invalid_refresh_token");
      expect(t.events.find((e) => e.type === "refresh_failed")).toMatchObject({ reason: "invalid_refresh_token", ip: "127.0.0.1" });
      // The owner's session is untouched.
      expect((await refreshWith(t, cookie)).response.status).toBe(200);
    });

    it("rate-limits failed refreshes per client, never good ones", async () => {
      t = await createTestServer({ database, rateLimits: { failedRefreshesPerIp: { points: 3, durationSeconds: 900 } } });
      const { cookie } = await signUp(t);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await refreshWith(t, forgedCookie(cookie))).response.status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect(t.events.some((e) => e.type === "rate_limited" && e.reason === "failedRefreshesPerIp")).toBe(true);
      expect((await refreshWith(t, cookie)).response.status).toBe(200);
    });

    it("keeps the session that changes the password alive when its own refresh races the change", async () => {
      t = await createTestServer({ database, rateLimits: false });
      const server = t;
      for (let round = 0; round < 15; round++) {
        const { cookie, accessToken } = await signUp(server);
        const change = server.request("/auth/password", {
          method: "POST",
          headers: bearer(accessToken),
          json: { currentPassword: GOOD_PASSWORD, newPassword: `a-new-password-${round}-kept` },
        });
        // Refreshes of this very session keep landing while the change runs.
        let done = false;
        const racer = async () => {
          while (!done) await refreshWith(server, cookie);
        };
        const racing = [racer(), racer()];
        const changed = await change.finally(() => {
          done = true;
        });
        await Promise.all(racing);
        expect(changed.status).toBe(200);
        const found = await server.server.storage.findSessionWithUser(sidOf(cookie));
        expect(found?.session.revokedAt).toBeNull();
        expect((await refreshWith(server, refreshCookieOf(changed)?.pair as string)).response.status).toBe(200);
      }
    });

    it("delivers the rotated cookie of an assisted refresh even when the handler throws", async () => {
      t = await createTestServer({ database, rateLimits: false, reuseGraceSeconds: 10 });
      const failing = t.server.protect(
        () => {
          throw new Error("the application failed");
        },
        { assistRefresh: true },
      );
      const app = await listen({ fetch: (request, connection) => failing(request, connection) }, 0, "127.0.0.1");
      try {
        const { cookie } = await signUp(t);
        const response = await fetch(`${app.url}/api/notes`, { headers: { cookie, "x-hush-csrf": "1", origin: t.origin } });
        expect(response.status).toBe(500);
        expect(response.headers.get("x-access-token")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
        const rotated = refreshCookieOf(response)?.pair as string;
        expect(rotated).toBeDefined();
        expect(rotated).not.toBe(cookie);
        // Long after the grace, the browser's next refresh with the delivered cookie is no theft.
        t.clock.advance(60_000);
        expect((await refreshWith(t, rotated)).response.status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it("prunes ended sessions and expired revocations in the background, never a live session", async () => {
      t = await createTestServer({ database, rateLimits: false, pruneIntervalSeconds: 1, refreshIdleTtlSeconds: 7 * 86_400 });
      const live = await signUp(t);
      const idle = await signUp(t);
      const loggedOut = await signUp(t);
      await t.request("/auth/logout", { method: "POST", headers: { cookie: loggedOut.cookie } });
      expect(await t.server.storage.isRevoked(sidOf(loggedOut.cookie))).toBe(true);
      t.clock.advance(6 * 86_400_000);
      const kept = (await refreshWith(t, live.cookie)).cookie?.pair as string;
      t.clock.advance(2 * 86_400_000);
      const storage = t.server.storage;
      await expect.poll(() => storage.findSessionWithUser(sidOf(idle.cookie)), { timeout: 5_000, interval: 200 }).toBeUndefined();
      await expect.poll(() => storage.isRevoked(sidOf(loggedOut.cookie)), { timeout: 5_000, interval: 200 }).toBe(false);
      expect(await storage.findSessionWithUser(sidOf(live.cookie))).toBeDefined();
      expect((await refreshWith(t, kept)).response.status).toBe(200);
      expect(t.logs.some((line) => line.includes("janitor: pruned"))).toBe(true);
    });
  });

describe("request bodies that never finish", () => {
  it("treat a client that disconnects mid-body as its own error, never an unhandled one", async () => {
    t = await createTestServer({ rateLimits: false });
    const { port } = new URL(t.url);
    for (const framing of ['content-length: 40\r\n\r\n{"email":', "transfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n"]) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.write(`POST /auth/signup HTTP/1.1\r\nhost: 127.0.0.1\r\nx-hush-csrf: 1\r\ncontent-type: application/json\r\n${framing}`);
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on("close", () => resolve());
        socket.on("error", () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(t.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });
});

const MODES: RefreshMode[] = ["rotating", "stateless"];
for (const database of TEST_DATABASES)
  for (const mode of MODES)
    describe(`tokens from before a session ended (${mode} mode) [${database}]`, () => {
      it("refuses a logged-out refresh cookie and the session's earlier access tokens", async () => {
        t = await createTestServer({ database, rateLimits: false, refreshMode: mode });
        const { cookie, accessToken } = await signUp(t);
        expect((await t.request("/auth/logout", { method: "POST", headers: { cookie } })).status).toBe(204);
        const again = await refreshWith(t, cookie);
        expect(again.response.status).toBe(401);
        expect(await errorOf(again.response)).toBe("session_revoked");
        expect((await fetch(`${t.url}/auth/me`, { headers: bearer(accessToken) })).status).toBe(401);
      });

      it("refuses access tokens issued before logout-all or a password change on the server's own endpoints", async () => {
        t = await createTestServer({ database, rateLimits: false, refreshMode: mode });
        const a = await signUp(t);
        const other = await t.request("/auth/login", { method: "POST", json: { email: a.email, password: GOOD_PASSWORD } });
        const otherToken = ((await other.json()) as { accessToken: string }).accessToken;
        const changed = await t.request("/auth/password", {
          method: "POST",
          headers: bearer(a.accessToken),
          json: { currentPassword: GOOD_PASSWORD, newPassword: "a-brand-new-password-1" },
        });
        expect(changed.status).toBe(200);
        const fresh = ((await changed.json()) as { accessToken: string }).accessToken;
        for (const old of [a.accessToken, otherToken]) expect((await fetch(`${t.url}/auth/me`, { headers: bearer(old) })).status).toBe(401);
        expect((await fetch(`${t.url}/auth/me`, { headers: bearer(fresh) })).status).toBe(200);
        expect((await t.request("/auth/logout-all", { method: "POST", headers: bearer(fresh) })).status).toBe(204);
        expect((await fetch(`${t.url}/auth/me`, { headers: bearer(fresh) })).status).toBe(401);
      });
    });

describe("data files", () => {
  it("creates the SQLite folder 0700 and the database files 0600", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const root = mkdtempSync(join(tmpdir(), "hush-perm-"));
    try {
      const file = join(root, "data", "hush.db");
      t = await createTestServer({ databaseFile: file, rateLimits: false });
      await signUp(t);
      expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
      for (const suffix of ["", "-wal", "-shm"]) expect(statSync(`${file}${suffix}`).mode & 0o777).toBe(0o600);
    } finally {
      await t?.close();
      t = undefined;
      rmSync(root, { recursive: true, force: true });
    }
  });
});
