import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { POSTGRES_URL } from "../../../../test-support/databases.js";
import { createDatabase } from "../../../../test-support/postgres.js";
import type { Storage } from "./contract.js";
import type { KyselyStorage } from "./kysely-storage.js";
import { openStorage } from "./open-storage.js";
import { runStorageConformance } from "./storage-conformance.js";

/** Every database the storage runs on: the same suite, looped over them. */
const DATABASES: Array<{ name: string; open: () => Promise<Storage>; close: (s: Storage) => Promise<void> }> = [
  {
    name: "SQLite (file, WAL)",
    open: async () => {
      const folder = mkdtempSync(join(tmpdir(), "hush-storage-"));
      const storage = await openStorage(`sqlite:${join(folder, "test.db")}`);
      folders.set(storage, folder);
      return storage;
    },
    close: async (storage) => {
      await storage.close();
      rmSync(folders.get(storage) ?? "/nonexistent", { recursive: true, force: true });
    },
  },
  { name: "SQLite (memory)", open: async () => openStorage("sqlite::memory:"), close: (s) => s.close() },
  ...(POSTGRES_URL
    ? [{ name: "PostgreSQL", open: async () => openStorage(await createDatabase(POSTGRES_URL)), close: (s: Storage) => s.close() }]
    : []),
];
const folders = new Map<Storage, string>();

for (const database of DATABASES) runStorageConformance(database.name, database.open, database.close);

describe("the retired-secret times of a session row", () => {
  it("reads the short form and the longer one of rows written before it, and writes the short one", async () => {
    const storage = await openStorage("sqlite::memory:");
    try {
      await storage.migrate();
      const now = 1_700_000_000_000;
      const user = {
        id: "u-retired",
        email: "retired@example.com",
        passwordHash: "x",
        createdAt: now,
        updatedAt: now,
        securityStamp: 0,
        suspendedAt: null,
        emailVerifiedAt: null,
      };
      await storage.createUser(user);
      const session = {
        id: "s".repeat(22),
        userId: user.id,
        currentHash: "hash-2",
        previousHash: "hash-1",
        rotatedAt: now + 2,
        generation: 2,
        createdAt: now,
        lastUsedAt: now + 2,
        expiresAt: now + 86_400_000,
        securityStamp: user.securityStamp,
        accessExpiresAt: now + 600_000,
        userAgent: null,
        ip: null,
        revokedAt: null,
        revokedReason: null,
        recentlyRetired: [now + 1, now + 2],
        authTime: null,
        amr: ["pwd"],
      };
      await storage.createSession(session);
      expect((await storage.findSessionWithUser(session.id))?.session.recentlyRetired).toEqual([now + 1, now + 2]);
      const { db } = storage as unknown as KyselyStorage;
      const raw = async () =>
        (await db.selectFrom("sessions").select("recently_retired").where("id", "=", session.id).executeTakeFirst())?.recently_retired;
      expect(await raw()).toBe(`[${now + 1},${now + 2}]`);
      await db
        .updateTable("sessions")
        .set({
          recently_retired: JSON.stringify([
            ["hash-0", now + 1],
            ["hash-1", now + 2],
          ]),
        })
        .where("id", "=", session.id)
        .execute();
      expect((await storage.findSessionWithUser(session.id))?.session.recentlyRetired).toEqual([now + 1, now + 2]);
    } finally {
      await storage.close();
    }
  });
});
