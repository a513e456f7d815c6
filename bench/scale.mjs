// Scale-out benchmarks: refresh throughput on SQLite and PostgreSQL (one instance and three),
// beside a bare node:http handler in the same run; and refresh latency as the number of stored
// sessions grows from 1,000 to 1,000,000.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT, round, runJsonScript, startProcess, stopProcess, writeDocSection } from "./lib.mjs";

// The same throwaway-PostgreSQL harness as the tests (TypeScript, loaded through tsx: `npm run bench`).
const { startThrowawayPostgres, createDatabase } = await import(join(ROOT, "test-support/postgres.ts"));
const HUSH_BIN = join(ROOT, "packages/server/bin/hush.js");
const ISSUER = "http://auth.bench.test";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const SIZES = (process.env.BENCH_SESSION_SIZES ?? "1000,10000,100000,1000000").split(",").map(Number);
const SECRET = "cd".repeat(32);

async function startHush(databaseUrl, extra = {}) {
  const port = await freePort();
  const proc = await startProcess(process.execPath, [HUSH_BIN, "serve"], {
    url: `http://127.0.0.1:${port}/health`,
    env: {
      PORT: String(port),
      HUSH_SECRET: SECRET,
      HUSH_ISSUER: ISSUER,
      HUSH_DATABASE_URL: databaseUrl,
      HUSH_RATE_LIMITS: "off",
      HUSH_LOG_LEVEL: "warn",
      ...extra,
    },
  });
  return { url: `http://127.0.0.1:${port}`, stop: proc.stop };
}

