import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Storage } from "./contract.js";
import { KyselyStorage } from "./kysely-storage.js";
import type { Database } from "./schema.js";
import { withStatementCache } from "./sqlite-statement-cache.js";

/** Where a database URL points: a SQLite file (or memory) or a PostgreSQL server. */
export type DatabaseLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Parses `sqlite:PATH`, `sqlite::memory:` or `postgres://…`; `undefined` for anything else. */
export function parseDatabaseUrl(url: string): DatabaseLocation | undefined {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    return path ? { kind: "sqlite", path } : undefined;
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return { kind: "postgres", url };
  return undefined;
}

/** The folder that holds a SQLite database's file (and the generated secret beside it). */
export function dataFolderOf(location: DatabaseLocation): string | undefined {
  if (location.kind !== "sqlite" || location.path === ":memory:") return undefined;
  return dirname(resolve(location.path));
}

function openSqlite(path: string): Storage {
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers run beside the one writer; NORMAL sync is durable across process crashes
  // (only an OS crash can lose the last transactions), the usual choice with WAL.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  // Other processes (the CLI beside a running server) may hold the write lock briefly.
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return new KyselyStorage(db);
}

/** Opens the storage a database URL names. The schema is not touched: call `migrate()`. */
export function openStorage(url: string): Storage {
  const location = parseDatabaseUrl(url);
  if (!location) throw new Error(`unsupported database URL (use sqlite:PATH, sqlite::memory: or postgres://…)`);
  if (location.kind === "sqlite") return openSqlite(location.path);
  throw new Error("PostgreSQL support is not built yet; use sqlite:PATH");
}
