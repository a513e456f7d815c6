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
            storage.rotateSession({ sessionId: s.id, expectedHash: "hash-0", nextHash: "hash-1", now: 5, accessExpiresAt: 6 }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const found = await storage.findSessionWithUser(s.id);
        expect(found?.session).toMatchObject({ currentHash: "hash-1", previousHash: "hash-0", rotatedAt: 5, generation: 1, lastUsedAt: 5 });
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
        expect(await storage.rotateSession({ sessionId: s.id, expectedHash: "hash-0", nextHash: "x", now: 12, accessExpiresAt: 13 })).toBe(
          false,
        );
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
  });
}
