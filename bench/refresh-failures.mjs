// What a refused refresh costs the server, against a good one, for a session 10,000 rotations
// old (finding: a forged `<sid>.<secret>` once cost a walk of up to 10,000 HMACs). Measured
// in process, as CPU time of this process per request (process.cpuUsage), interleaved rounds.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, round, writeDocSection } from "./lib.mjs";

const { createAuthServer } = await import("@hush/server");

const ISSUER = "http://127.0.0.1:4000";
const GENERATIONS = Number(process.env.BENCH_GENERATIONS ?? 10_000);
const PER_ROUND = 1_000;
const ROUNDS = 5;

function refreshRequest(cookie) {
  return new Request(`${ISSUER}/auth/refresh`, { method: "POST", headers: { "x-hush-csrf": "1", cookie } });
}

const cookieOf = (response) => response.headers.getSetCookie()[0]?.split(";")[0];

function cpuMicros(run) {
  return async () => {
    const before = process.cpuUsage();
    await run();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / PER_ROUND;
  };
}

export async function benchRefreshFailures() {
  const folder = mkdtempSync(join(tmpdir(), "hush-bench-rf-"));
  const server = await createAuthServer({
    secret: new Uint8Array(32).fill(9),
    issuer: ISSUER,
    databaseUrl: `sqlite:${join(folder, "rf.db")}`,
    rateLimits: false,
    logLevel: "silent",
    pruneIntervalSeconds: 0,
  });
  try {
    const signup = await server.fetch(
      new Request(`${ISSUER}/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hush-csrf": "1" },
        body: JSON.stringify({ email: "old@example.com", password: "violet-otter-keeps-42-secrets" }),
      }),
    );
    let cookie = cookieOf(signup);
    console.log(`bench: building a session ${GENERATIONS} rotations old`);
    for (let i = 0; i < GENERATIONS; i++) cookie = cookieOf(await server.fetch(refreshRequest(cookie)));
    const [name, value] = cookie.split("=");
    const sid = value.split(".")[0];
    const good = cpuMicros(async () => {
      for (let i = 0; i < PER_ROUND; i++) {
        const response = await server.fetch(refreshRequest(cookie));
        if (response.status !== 200) throw new Error(`good refresh answered ${response.status}`);
        cookie = cookieOf(response);
      }
    });
    const forged = cpuMicros(async () => {
      for (let i = 0; i < PER_ROUND; i++) {
        const response = await server.fetch(refreshRequest(`${name}=${sid}.${randomBytes(32).toString("base64url")}`));
        if (response.status !== 401) throw new Error(`forged refresh answered ${response.status}`);
      }
    });
    const unknown = cpuMicros(async () => {
      for (let i = 0; i < PER_ROUND; i++) {
        const response = await server.fetch(
          refreshRequest(`${name}=${randomBytes(16).toString("base64url")}.${randomBytes(32).toString("base64url")}`),
        );
        if (response.status !== 401) throw new Error(`unknown refresh answered ${response.status}`);
      }
    });
    const results = { good: [], forged: [], unknown: [] };
    for (let r = 0; r < ROUNDS; r++) {
      results.good.push(await good());
      results.forged.push(await forged());
      results.unknown.push(await unknown());
    }
    const summary = {
      generations: GENERATIONS,
      goodMicros: round(median(results.good), 0),
      forgedMicros: round(median(results.forged), 0),
      unknownMicros: round(median(results.unknown), 0),
    };
    summary.forgedRatio = round(summary.forgedMicros / summary.goodMicros, 2);
    writeDocSection(
      "refresh-failures",
      [
        "## What a refused refresh costs",
        "",
        `Measured ${new Date().toISOString().slice(0, 10)} on ${process.version}, in process (\`server.fetch\`, SQLite), CPU time per request, median of ${ROUNDS} interleaved rounds of ${PER_ROUND}, for a session ${GENERATIONS} rotations old.`,
        "",
        "| refresh | CPU µs per request | against a good refresh |",
        "|---|---|---|",
        `| good (current secret, rotates) | ${summary.goodMicros} | 1× |`,
        `| forged secret for that live session | ${summary.forgedMicros} | ${summary.forgedRatio}× |`,
        `| unknown session | ${summary.unknownMicros} | ${round(summary.unknownMicros / summary.goodMicros, 2)}× |`,
        "",
        "A forged secret used to be walked forward up to 10,000 HMACs looking for a retired ancestor (117–141 ms for such a session). Every secret now carries a 128-bit tag, HMAC(tag key, session ‖ body): a forged one fails it after one HMAC, and only a genuine retired secret — a stolen token, replayed — is walked, once, since the walk ends the session.",
      ].join("\n"),
    );
    return summary;
  } finally {
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
