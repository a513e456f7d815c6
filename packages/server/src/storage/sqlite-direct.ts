import type { Database as SqliteDatabase } from "better-sqlite3";
import type { CompiledQuery, QueryResult } from "kysely";
import type { StorageObserver } from "./open-storage.js";

/**
 * Runs a compiled query on better-sqlite3 at once, without Kysely's connection lease and async
 * driver layers, or answers `undefined` when it must not. better-sqlite3 is synchronous, so a
 * statement run here cannot interleave with anything — except that it would join a transaction
 * another request has open between its awaits (and roll back with it). So while a transaction is
 * open the caller goes the ordinary way, through Kysely, which queues behind it. Used for the
 * refresh hot path's two queries only: they were a quarter of a refresh's CPU through Kysely.
 */
export type DirectQuery = <R>(query: CompiledQuery<R>) => QueryResult<R> | undefined;

export function directSqlite(
  database: SqliteDatabase,
  prepare: (sql: string) => ReturnType<SqliteDatabase["prepare"]>,
  observer?: StorageObserver,
): DirectQuery {
  const onQuery = observer?.onQuery;
  return <R>(query: CompiledQuery<R>) => {
    // A closed database goes the ordinary way too, whose error the storage maps to 503.
    if (database.inTransaction || !database.open) return undefined;
    const started = onQuery ? performance.now() : 0;
    const statement = prepare(query.sql);
    const parameters = query.parameters as unknown[];
    try {
      const result: QueryResult<R> = statement.reader
        ? { rows: statement.all(parameters) as R[] }
        : { rows: [], numAffectedRows: BigInt(statement.run(parameters).changes) };
      onQuery?.(performance.now() - started, false);
      return result;
    } catch (error) {
      onQuery?.(performance.now() - started, true);
      throw error;
    }
  };
}
