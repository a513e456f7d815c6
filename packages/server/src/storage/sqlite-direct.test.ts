import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type CompiledQuery, Kysely, type SqliteDatabase as KyselySqliteDatabase, SqliteDialect, sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { directSqlite } from "./sqlite-direct.js";
import { withStatementCache } from "./sqlite-statement-cache.js";
import { StorageUnavailableError } from "./unavailable.js";

const query = <R = unknown>(sql: string, parameters: unknown[] = []) => ({ sql, parameters }) as unknown as CompiledQuery<R>;

describe("the direct SQLite path", () => {
  let db: Database.Database;
  beforeEach(() => {
    db = new Database(":memory:");
    db.exec(`create table t (id text primary key, n integer, note text, "odd ""name""" text);
      insert into t values ('a', 1, null, 'x'), ('b', 9007199254740991, 'two', 'y');`);
  });
  afterEach(() => db.close());

  it("builds the rows better-sqlite3 builds itself: names, order, NULLs, a repeated name, awkward ones and __proto__", () => {
    const direct = directSqlite(db).query;
    for (const sql of [
      "select * from t order by id",
      "select id, n as id, note from t order by id",
      `select "odd ""name""" as "a"": b", n + 1 as "constructor" from t where id = ?`,
      `select id as "__proto__", n from t order by id`,
    ]) {
      const parameters = sql.includes("?") ? ["b"] : [];
      const expected = db.prepare(sql).all(parameters);
      const answer = direct(query(sql, parameters));
      // A read with no write group open is answered at once, not by a promise.
      expect(answer).not.toBeInstanceOf(Promise);
      const rows = (answer as { rows: unknown[] }).rows;
      expect(rows).toEqual(expected);
      expect(rows.map((row) => Object.keys(row as object))).toEqual(expected.map((row) => Object.keys(row as object)));
    }
    expect(db.inTransaction).toBe(false);
  });

  it("answers a write with the rows it changed, and leaves statements others prepare as they are", async () => {
    const direct = directSqlite(db).query;
    await expect(direct(query("update t set n = n + 1 where id = ?", ["a"]))).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    direct(query("select * from t where id = ?", ["a"]));
    // A statement of the same text prepared elsewhere (Kysely's cache) still answers objects.
    expect(db.prepare("select * from t where id = ?").get("a")).toEqual({ id: "a", n: 2, note: null, 'odd "name"': "x" });
  });

  it("steps aside inside a transaction of someone else's and on a closed database", () => {
    const direct = directSqlite(db).query;
    db.exec("begin");
    expect(direct(query("select id from t"))).toBeUndefined();
    expect(direct(query("update t set n = 0"))).toBeUndefined();
    db.exec("rollback");
    db.close();
    expect(direct(query("select id from t"))).toBeUndefined();
  });
});

describe("group commit on the direct SQLite path", () => {
  let folder: string;
  let db: Database.Database;
  /** A second connection to the same file: it sees only what is committed. */
  let other: Database.Database;
  const committedN = (id: string) => (other.prepare("select n from t where id = ?").get(id) as { n: number } | undefined)?.n;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), "hush-direct-"));
    db = new Database(join(folder, "db.sqlite"));
    db.pragma("journal_mode = WAL");
    db.exec("create table t (id text primary key, n integer); insert into t values ('a', 1), ('b', 1);");
    other = new Database(join(folder, "db.sqlite"));
  });
  afterEach(() => {
    if (db.open) db.close();
    other.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("commits the writes of one turn of the event loop together, and answers each only once committed", async () => {
    const { query: direct } = directSqlite(db);
    const first = direct(query("update t set n = n + 1 where id = ?", ["a"]));
    const second = direct(query("update t set n = n + 10 where id = ?", ["b"]));
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBeInstanceOf(Promise);
    expect(db.inTransaction).toBe(true);
    expect([committedN("a"), committedN("b")]).toEqual([1, 1]);
    // Neither answer comes before the commit, which happens after this turn.
    const seen: number[][] = [];
    for (const answer of [first, second]) void Promise.resolve(answer).then(() => seen.push([committedN("a")!, committedN("b")!]));
    await Promise.resolve();
    expect(seen).toEqual([]);
    await expect(first).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    await expect(second).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    expect(seen).toEqual([
      [2, 11],
      [2, 11],
    ]);
    expect(db.inTransaction).toBe(false);
  });

  it("holds a read made while a group is open until the commit; the read sees the group's write", async () => {
    const { query: direct } = directSqlite(db);
    const write = direct(query("update t set n = 5 where id = ?", ["a"]));
    const read = direct(query("select n from t where id = ?", ["a"]));
    expect(read).toBeInstanceOf(Promise);
    await expect(read).resolves.toEqual({ rows: [{ n: 5 }] });
    await write;
    expect(committedN("a")).toBe(5);
  });

  it("commits the open group before a statement of Kysely's, so a transaction of Kysely's can begin", async () => {
    const direct = directSqlite(db);
    const kysely = new Kysely<{ t: { id: string; n: number } }>({
      dialect: new SqliteDialect({ database: withStatementCache(db, direct.flush) as unknown as KyselySqliteDatabase }),
    });
    const pending = direct.query(query("update t set n = 7 where id = ?", ["a"]));
    await kysely.transaction().execute(async (trx) => {
      // The group was committed before Kysely's `begin`: another connection already sees it.
      expect(committedN("a")).toBe(7);
      await trx.updateTable("t").set({ n: 8 }).where("id", "=", "b").execute();
      // Inside Kysely's transaction the direct path steps aside.
      expect(direct.query(query("select n from t where id = ?", ["b"]))).toBeUndefined();
    });
    await expect(pending).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    expect(await sql<{ n: number }>`select n from t where id = 'b'`.execute(kysely)).toEqual({ rows: [{ n: 8 }] });
    await kysely.destroy();
  });

  it("fails only the statement that errs; the rest of its group commits", async () => {
    const { query: direct } = directSqlite(db);
    const write = direct(query("update t set n = 3 where id = ?", ["a"]));
    expect(() => direct(query("insert into t values (?, ?)", ["a", 0]))).toThrow(/UNIQUE/);
    await expect(write).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    expect(committedN("a")).toBe(3);
  });

  it("fails every held answer of a group whose transaction was lost, with StorageUnavailableError, and starts afresh", async () => {
    const { query: direct } = directSqlite(db);
    const write = direct(query("update t set n = 4 where id = ?", ["a"]));
    const read = direct(query("select n from t where id = ?", ["a"]));
    // As SQLite does by itself on a full disk or an I/O error.
    db.exec("rollback");
    const next = direct(query("update t set n = 6 where id = ?", ["b"]));
    await expect(write).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(read).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(next).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    expect([committedN("a"), committedN("b")]).toEqual([1, 6]);
  });

  it("commits while the global timers are faked, as an application's own tests may do", async () => {
    vi.useFakeTimers({ toFake: ["setImmediate", "setTimeout", "Date"] });
    try {
      const { query: direct } = directSqlite(db);
      const write = direct(query("update t set n = 2 where id = ?", ["b"]));
      await expect(write).resolves.toEqual({ rows: [], numAffectedRows: 1n });
      expect(committedN("b")).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("commits the open group when the database is closed through the statement cache", async () => {
    const direct = directSqlite(db);
    const cached = withStatementCache(db, direct.flush);
    const pending = direct.query(query("update t set n = 9 where id = ?", ["a"]));
    cached.close();
    expect(db.open).toBe(false);
    await expect(pending).resolves.toEqual({ rows: [], numAffectedRows: 1n });
    expect(committedN("a")).toBe(9);
  });
});
