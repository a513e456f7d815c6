// Soak: ten minutes (SOAK_SECONDS) of mixed traffic against one `hush serve` on SQLite —
// sign-ups, logins, refresh chains, /auth/me, logouts and revocation-feed polls — with the
// server's RSS and event-loop delay sampled every second from inside it (bench/soak-probe.mjs).
// Targets: RSS under 150 MB and flat over the last five minutes; p99 event-loop delay under
// 20 ms outside the login bursts (argon2id runs on the thread pool, but shares the 2 cores).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, median, percentile, ROOT, round, startProcess, writeDocSection } from "./lib.mjs";

const HUSH_BIN = join(ROOT, "packages/server/bin/hush.js");
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const USERS = 24;
/** Every minute, a burst of logins this long. */
const BURST_EVERY_S = 60;
const BURST_FOR_S = 10;
/** Pause between one browser's loops outside the bursts. */
const PACE_MS = 400;
const PASSWORD = "violet-otter-keeps-42-secrets";
const JSON_HEADERS = { "content-type": "application/json", "x-hush-csrf": "1" };

const cookieOf = (response) =>
  response.headers
    .getSetCookie()
    .find((c) => c.includes("hush_rt="))
    ?.split(";")[0];

async function post(url, path, { cookie, json, token } = {}) {
  const headers = { ...JSON_HEADERS };
  if (cookie) headers.cookie = cookie;
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}${path}`, { method: "POST", headers, body: json ? JSON.stringify(json) : undefined });
  const body = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  return { status: response.status, cookie: cookieOf(response), body };
}

/** One simulated browser: signs up, then loops — refresh, a few API calls, sometimes log out and in again. */
async function user(url, index, clock, counts) {
  const email = `soak${index}-${Date.now()}@example.com`;
  let session = await post(url, "/auth/signup", { json: { email, password: PASSWORD } });
  counts.signup++;
  let { cookie } = session;
  let token = session.body?.accessToken;
  let loop = 0;
  while (!clock.done) {
    loop++;
    const refreshed = await post(url, "/auth/refresh", { cookie });
    counts.refresh++;
    if (refreshed.status !== 200) throw new Error(`refresh answered ${refreshed.status}`);
    cookie = refreshed.cookie;
    token = refreshed.body.accessToken;
    for (let i = 0; i < 3; i++) {
      const me = await fetch(`${url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      await me.arrayBuffer();
      counts.me++;
    }
    const inBurst = clock.seconds() % BURST_EVERY_S < BURST_FOR_S;
    if (loop % 50 === 0 || inBurst) {
      await post(url, "/auth/logout", { cookie });
      counts.logout++;
      session = await post(url, "/auth/login", { json: { email, password: PASSWORD } });
      counts.login++;
      if (session.status !== 200) throw new Error(`login answered ${session.status}`);
      cookie = session.cookie;
    }
    // A steady pace outside bursts (about 200 requests/s in all), none inside them.
    await new Promise((r) => setTimeout(r, inBurst ? 0 : PACE_MS));
  }
}