async function startBare() {
  const child = spawn(process.execPath, [join(ROOT, "bench/bare-server.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve) => child.stdout.once("data", (c) => resolve(String(c).trim())));
  return { url, stop: () => stopProcess(child) };
}

const load = (urls, seconds = SECONDS) => runJsonScript(join(ROOT, "bench/refresh-load.mjs"), ["20", String(seconds), ISSUER, ...urls]);

/** Inserts stored sessions up to `total` (one user owns them), straight into the database. */
async function seedSessions(kind, databaseUrl, from, total) {
  const now = Date.now();
  if (kind === "sqlite") {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(databaseUrl.slice("sqlite:".length));
    db.pragma("busy_timeout = 10000");
    db.prepare(
      "insert or ignore into users (id, email, password_hash, created_at, updated_at, security_stamp) values ('seed', 'seed@example.com', 'x', ?, ?, 0)",
    ).run(now, now);
    const insert = db.prepare(
      "insert into sessions (id, user_id, current_hash, generation, created_at, last_used_at, expires_at, security_stamp, access_expires_at) values (?, 'seed', ?, 0, ?, ?, ?, 0, ?)",
    );
    const batch = db.transaction((a, b) => {
      for (let i = a; i < b; i++) insert.run(`seed${String(i).padStart(17, "0")}`, `hash${i}`, now, now, now + 86_400_000, now);
    });
    for (let i = from; i < total; i += 50_000) batch(i, Math.min(total, i + 50_000));
    db.close();
    return;
  }
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(
    "insert into users (id, email, password_hash, created_at, updated_at, security_stamp) values ('seed', 'seed@example.com', 'x', $1, $1, 0) on conflict do nothing",
    [now],
  );
  await client.query(
    `insert into sessions (id, user_id, current_hash, generation, created_at, last_used_at, expires_at, security_stamp, access_expires_at)
     select 'seed' || lpad(g::text, 17, '0'), 'seed', 'hash' || g, 0, $1, $1, $2, 0, $1 from generate_series($3::int, $4::int - 1) g`,
    [now, now + 86_400_000, from, total],
  );
  await client.query("analyze sessions");
  await client.end();
}

export async function benchScale() {
  const cluster = await startThrowawayPostgres();
  const folder = mkdtempSync(join(tmpdir(), "hush-scale-"));
  const rows = [];
  const growth = { sqlite: [], postgres: [] };
  try {
    console.log("bench: refresh throughput — bare handler, SQLite, PostgreSQL ×1, PostgreSQL ×3");
    const bare = await startBare();
    const baseline = await load([bare.url]);
    await bare.stop();
    rows.push({ name: "bare node:http handler (no work)", ...baseline });
    const sqliteUrl = `sqlite:${join(folder, "scale.db")}`;
    const sqlite = await startHush(sqliteUrl);
    rows.push({ name: "Hush, SQLite, 1 instance", ...(await load([sqlite.url])) });
    await sqlite.stop();
    const pgUrl = await createDatabase(cluster.url);
    const one = await startHush(pgUrl);
    rows.push({ name: "Hush, PostgreSQL, 1 instance", ...(await load([one.url])) });
    const others = [await startHush(pgUrl), await startHush(pgUrl)];
    rows.push({ name: "Hush, PostgreSQL, 3 instances (round-robin)", ...(await load([one.url, ...others.map((o) => o.url)])) });
    await Promise.all([one, ...others].map((i) => i.stop()));
    for (const r of rows) console.log(`  ${r.name.padEnd(46)} ${r.rps} req/s  p99 ${r.p99_ms} ms  errors ${r.errors}`);

    console.log("bench: refresh p99 as stored sessions grow");
    for (const [kind, url] of [
      ["sqlite", `sqlite:${join(folder, "growth.db")}`],
      ["postgres", await createDatabase(cluster.url)],
    ]) {
      const server = await startHush(url);
      let seeded = 0;
      for (const size of SIZES) {
        await seedSessions(kind, url, seeded, size);
        seeded = size;
        const r = await load([server.url], Math.max(3, SECONDS - 2));
        growth[kind].push({ size, ...r });
        console.log(`  ${kind.padEnd(8)} ${String(size).padStart(8)} sessions: ${r.rps} req/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms`);
      }
      await server.stop();
    }
  } finally {
    cluster.destroy();
    rmSync(folder, { recursive: true, force: true });
  }
  const base = rows[0].rps;
  const fmtSize = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  const lines = [
    "## Scale-out: SQLite and PostgreSQL",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${process.version}, 2 cores shared by the load generator (20 sessions, closed loop), every server process, and PostgreSQL 15 (fsync off: a benchmark cluster).`,
    "",
    "| server | refresh requests/s | ratio to the bare handler | p50 ms | p99 ms |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.name} | ${r.rps} | ${round(r.rps / base, 3)}× | ${r.p50_ms} | ${r.p99_ms} |`),
    "",
    "Three instances on two cores add processes, not cores: they show that any instance can answer any request with no loss, not more throughput on this machine.",
    "",
    "### Refresh latency as stored sessions grow",
    "",
    "| stored sessions | SQLite req/s | SQLite p99 ms | PostgreSQL req/s | PostgreSQL p99 ms |",
    "|---|---|---|---|---|",
    ...SIZES.map(
      (size, i) =>
        `| ${fmtSize(size)} | ${growth.sqlite[i]?.rps} | ${growth.sqlite[i]?.p99_ms} | ${growth.postgres[i]?.rps} | ${growth.postgres[i]?.p99_ms} |`,
    ),
    "",
    "```mermaid",
    "xychart-beta",
    '  title "Refresh p99 (ms) against stored sessions"',
    `  x-axis [${SIZES.map((s) => `"${fmtSize(s)}"`).join(", ")}]`,
    `  y-axis "p99 ms" 0 --> ${Math.ceil(Math.max(...growth.sqlite.map((g) => g.p99_ms), ...growth.postgres.map((g) => g.p99_ms)) * 1.3)}`,
    `  line [${growth.sqlite.map((g) => g.p99_ms).join(", ")}]`,
    `  line [${growth.postgres.map((g) => g.p99_ms).join(", ")}]`,
    "```",
    "",
    "First line SQLite, second PostgreSQL. A refresh reads one session by primary key and updates it by primary key, so its cost does not depend on how many sessions are stored.",
  ];
  writeDocSection("scale", lines.join("\n"));
  return { rows, growth };
}
