// The timers module's own function, not the global: an application's tests that fake the
// global timers (Vitest, Jest) would otherwise never see a group committed.
import { setImmediate } from "node:timers";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import type { CompiledQuery, QueryResult } from "kysely";
import type { StorageObserver } from "./open-storage.js";
import { StorageUnavailableError } from "./unavailable.js";

/**
 * Runs a compiled query on better-sqlite3 at once, without Kysely's connection lease and async
 * driver layers, or answers `undefined` when it must not: while a transaction of Kysely's is
 * open between its awaits (a statement run here would join it, and roll back with it), the
 * caller goes the ordinary way, through Kysely, which queues behind it. Used for the hot
 * queries of a refresh: they were a quarter of its CPU through Kysely.
 *
 * The answer is a promise while a write group is open (see `directSqlite`).
 */
export type DirectQuery = <R>(query: CompiledQuery<R>) => QueryResult<R> | Promise<QueryResult<R>> | undefined;

/** The direct path of a SQLite database, and how to commit the write group it may hold open. */
export interface DirectSqlite {
  query: DirectQuery;
  /**
   * Commits the open write group, if any, and settles its statements' answers. Call it before
   * anything else uses the connection (Kysely's statements; see `withStatementCache`) and
   * before closing it.
   */
  flush(): void;
}

/** A statement prepared for the direct path, and for a query in raw mode, how to build a row from its values. */
interface DirectStatement {
  statement: Statement;
  rowOf: ((values: unknown[]) => unknown) | undefined;
}

/** A statement's answer held until its group commits. */
interface Held {
  result: QueryResult<unknown>;
  resolve(result: QueryResult<unknown>): void;
  reject(error: unknown): void;
}

/**
 * The direct path, with group commit: the first direct write opens a transaction
 * (`BEGIN IMMEDIATE`) that every direct statement of the same turn of the event loop joins,
 * committed once, from `setImmediate`, after the requests that arrived together have run their
 * statements. A commit in WAL mode costs several times the UPDATE it ends (here 26 µs against
 * 5 µs inside a transaction), and concurrent refreshes all write, so under load one commit serves
 * many of them; a lone request gets a group of one, one tick later.
 *
 * Nobody is answered from uncommitted state: while a group is open, every statement's answer
 * (a read too, which sees the group's writes) is held until the commit and rejected with
 * `StorageUnavailableError` (503) if the group is lost — a client then retries, and a refresh's
 * retry of a token whose rotation was lost finds it current again. Holding the write lock across
 * one turn of the loop delays other processes' writes to the same file by as long (busy_timeout
 * covers it).
 */
export function directSqlite(database: SqliteDatabase, observer?: StorageObserver): DirectSqlite {
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
  /** The answers of the open group's statements; `undefined` when no group is open. */
  let group: Held[] | undefined;

  /** Settles the open group: answers its statements once committed, or fails them all. */
  const flush = (): void => {
    const held = group;
    if (!held) return;
    group = undefined;
    let failure: unknown;
    try {
      // SQLite rolls a transaction back by itself on some errors (a full disk, an I/O error).
      if (!database.inTransaction) throw new Error("the write group's transaction was rolled back");
      prepared("COMMIT").statement.run();
    } catch (error) {
      failure = new StorageUnavailableError(error);
      try {
        if (database.inTransaction) database.exec("ROLLBACK");
      } catch {
        // Nothing more to undo: the connection's own error surfaces at its next statement.
      }
    }
    for (const { result, resolve, reject } of held) {
      if (failure) reject(failure);
      else resolve(result);
    }
  };

  const query = <R>(compiled: CompiledQuery<R>): QueryResult<R> | Promise<QueryResult<R>> | undefined => {
    // A closed database goes the ordinary way, whose error the storage maps to 503.
    if (!database.open) return undefined;
    if (group && !database.inTransaction) flush(); // the group was lost: fail its answers first
    if (database.inTransaction && !group) return undefined; // Kysely's, open between its awaits
    const started = onQuery ? performance.now() : 0;
    const { statement, rowOf } = prepared(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    let result: QueryResult<R>;
    try {
      // The first write of a turn opens the group (a wait for another process's lock included).
      if (!group && !statement.reader) {
        prepared("BEGIN IMMEDIATE").statement.run();
        group = [];
        setImmediate(flush);
      }
      result = !statement.reader
        ? { rows: [], numAffectedRows: BigInt(statement.run(parameters).changes) }
        : { rows: (rowOf ? (statement.all(parameters) as unknown[][]).map(rowOf) : statement.all(parameters)) as R[] };
      onQuery?.(performance.now() - started, false);
    } catch (error) {
      onQuery?.(performance.now() - started, true);
      // An error that took the transaction with it fails the whole group at once.
      if (group && !database.inTransaction) flush();
      throw error;
    }
    if (!group) return result;
    const held = group;
    return new Promise<QueryResult<R>>((resolve, reject) => {
      held.push({ result, resolve: resolve as Held["resolve"], reject });
    });
  };

  return { query, flush };
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