/** A resource server polling the feed every second with its ETag. */
async function feedPoller(url, clock, counts) {
  let etag;
  while (!clock.done) {
    const response = await fetch(`${url}/auth/revocations`, { headers: etag ? { "if-none-match": etag } : {} });
    await response.arrayBuffer();
    etag = response.headers.get("etag") ?? etag;
    counts.feed++;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function benchSoak() {
  const folder = mkdtempSync(join(tmpdir(), "hush-soak-"));
  const probeFile = join(folder, "probe.jsonl");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startProcess(process.execPath, ["--import", join(ROOT, "bench/soak-probe.mjs"), HUSH_BIN, "serve"], {
    url: `${url}/health`,
    env: {
      PORT: String(port),
      HUSH_SECRET: "cd".repeat(32),
      HUSH_DATABASE_URL: `sqlite:${join(folder, "soak.db")}`,
      HUSH_RATE_LIMITS: "off",
      HUSH_ACCESS_TTL: "60s",
      HUSH_LOG_LEVEL: "warn",
      SOAK_PROBE_FILE: probeFile,
    },
  });
  const started = Date.now();
  const clock = { done: false, seconds: () => Math.floor((Date.now() - started) / 1000) };
  const counts = { signup: 0, login: 0, refresh: 0, me: 0, logout: 0, feed: 0 };
  console.log(`bench: soak for ${SECONDS} s (${USERS} browsers, a login burst every ${BURST_EVERY_S} s, feed polls)`);
  const timer = setTimeout(() => {
    clock.done = true;
  }, SECONDS * 1000);
  try {
    await Promise.all([
      ...Array.from({ length: USERS }, (_, i) => user(url, i, clock, counts)),
      feedPoller(url, clock, counts),
      feedPoller(url, clock, counts),
    ]);
  } finally {
    clearTimeout(timer);
    await server.stop();
  }
  const samples = readFileSync(probeFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line))
    .filter((s) => s.t <= SECONDS);
  rmSync(folder, { recursive: true, force: true });
  return summarize(samples, counts);
}

function summarize(samples, counts) {
  const burst = (s) => Math.floor(s.t) % BURST_EVERY_S < BURST_FOR_S + 1;
  const steady = samples.filter((s) => !burst(s)).map((s) => s.p99Ms);
  const inBurst = samples.filter(burst).map((s) => s.p99Ms);
  const half = SECONDS / 2;
  const lastHalf = samples.filter((s) => s.t > half);
  const minuteMedian = (from, to) => median(samples.filter((s) => s.t > from && s.t <= to).map((s) => s.rssMb));
  const growthMb = minuteMedian(SECONDS - 60, SECONDS) - minuteMedian(half, half + 60);
  const peakRss = Math.max(...samples.map((s) => s.rssMb));
  const result = {
    seconds: SECONDS,
    requests: counts,
    peakRssMb: round(peakRss, 1),
    lastHalfRssMb: [round(Math.min(...lastHalf.map((s) => s.rssMb)), 1), round(Math.max(...lastHalf.map((s) => s.rssMb)), 1)],
    rssGrowthLastHalfMb: round(growthMb, 1),
    steadyP99DelayMs: round(
      percentile(
        [...steady].sort((a, b) => a - b),
        0.99,
      ),
      2,
    ),
    steadyMedianP99DelayMs: round(median(steady), 2),
    burstP99DelayMs: round(
      percentile(
        [...inBurst].sort((a, b) => a - b),
        0.99,
      ),
      2,
    ),
  };
  // One point per 30 s for the chart: the median of that half-minute.
  const points = [];
  for (let t = 30; t <= SECONDS; t += 30) {
    const window = samples.filter((s) => s.t > t - 30 && s.t <= t);
    if (window.length > 0)
      points.push({ t, rss: round(median(window.map((s) => s.rssMb)), 1), p99: round(median(window.map((s) => s.p99Ms)), 2) });
  }
  writeDocSection(
    "soak",
    [
      "## Soak: ten minutes of mixed traffic",
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} on ${process.version}: one \`hush serve\` on SQLite, ${USERS} simulated browsers (a loop every ${PACE_MS} ms: a refresh and three \`/auth/me\`; a logout and a fresh login every fiftieth loop, and every loop without a pause during a ${BURST_FOR_S}-second login burst each minute) and two resource servers polling the revocation feed every second with their ETag; load generator on the same 2 cores. RSS and event-loop delay are sampled every second inside the server (\`bench/soak-probe.mjs\`, preloaded with \`--import\`).`,
      "",
      `Requests: ${Object.entries(counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}.`,
      "",
      "| | measured | target |",
      "|---|---|---|",
      `| peak RSS | ${result.peakRssMb} MB | < 150 MB |`,
      `| RSS over the last five minutes | ${result.lastHalfRssMb[0]}–${result.lastHalfRssMb[1]} MB; median of the last minute minus that of minute five: ${result.rssGrowthLastHalfMb} MB | flat |`,
      `| event-loop delay outside login bursts (p99 of the per-second p99s) | ${result.steadyP99DelayMs} ms (median ${result.steadyMedianP99DelayMs} ms) | < 20 ms |`,
      `| event-loop delay during login bursts (p99 of the per-second p99s) | ${result.burstP99DelayMs} ms | — |`,
      "",
      "```mermaid",
      "xychart-beta",
      '  title "Server RSS (MB), median per 30 s"',
      `  x-axis "seconds" [${points.map((p) => p.t).join(", ")}]`,
      `  y-axis "MB" 0 --> ${Math.max(150, Math.ceil(peakRss / 10) * 10)}`,
      `  line [${points.map((p) => p.rss).join(", ")}]`,
      "```",
      "",
      "```mermaid",
      "xychart-beta",
      '  title "Event-loop delay p99 (ms), median per 30 s"',
      `  x-axis "seconds" [${points.map((p) => p.t).join(", ")}]`,
      `  y-axis "ms" 0 --> ${Math.max(20, Math.ceil(Math.max(...points.map((p) => p.p99)) / 5) * 5)}`,
      `  line [${points.map((p) => p.p99).join(", ")}]`,
      "```",
    ].join("\n"),
  );
  return result;
}
