// The floor of a refresh: node:http + better-sqlite3 + node:crypto doing only what a rotating
// refresh must — the CSRF header and Origin check, the cookie parse, one SELECT of the session
// joined with its user by primary key, two SHA-256, one HMAC (the successor), one conditional
// UPDATE, one Ed25519 signature of an RFC 9068 access token, the JSON body, Set-Cookie and CORS
// headers. No framework, no validation layers, no events. `npm run bench` measures Hush's CPU
// per refresh against this, in the same run. Sign-up is a stub (no password hashing): it only
// creates a user and a session to refresh.
//
// With `--features`, it also does, just as plainly, what Hush's refresh does beyond that floor
// for its product features: the successor's tag (a second HMAC), the retired-secret times of
// the reuse grace (read, filtered, written back as JSON), the sign-in's time and methods and the
// verified flag in the token and the user, the suspension check, the hint cookie, `Pragma` and
// `Access-Control-Expose-Headers`. The bench reports it beside the floor, so the part of Hush's
// cost that is its features can be told from the part that is its code.
//
// With `--load-hush` as well, the process also loads `@hush/server` and starts an auth server that
// serves nothing (in-memory SQLite, no listener): the floor's requests then run beside a
// product's loaded code, heap and background work, as Hush's own requests do.
import { createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import { createServer } from "node:http";
import Database from "better-sqlite3";

const FEATURES = process.argv.includes("--features");
if (process.argv.includes("--load-hush")) {
  const { configFromEnv, createAuthServer } = await import("@hush/server");
  const env = {
    HUSH_SECRET: "ab".repeat(32),
    HUSH_DATABASE_URL: "sqlite::memory:",
    HUSH_RATE_LIMITS: "off",
    HUSH_LOG_LEVEL: "warn",
    HUSH_PRUNE_INTERVAL: "0",
  };
  globalThis.idleAuthServer = await createAuthServer(configFromEnv(env, () => undefined).options);
}
const db = new Database(process.argv.slice(2).find((arg) => !arg.startsWith("--")) ?? ":memory:");
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(`
  create table if not exists users (id text primary key, email text not null unique, created_at integer not null, security_stamp integer not null,
    suspended_at integer, email_verified_at integer);
  create table if not exists sessions (id text primary key, user_id text not null, current_hash text not null, previous_hash text,
    rotated_at integer, created_at integer not null, last_used_at integer not null, expires_at integer not null,
    security_stamp integer not null, access_expires_at integer not null, revoked_at integer,
    generation integer not null default 0, recently_retired text, auth_time integer, amr text);
`);
const insertUser = db.prepare("insert into users (id, email, created_at, security_stamp) values (?, ?, ?, 0)");
const insertSession = db.prepare(
  "insert into sessions (id, user_id, current_hash, created_at, last_used_at, expires_at, security_stamp, access_expires_at) values (?, ?, ?, ?, ?, ?, 0, ?)",
);
const findSession = db.prepare(
  FEATURES
    ? "select s.id, s.user_id, s.current_hash, s.previous_hash, s.rotated_at, s.generation, s.created_at, s.last_used_at, s.expires_at, s.security_stamp, s.revoked_at, s.recently_retired, s.auth_time, s.amr, u.email, u.created_at as u_created_at, u.security_stamp as u_stamp, u.suspended_at, u.email_verified_at from sessions s join users u on u.id = s.user_id where s.id = ?"
    : "select s.id, s.user_id, s.current_hash, s.created_at, s.last_used_at, s.expires_at, s.security_stamp, s.revoked_at, u.email, u.created_at as u_created_at, u.security_stamp as u_stamp from sessions s join users u on u.id = s.user_id where s.id = ?",
);
const rotate = db.prepare(
  FEATURES
    ? "update sessions set previous_hash = current_hash, current_hash = ?, rotated_at = ?, last_used_at = ?, access_expires_at = ?, recently_retired = ?, generation = generation + 1 where id = ? and current_hash = ? and revoked_at is null"
    : "update sessions set previous_hash = current_hash, current_hash = ?, rotated_at = ?, last_used_at = ?, access_expires_at = ? where id = ? and current_hash = ? and revoked_at is null",
);

/** This server's own origin: the issuer, and the one origin allowed to call it (set once it listens). */
let ISSUER = "http://127.0.0.1";
const { privateKey } = generateKeyPairSync("ed25519");
const chainKey = randomBytes(32);
const tagKey = randomBytes(32);
/** Hush's default reuse grace, and the most retired secrets a session keeps. */
const GRACE_MS = 10_000;
const MAX_RETIRED = 16;
const header = Buffer.from(JSON.stringify({ alg: "EdDSA", kid: "floor", typ: "at+jwt" })).toString("base64url");
const TTL = 600;
const b64 = (bytes) => Buffer.from(bytes).toString("base64url");
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("base64url");

function cookieValue(header) {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === "__Host-hush_rt") return part.slice(eq + 1).trim();
  }
  return undefined;
}

