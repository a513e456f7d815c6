import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, type SqliteDatabase as KyselySqliteDatabase, type LogEvent, PostgresDialect, SqliteDialect } from "kysely";
import type { Storage } from "./contract.js";
import { KyselyStorage } from "./kysely-storage.js";
import { postgresRateLimiters } from "./postgres-rate-limiter.js";
import type { Database } from "./schema.js";
import { directSqlite } from "./sqlite-direct.js";
import { withStatementCache } from "./sqlite-statement-cache.js";
import { withUnavailableErrors } from "./unavailable.js";

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

/** Settings of a PostgreSQL connection pool. */
export interface PoolSettings {
  /** Most connections per instance. Default 10. */
  maxConnections?: number;
  /** Give up connecting (or waiting for a free connection) after this long. Default 5,000 ms. */
  connectTimeoutMs?: number;
  /** Cancel a statement that runs longer than this. Default 10,000 ms. */
  statementTimeoutMs?: number;
}

/** What the storage reports for metrics: each query's duration, and the pool's state. */
export interface StorageObserver {
  onQuery?(durationMs: number, failed: boolean): void;
}

function kyselyLog(observer: StorageObserver | undefined) {
  if (!observer?.onQuery) return undefined;
  const onQuery = observer.onQuery;
  return (event: LogEvent) => onQuery(event.queryDurationMillis, event.level === "error");
}

async function openPostgres(
  url: string,
  pool: PoolSettings,
  observer: StorageObserver | undefined,
  onPoolError: (error: Error) => void,
): Promise<Storage & { poolStats(): { total: number; idle: number; waiting: number } }> {
  // `pg` is an optional dependency: only PostgreSQL deployments need it.
  const { default: pg } = await import("pg");
  const connectTimeoutMs = pool.connectTimeoutMs ?? 5_000;
  const pgPool = new pg.Pool({
    connectionString: url,
    max: pool.maxConnections ?? 10,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: pool.statementTimeoutMs ?? 10_000,
    query_timeout: (pool.statementTimeoutMs ?? 10_000) + 1_000,
    idleTimeoutMillis: 30_000,
    // bigint columns hold epoch milliseconds and counters, far inside Number's safe range.
    types: {
      getTypeParser: (oid: number, format?: "text" | "binary") =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
    },
  });
  // A connection that dies while idle (the database restarted) must not crash the process;
  // the pool replaces it on the next checkout.
  pgPool.on("error", onPoolError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pgPool }), log: kyselyLog(observer) });
  const storage = new KyselyStorage(db);
  return Object.assign(storage, {
    createRateLimiter: postgresRateLimiters(pgPool),
    poolStats: () => ({ total: pgPool.totalCount, idle: pgPool.idleCount, waiting: pgPool.waitingCount }),
  });
}

/**
 * Creates the database's folder `0700` and its file `0600` (tightening an existing file too):
 * the file holds password hashes and sealed keys, which no other local user may read. SQLite
 * gives its `-wal` and `-shm` files the main file's mode.
 */
function prepareSqliteFile(path: string): void {
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  for (const companion of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(companion)) chmodSync(companion, 0o600);
}

function openSqlite(path: string, observer?: StorageObserver): Storage {
  if (path !== ":memory:") prepareSqliteFile(path);
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers run beside the one writer; NORMAL sync is durable across process crashes
  // (only an OS crash can lose the last transactions), the usual choice with WAL.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  // Other processes (the CLI beside a running server) may hold the write lock briefly.
  sqlite.pragma("busy_timeout = 5000");
  const direct = directSqlite(sqlite, observer);
  // Kysely's statements and the close commit the direct path's open write group first.
  const cached = withStatementCache(sqlite, direct.flush);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cached as unknown as KyselySqliteDatabase }),
    log: kyselyLog(observer),
  });
  return new KyselyStorage(db, { direct: direct.query });
}

/**
 * Opens the storage a database URL names: SQLite through better-sqlite3, or PostgreSQL through
 * `pg` — one Kysely implementation for both. The schema is not touched: call `migrate()`.
 */
export async function openStorage(
  url: string,
  options: { pool?: PoolSettings; observer?: StorageObserver; onPoolError?: (error: Error) => void } = {},
): Promise<Storage> {
  const location = parseDatabaseUrl(url);
  if (!location) throw new Error(`unsupported database URL (use sqlite:PATH, sqlite::memory: or postgres://…)`);
  const storage =
    location.kind === "sqlite"
      ? openSqlite(location.path, options.observer)
      : await openPostgres(location.url, options.pool ?? {}, options.observer, options.onPoolError ?? (() => undefined));
  return withUnavailableErrors(storage);
}
