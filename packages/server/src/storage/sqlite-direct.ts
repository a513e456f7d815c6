import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
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

/** A statement prepared for the direct path, and for a query in raw mode, how to build a row from its values. */
interface DirectStatement {
  statement: Statement;
  rowOf: ((values: unknown[]) => unknown) | undefined;
}

export function directSqlite(database: SqliteDatabase, observer?: StorageObserver): DirectQuery {
  const onQuery = observer?.onQuery;
  // Its own statements, apart from Kysely's: they are switched to raw mode, which Kysely's are not.
  const statements = new Map<string, DirectStatement>();
  const prepared = (sql: string): DirectStatement => {
    let found = statements.get(sql);
    if (!found) {
      const statement = database.prepare(sql);
      found = { statement, rowOf: rowBuilder(statement) };
      statements.set(sql, found);
    }
    return found;
  };
  return <R>(query: CompiledQuery<R>) => {
    // A closed database goes the ordinary way too, whose error the storage maps to 503.
    if (database.inTransaction || !database.open) return undefined;
    const started = onQuery ? performance.now() : 0;
    const { statement, rowOf } = prepared(query.sql);
    const parameters = query.parameters as unknown[];
    try {
      const result: QueryResult<R> = !statement.reader
        ? { rows: [], numAffectedRows: BigInt(statement.run(parameters).changes) }
        : { rows: (rowOf ? (statement.all(parameters) as unknown[][]).map(rowOf) : statement.all(parameters)) as R[] };
      onQuery?.(performance.now() - started, false);
      return result;
    } catch (error) {
      onQuery?.(performance.now() - started, true);
      throw error;
    }
  };
}

/**
 * Puts a query's statement in raw mode (rows as arrays) and returns a function that makes the
 * row object from those arrays: one object literal with the query's column names, compiled
 * once. better-sqlite3 builds each row object by looking every column name up in V8's string
 * table; for the refresh's 19 columns that was a tenth of its read. The names are the query's
 * own (the server's SQL, never input), quoted by JSON.stringify; a repeated name keeps the last
 * value, as better-sqlite3's rows do. Not for a write, nor for a column named `__proto__`, which
 * a literal would take for the prototype: those keep better-sqlite3's own rows.
 */
function rowBuilder(statement: Statement): ((values: unknown[]) => unknown) | undefined {
  if (!statement.reader) return undefined;
  const columns = statement.columns().map((column) => column.name);
  if (columns.includes("__proto__")) return undefined;
  statement.raw(true);
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(", ");
  return new Function("values", `return { ${fields} };`) as (values: unknown[]) => unknown;
}
