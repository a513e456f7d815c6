import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EmailTakenError, type SessionRecord, type Storage, type UserRecord } from "./contract.js";

/**
 * The storage contract's conformance suite. Every database runs it, from one body:
 * `for (const db of DATABASES) runStorageConformance(db.name, db.open)`.
 */
export function runStorageConformance(name: string, open: () => Promise<Storage>, close: (storage: Storage) => Promise<void>): void {
  const user = (email = `${randomUUID()}@example.com`): UserRecord => ({
    id: randomUUID(),
    email,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$x$y",
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    securityStamp: 0,
    suspendedAt: null,
  });
  const session = (userId: string, id = randomUUID().slice(0, 22)): SessionRecord => ({
    id,
    userId,
    currentHash: "hash-0",
    previousHash: null,
    rotatedAt: null,
    generation: 0,
    createdAt: 1_700_000_000_000,
    lastUsedAt: 1_700_000_000_000,
    expiresAt: 1_800_000_000_000,
    securityStamp: 0,
    accessExpiresAt: 1_700_000_600_000,
    userAgent: "test",
    ip: "127.0.0.1",
    revokedAt: null,
    revokedReason: null,
    recentlyRetired: [],
  });

  describe(`storage contract on ${name}`, () => {
    const withStorage = (body: (storage: Storage) => Promise<void>) => async () => {
      const storage = await open();
      try {
        await storage.migrate();
        await body(storage);
      } finally {
        await close(storage);
      }
    };

    it(
      "migrates idempotently and answers ping",
      withStorage(async (storage) => {
        await storage.migrate();
        await storage.ping();
      }),
    );

    it(
      "creates users with unique emails: of concurrent inserts exactly one wins",
      withStorage(async (storage) => {
        const email = `${randomUUID()}@example.com`;
        const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => storage.createUser(user(email))));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(EmailTakenError);
        expect((await storage.findUserByEmail(email))?.email).toBe(email);
      }),
    );

    it(
      "re-hashes a password without moving the stamp, and moves it on a change",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        expect(await storage.setPasswordHash(u.id, "rehashed", false, 1)).toBe(0);
        expect(await storage.setPasswordHash(u.id, "changed", true, 2)).toBe(1);
        expect((await storage.findUserById(u.id))?.passwordHash).toBe("changed");
      }),
    );

    it(
      "rotates a session exactly once under concurrent calls with the same expected hash",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const s = session(u.id);
        await storage.createSession(s);
        const results = await Promise.all(
          Array.from({ length: 8 }, () =>
            storage.rotateSession({
              sessionId: s.id,
              expectedHash: "hash-0",
              nextHash: "hash-1",
              now: 5,
              accessExpiresAt: 6,
              recentlyRetired: [{ hash: "hash-0", retiredAt: 5 }],
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const found = await storage.findSessionWithUser(s.id);
        expect(found?.session).toMatchObject({
          currentHash: "hash-1",
          previousHash: "hash-0",
          rotatedAt: 5,
          generation: 1,
          lastUsedAt: 5,
          recentlyRetired: [{ hash: "hash-0", retiredAt: 5 }],
        });
        expect(found?.user.id).toBe(u.id);
      }),
    );

    it(
      "never rotates a revoked session, and revokes only once",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const s = session(u.id);
        await storage.createSession(s);
        expect(await storage.revokeSession(s.id, "logout", 10)).toBe(true);
        expect(await storage.revokeSession(s.id, "reuse_detected", 11)).toBe(false);
        expect(
          await storage.rotateSession({
            sessionId: s.id,
            expectedHash: "hash-0",
            nextHash: "x",
            now: 12,
            accessExpiresAt: 13,
            recentlyRetired: [],
          }),
        ).toBe(false);
        const found = await storage.findSessionWithUser(s.id);
        expect(found?.session).toMatchObject({ revokedAt: 10, revokedReason: "logout" });
      }),
    );

    it(
      "lists revoked sessions only while their access tokens may live",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const s = session(u.id);
        await storage.createSession(s);
        await storage.revokeSession(s.id, "logout", 10);
        expect(await storage.listRecentlyRevoked(s.accessExpiresAt - 1)).toContainEqual({
          sessionId: s.id,
          accessExpiresAt: s.accessExpiresAt,
        });
        expect(await storage.listRecentlyRevoked(s.accessExpiresAt)).not.toContainEqual(expect.objectContaining({ sessionId: s.id }));
      }),
    );

    it(
      "adds the first signing key once among concurrent starters and retires the old key on rotation",
      withStorage(async (storage) => {
        const key = (kid: string, activatesAt: number) => ({
          kid,
          alg: "EdDSA",
          publicJwk: "{}",
          privateSealed: "v1.x",
          createdAt: 1,
          activatesAt,
          retiredAt: null,
        });
        const inserted = await Promise.all([
          storage.addSigningKey(key("k1", 1), { onlyIfNone: true }),
          storage.addSigningKey(key("k1", 1), { onlyIfNone: true }),
        ]);
        expect(inserted.filter(Boolean)).toHaveLength(1);
        expect(await storage.addSigningKey(key("k2", 1), { onlyIfNone: true })).toBe(false);
        expect(await storage.addSigningKey(key("k3", 100), { onlyIfNone: false })).toBe(true);
        const keys = await storage.listSigningKeys();
        expect(keys.map((k) => [k.kid, k.retiredAt])).toEqual([
          ["k3", null],
          ["k1", 100],
        ]);
      }),
    );

    it(
      "lists the revocations recorded since a time that are still alive, oldest first, without forgetting any",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const early = session(u.id);
        const late = session(u.id);
        await storage.createSession(early);
        await storage.createSession(late);
        await storage.revokeSession(early.id, "logout", 10);
        await storage.revokeSession(late.id, "logout", 20);
        const stateless = randomUUID().slice(0, 22);
        await storage.recordRevocation({ sessionId: stateless, userId: u.id, now: 30, until: late.accessExpiresAt + 1 });
        const ids = (rows: Array<{ sessionId: string }>) => rows.map((r) => r.sessionId);
        expect(ids(await storage.listRevokedSince(20, late.accessExpiresAt - 1))).toEqual([late.id, stateless]);
        expect(await storage.listRevokedSince(0, late.accessExpiresAt - 1)).toEqual([
          { sessionId: early.id, accessExpiresAt: early.accessExpiresAt },
          { sessionId: late.id, accessExpiresAt: late.accessExpiresAt },
          { sessionId: stateless, accessExpiresAt: late.accessExpiresAt + 1 },
        ]);
        // Rows whose access tokens have all expired are left out, but not deleted.
        expect(ids(await storage.listRevokedSince(0, late.accessExpiresAt))).toEqual([stateless]);
        expect(ids(await storage.listRevokedSince(0, late.accessExpiresAt - 1))).toHaveLength(3);
      }),
    );

    it(
      "replaces a password, revokes the other sessions and re-keys the kept one in one step",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const kept = session(u.id);
        const other = session(u.id);
        await storage.createSession(kept);
        await storage.createSession(other);
        const result = await storage.replacePassword({
          userId: u.id,
          passwordHash: "new-hash",
          now: 50,
          keep: { sessionId: kept.id, currentHash: "fresh", accessExpiresAt: 60 },
        });
        expect(result).toEqual({ securityStamp: 1, revoked: [other.id] });
        const after = await storage.findSessionWithUser(kept.id);
        expect(after?.session).toMatchObject({
          currentHash: "fresh",
          securityStamp: 1,
          revokedAt: null,
          previousHash: null,
          recentlyRetired: [],
        });
        expect(after?.user).toMatchObject({ passwordHash: "new-hash", securityStamp: 1 });
        expect((await storage.findSessionWithUser(other.id))?.session.revokedReason).toBe("password_changed");
        expect((await storage.listRecentlyRevoked(0)).map((r) => r.sessionId)).toContain(other.id);
        // From a session that has ended, nothing changes at all.
        const gone = await storage.replacePassword({
          userId: u.id,
          passwordHash: "newer-hash",
          now: 70,
          keep: { sessionId: other.id, currentHash: "x", accessExpiresAt: 80 },
        });
        expect(gone).toBeUndefined();
        expect((await storage.findUserById(u.id))?.passwordHash).toBe("new-hash");
      }),
    );

    it(
      "remembers a revocation until kept_until, past the feed's horizon",
      withStorage(async (storage) => {
        const sid = randomUUID().slice(0, 22);
        expect(await storage.isRevoked(sid)).toBe(false);
        await storage.recordRevocation({ sessionId: sid, userId: "u", now: 10, until: 20, keptUntil: 100 });
        expect(await storage.isRevoked(sid)).toBe(true);
        expect((await storage.listRecentlyRevoked(25)).map((r) => r.sessionId)).not.toContain(sid);
        await storage.pruneExpired(50, { idleMs: 1_000_000, batchSize: 10, maxBatches: 5 });
        expect(await storage.isRevoked(sid)).toBe(true);
        await storage.pruneExpired(100, { idleMs: 1_000_000, batchSize: 10, maxBatches: 5 });
        expect(await storage.isRevoked(sid)).toBe(false);
      }),
    );

    it(
      "prunes ended sessions in bounded batches and never a session that can still refresh",
      withStorage(async (storage) => {
        const u = user();
        await storage.createUser(u);
        const now = 1_750_000_000_000;
        const idleMs = 7 * 86_400_000;
        const live = { ...session(u.id), lastUsedAt: now - idleMs + 1, expiresAt: now + 1 };
        const expired = Array.from({ length: 7 }, () => ({ ...session(u.id), expiresAt: now }));
        const idle = Array.from({ length: 5 }, () => ({ ...session(u.id), lastUsedAt: now - idleMs }));
        for (const s of [live, ...expired, ...idle]) await storage.createSession(s);
        const first = await storage.pruneExpired(now, { idleMs, batchSize: 3, maxBatches: 2 });
        expect(first.sessions).toBe(6);
        const second = await storage.pruneExpired(now, { idleMs, batchSize: 3, maxBatches: 10 });
        expect(second.sessions).toBe(6);
        expect(await storage.findSessionWithUser(live.id)).toBeDefined();
        for (const s of [...expired, ...idle]) expect(await storage.findSessionWithUser(s.id)).toBeUndefined();
      }),
    );
  });
}
