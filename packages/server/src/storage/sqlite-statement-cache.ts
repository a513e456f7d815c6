import type { Database as SqliteDatabase, Statement } from "better-sqlite3";

/** Statements kept prepared; the server issues a few dozen distinct SQL texts, so this never fills in practice. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * Wraps a better-sqlite3 database (for Kysely's SQLite dialect) so that each distinct SQL text is
 * prepared once, not on every query: preparing was the largest single cost of a refresh.
 * `beforeUse` runs before every statement and before the close (Kysely prepares each statement
 * it runs, `begin` and `commit` too): the direct path commits its write group there.
 */
export function withStatementCache(
  database: SqliteDatabase,
  beforeUse: () => void = () => undefined,
): { close(): void; prepare(sql: string): Statement } {
  const cache = new Map<string, Statement>();
  return {
    close() {
      beforeUse();
      database.close();
    },
    prepare(sql: string) {
      beforeUse();
      let statement = cache.get(sql);
      if (!statement) {
        statement = database.prepare(sql);
        if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
