import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Storage } from "./contract.js";
import { openStorage } from "./open-storage.js";
import { runStorageConformance } from "./storage-conformance.test-helpers.js";

/** Every database the storage runs on; PostgreSQL joins this list with its own issue. */
const DATABASES: Array<{ name: string; open: () => Promise<Storage>; close: (s: Storage) => Promise<void> }> = [
  {
    name: "SQLite (file, WAL)",
    open: async () => {
      const folder = mkdtempSync(join(tmpdir(), "hush-storage-"));
      const storage = openStorage(`sqlite:${join(folder, "test.db")}`);
      folders.set(storage, folder);
      return storage;
    },
    close: async (storage) => {
      await storage.close();
      rmSync(folders.get(storage) ?? "/nonexistent", { recursive: true, force: true });
    },
  },
  { name: "SQLite (memory)", open: async () => openStorage("sqlite::memory:"), close: (s) => s.close() },
];
const folders = new Map<Storage, string>();

for (const database of DATABASES) runStorageConformance(database.name, database.open, database.close);
