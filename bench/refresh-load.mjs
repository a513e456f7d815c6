// Closed-loop refresh load, like bench/peers/bench-refresh.mjs but spread round-robin over
// several base URLs (client-side balancing, as for instances behind one address).
// Usage: node refresh-load.mjs USERS SECONDS ORIGIN BASE_URL [BASE_URL…]  → one JSON line.
const [usersArg, secondsArg, origin, ...bases] = process.argv.slice(2);
const users = Number(usersArg);
const seconds = Number(secondsArg);
const rand = () => Math.random().toString(36).slice(2, 10);
const cookieFrom = (res) => {
  for (const c of res.headers.getSetCookie()) {
    const pair = c.split(";")[0];
    if (/hush_rt=/.test(pair)) return pair;
  }
  return null;
};
let turn = 0;
const base = () => bases[turn++ % bases.length];
const headers = (extra = {}) => ({ "content-type": "application/json", "x-hush-csrf": "1", origin, ...extra });

const sessions = [];
for (let i = 0; i < users; i++) {
  const res = await fetch(`${base()}/auth/signup`, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ email: `load-${rand()}@example.com`, password: `Load-${rand()}-pw!` }),
  });
  await res.text();
  if (res.status !== 201) throw new Error(`signup -> ${res.status}`);
  sessions.push({ cookie: cookieFrom(res) });
}
const lat = [];
let errors = 0;
const end = Date.now() + seconds * 1000;
await Promise.all(
  sessions.map(async (s) => {
    while (Date.now() < end) {
      const t = performance.now();
      try {
        const res = await fetch(`${base()}/auth/refresh`, { method: "POST", headers: headers({ cookie: s.cookie }) });
        await res.arrayBuffer();
        const next = cookieFrom(res);
        if (next) s.cookie = next;
        if (res.status !== 200) errors++;
      } catch {
        errors++;
      }
      lat.push(performance.now() - t);
    }
  }),
);
lat.sort((a, b) => a - b);
const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 10) / 10;
console.log(JSON.stringify({ requests: lat.length, rps: Math.round(lat.length / seconds), p50_ms: q(0.5), p99_ms: q(0.99), errors }));
