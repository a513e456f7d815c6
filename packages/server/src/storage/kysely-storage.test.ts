import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTGRES_URL } from "../../../../test-support/databases.js";
import { createDatabase } from "../../../../test-support/postgres.js";
import type { Storage } from "./contract.js";
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
