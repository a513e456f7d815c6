import Database from "better-sqlite3";
import type { CompiledQuery } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { directSqlite } from "./sqlite-direct.js";

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
    const direct = directSqlite(db);
    for (const sql of [
      "select * from t order by id",
      "select id, n as id, note from t order by id",
      `select "odd ""name""" as "a"": b", n + 1 as "constructor" from t where id = ?`,
      `select id as "__proto__", n from t order by id`,
    ]) {
      const parameters = sql.includes("?") ? ["b"] : [];
      const expected = db.prepare(sql).all(parameters);
      const rows = direct(query(sql, parameters))?.rows;
      expect(rows).toEqual(expected);
      expect(rows?.map((row) => Object.keys(row as object))).toEqual(expected.map((row) => Object.keys(row as object)));
    }
    expect(direct(query("select id from t where id = ?", ["none"]))?.rows).toEqual([]);
  });

  it("answers a write with the rows it changed, and leaves statements others prepare as they are", () => {
    const direct = directSqlite(db);
    expect(direct(query("update t set n = n + 1 where id = ?", ["a"]))).toEqual({ rows: [], numAffectedRows: 1n });
    direct(query("select * from t where id = ?", ["a"]));
    // A statement of the same text prepared elsewhere (Kysely's cache) still answers objects.
    expect(db.prepare("select * from t where id = ?").get("a")).toEqual({ id: "a", n: 2, note: null, 'odd "name"': "x" });
  });

  it("steps aside inside a transaction and on a closed database", () => {
    const direct = directSqlite(db);
    db.exec("begin");
    expect(direct(query("select id from t"))).toBeUndefined();
    db.exec("rollback");
    db.close();
    expect(direct(query("select id from t"))).toBeUndefined();
  });
});
