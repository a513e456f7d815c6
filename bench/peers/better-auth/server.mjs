// better-auth peer server: email+password, SQLite (better-sqlite3@12), jwt + bearer plugins.
//
// Env:
//   PORT                      listen port (default 4100); always bound to 127.0.0.1
//   PEER_DATA_DIR             directory for the SQLite file (default: a fresh dir under the OS temp dir)
//   PEER_DB_FILE              explicit SQLite file path (overrides PEER_DATA_DIR)
//   PEER_HTTP                 "express" (default; the Node integration better-auth documents)
//                             or "node" (plain node:http + toNodeHandler, no framework overhead)
//   PEER_RATE_LIMIT           "on" | "off" | unset (unset = better-auth default: on only when NODE_ENV=production)
//   PEER_DISABLE_JWT_HEADER   "1" = jwt plugin's disableSettingJwtHeader (no JWT signed on every get-session)
//   PEER_SQLITE_WAL           "0" = do not switch the SQLite file to WAL mode (default: WAL)
//   BETTER_AUTH_SECRET        secret (default: a fixed 32+ char dev secret so runs are reproducible)

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer, jwt } from "better-auth/plugins";
import Database from "better-sqlite3";

const PORT = Number(process.env.PORT || 4100);
const HOST = "127.0.0.1";
const BASE_URL = `http://${HOST}:${PORT}`;

const dataDir = process.env.PEER_DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), "better-auth-peer-"));
fs.mkdirSync(dataDir, { recursive: true });
const dbFile = process.env.PEER_DB_FILE || path.join(dataDir, "auth.sqlite");

const sqlite = new Database(dbFile);
// WAL is the usual production choice for SQLite; PEER_SQLITE_WAL=0 keeps better-sqlite3's default (rollback journal).
if (process.env.PEER_SQLITE_WAL !== "0") sqlite.pragma("journal_mode = WAL");

const rl = process.env.PEER_RATE_LIMIT;
const rateLimit = rl === "on" ? { enabled: true } : rl === "off" ? { enabled: false } : undefined;

export const auth = betterAuth({
  baseURL: BASE_URL,
  secret: process.env.BETTER_AUTH_SECRET || "peer-bench-secret-not-for-production-0123456789abcdef",
  database: sqlite,
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
  ...(rateLimit ? { rateLimit } : {}),
  plugins: [
    jwt({
      disableSettingJwtHeader: process.env.PEER_DISABLE_JWT_HEADER === "1",
    }),
    bearer(),
  ],
});

// Create / upgrade tables (user, session, account, verification, jwks) on start.
const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(auth.options);
if (toBeCreated.length || toBeAdded.length) {
  await runMigrations();
  console.log(
    `[peer] migrated: created=${toBeCreated.map((t) => t.table).join(",") || "-"} ` +
      `altered=${toBeAdded.map((t) => t.table).join(",") || "-"}`,
  );
}

const authHandler = toNodeHandler(auth);
const mode = process.env.PEER_HTTP || "express";
let server;

if (mode === "node") {
  server = http.createServer((req, res) => {
    if (req.url?.startsWith("/api/auth/")) return authHandler(req, res);
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "text/plain" });
      return res.end("ok");
    }
    res.writeHead(404).end();
  });
} else {
  const { default: express } = await import("express");
  const app = express();
  app.disable("x-powered-by");
  // Express 5 wildcard syntax; do not put express.json() before this handler.
  app.all("/api/auth/*splat", authHandler);
  app.get("/health", (_req, res) => res.type("text/plain").send("ok"));
  server = http.createServer(app);
}

server.keepAliveTimeout = 65_000;
server.listen(PORT, HOST, () => {
  console.log(`[peer] better-auth listening on ${BASE_URL} (http=${mode}, db=${dbFile}, pid=${process.pid})`);
});

const shutdown = () => {
  server.closeAllConnections?.();
  server.close(() => {
    sqlite.close();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