function accessToken(userId, sessionId, now, row) {
  const iat = Math.floor(now / 1000);
  const claims = { iss: ISSUER, sub: userId, aud: "hush", iat, exp: iat + TTL, jti: randomUUID(), sid: sessionId, client_id: "hush-web" };
  const payload = b64(
    JSON.stringify(
      FEATURES
        ? {
            ...claims,
            auth_time: Math.floor((row?.auth_time ?? now) / 1000),
            amr: JSON.parse(row?.amr ?? '["pwd"]'),
            sst: row?.u_stamp ?? 0,
            email_verified: row?.email_verified_at != null,
          }
        : claims,
    ),
  );
  const input = `${header}.${payload}`;
  return `${input}.${b64(sign(null, Buffer.from(input), privateKey))}`;
}

function answer(res, status, body, cookie, origin) {
  const headers = { "content-type": "application/json", "cache-control": "no-store" };
  if (FEATURES) headers.pragma = "no-cache";
  if (cookie) {
    const refresh = `__Host-hush_rt=${cookie}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Strict`;
    headers["set-cookie"] = FEATURES ? [refresh, "hush_session=1; Max-Age=604800; Path=/; Secure; SameSite=Strict"] : refresh;
  }
  if (origin) {
    headers["access-control-allow-origin"] = origin;
    headers["access-control-allow-credentials"] = "true";
    headers.vary = "Origin";
    if (FEATURES) headers["access-control-expose-headers"] = "x-access-token, WWW-Authenticate, Date";
  }
  res.writeHead(status, headers);
  res.end(body);
}

/** `--features`: a secret is a 16-byte body and its 16-byte tag, HMAC(tagKey, sessionId ‖ body). */
function withTag(sessionId, digest) {
  const body = digest.subarray(0, 16);
  return Buffer.concat([body, createHmac("sha256", tagKey).update(sessionId).update(".").update(body).digest().subarray(0, 16)]);
}

/** `--features`: the retired-secret times still within the grace, and now's, as stored. */
function retiredAfterRotation(row, now) {
  const retired = JSON.parse(row.recently_retired ?? "[]").filter((at) => now - at <= GRACE_MS);
  retired.push(now);
  return JSON.stringify(retired.slice(-MAX_RETIRED));
}

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const origin = req.headers.origin;
    if (req.headers["x-hush-csrf"] !== "1" || (origin !== undefined && origin !== ISSUER))
      return answer(res, 403, '{"error":"csrf_failed"}');
    const now = Date.now();
    if (req.url === "/auth/signup") {
      const userId = randomUUID();
      const sessionId = b64(randomBytes(16));
      const secret = randomBytes(32);
      insertUser.run(userId, `${userId}@example.com`, now);
      insertSession.run(sessionId, userId, sha256(secret), now, now, now + 30 * 86_400_000, now + TTL * 1000);
      return answer(res, 201, JSON.stringify({ accessToken: accessToken(userId, sessionId, now) }), `${sessionId}.${b64(secret)}`, origin);
    }
    if (req.url !== "/auth/refresh") return answer(res, 404, '{"error":"not_found"}');
    const token = cookieValue(req.headers.cookie);
    const dot = token?.indexOf(".") ?? -1;
    if (!token || dot !== 22) return answer(res, 401, '{"error":"invalid_refresh_token"}');
    const sessionId = token.slice(0, dot);
    const secret = Buffer.from(token.slice(dot + 1), "base64url");
    const row = findSession.get(sessionId);
    const presented = sha256(secret);
    if (!row || row.revoked_at !== null || row.security_stamp !== row.u_stamp || now >= row.expires_at || row.current_hash !== presented) {
      return answer(res, 401, '{"error":"invalid_refresh_token"}');
    }
    if (FEATURES && row.suspended_at !== null) return answer(res, 401, '{"error":"session_revoked"}');
    const digest = createHmac("sha256", chainKey).update(sessionId).update(".").update(secret).digest();
    const successor = FEATURES ? withTag(sessionId, digest) : digest;
    const rotated = FEATURES
      ? rotate.run(sha256(successor), now, now, now + TTL * 1000, retiredAfterRotation(row, now), sessionId, presented)
      : rotate.run(sha256(successor), now, now, now + TTL * 1000, sessionId, presented);
    if (rotated.changes !== 1) return answer(res, 401, '{"error":"invalid_refresh_token"}');
    const user = { id: row.user_id, email: row.email, createdAt: new Date(row.u_created_at).toISOString() };
    if (FEATURES) user.emailVerified = row.email_verified_at !== null;
    const body = JSON.stringify({ accessToken: accessToken(row.user_id, sessionId, now, row), tokenType: "Bearer", expiresIn: TTL, user });
    answer(res, 200, body, `${sessionId}.${b64(successor)}`, origin);
  });
});
server.listen(0, "127.0.0.1", () => {
  ISSUER = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`${ISSUER}\n`);
});
