// Closed-loop load generator for "the call a browser makes to get a fresh access token":
//   hush:        POST /auth/refresh with the session's latest rotated cookie (each virtual user
//                follows its own rotation chain, as a browser does)
//   better-auth: GET /api/auth/token with the session cookie (no rotation)
// Usage: node bench-refresh.mjs hush|better-auth BASE_URL [users=20] [seconds=8]
// Prints one JSON line: {target, users, seconds, requests, rps, p50_ms, p99_ms, errors, statuses}.
const [target, base, usersArg = "20", secondsArg = "8"] = process.argv.slice(2);
if (!["hush", "better-auth"].includes(target) || !base) {
  console.error("usage: node bench-refresh.mjs hush|better-auth BASE_URL [users] [seconds]");
  process.exit(2);
}
const users = Number(usersArg);
const seconds = Number(secondsArg);
const origin = new URL(base).origin;
const rand = () => Math.random().toString(36).slice(2, 10);

function cookieFrom(res, names) {
  for (const c of res.headers.getSetCookie()) {
    const [nv] = c.split(";");
    const i = nv.indexOf("=");
    const name = nv.slice(0, i).trim();
    if (names.some((n) => name === n || name.endsWith(n))) return `${name}=${nv.slice(i + 1).trim()}`;
  }
  return null;
}

async function newSession() {
  const email = `bench-${rand()}@example.com`;
  const password = `Bench-${rand()}-pw!`;
  if (target === "hush") {
    const res = await fetch(`${base}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hush-csrf": "1", origin },
      body: JSON.stringify({ email, password }),
    });
    await res.text();
    if (res.status !== 201) throw new Error(`signup -> ${res.status}`);
    return { cookie: cookieFrom(res, ["hush_rt"]) };
  }
  const res = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ email, password, name: "bench" }),
  });
  await res.text();
  if (res.status !== 200) throw new Error(`sign-up -> ${res.status}`);
  return { cookie: cookieFrom(res, ["session_token"]) };
}

async function once(s) {
  if (target === "hush") {
    const res = await fetch(`${base}/auth/refresh`, { method: "POST", headers: { cookie: s.cookie, "x-hush-csrf": "1", origin } });
    await res.arrayBuffer();
    const next = cookieFrom(res, ["hush_rt"]);
    if (next) s.cookie = next;
    return res.status;
  }
  const res = await fetch(`${base}/api/auth/token`, { headers: { cookie: s.cookie, origin } });
  await res.arrayBuffer();
  return res.status;
}

const sessions = [];
for (let i = 0; i < users; i++) sessions.push(await newSession());
// BENCH_READY_FILE: written once the sessions exist, so a caller can start measuring the server's
// CPU at the loop and leave the sign-ups (password hashing) out of it.
if (process.env.BENCH_READY_FILE) (await import("node:fs")).writeFileSync(process.env.BENCH_READY_FILE, String(Date.now()));
const lat = [];
const statuses = {};
let errors = 0;
const end = Date.now() + seconds * 1000;
await Promise.all(
  sessions.map(async (s) => {
    while (Date.now() < end) {
      const t = performance.now();
      try {
        const st = await once(s);
        statuses[st] = (statuses[st] ?? 0) + 1;
        if (st !== 200) errors++;
      } catch {
        errors++;
      }
      lat.push(performance.now() - t);
    }
  }),
);
lat.sort((a, b) => a - b);
const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 10) / 10;
console.log(
  JSON.stringify({
    target,
    users,
    seconds,
    requests: lat.length,
    rps: Math.round(lat.length / seconds),
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    errors,
    statuses,
  }),
);
