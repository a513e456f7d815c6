// Verification benchmarks (issue: @hush/verify speed). Every figure is a ratio to a baseline
// measured in this same process and run: raw node:crypto for verify operations, a bare
// handler for HTTP requests per second.
import { spawn } from "node:child_process";
import { createHmac, createPublicKey, createSecretKey, verify as cryptoVerify, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { join } from "node:path";
import { median, ROOT, round, writeDocSection } from "./lib.mjs";

const { createVerifier } = await import(join(ROOT, "packages/verify/dist/index.js"));
// The WebCrypto path (`@hush/verify/edge`), measured here on Node beside the node:crypto one.
const { createVerifier: createEdgeVerifier } = await import(join(ROOT, "packages/verify/dist/edge.js"));
const jose = await import("jose");
const { createVerifier: fastJwtVerifier } = await import("fast-jwt");
const jsonwebtoken = (await import("jsonwebtoken")).default;

const ISSUER = "https://auth.bench.test";
const AUDIENCE = "bench-api";
const ALGS = ["EdDSA", "ES256", "RS256", "HS256"];
const OPS_SECONDS = Number(process.env.BENCH_OPS_SECONDS ?? 1.5);
const HTTP_SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
const HTTP_ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const b64 = (v) => Buffer.from(v).toString("base64url");

function makeKey(alg) {
  if (alg === "HS256") {
    const secret = Buffer.from("s".repeat(32) + randomUUID());
    return { alg, kid: "hs", secret, privateKey: createSecretKey(secret) };
  }
  const pair =
    alg === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : alg === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    alg,
    kid: `${alg}-k`,
    ...pair,
    jwk: { ...pair.publicKey.export({ format: "jwk" }), kid: `${alg}-k`, alg, use: "sig" },
    pem: pair.publicKey.export({ format: "pem", type: "spki" }),
  };
}

function signToken(key, nowS) {
  const header = { alg: key.alg, kid: key.kid, typ: "at+jwt" };
  const payload = {
    iss: ISSUER,
    sub: randomUUID(),
    aud: AUDIENCE,
    iat: nowS,
    exp: nowS + 600,
    jti: randomUUID(),
    sid: randomUUID().slice(0, 22),
    client_id: "hush-web",
    auth_time: nowS,
  };
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const data = Buffer.from(input);
  let sig;
  if (key.alg === "HS256") sig = createHmac("sha256", key.secret).update(data).digest();
  else if (key.alg === "EdDSA") sig = sign(null, data, key.privateKey);
  else if (key.alg === "ES256") {
    sig = sign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" });
    const s = BigInt(`0x${sig.subarray(32).toString("hex")}`);
    if (s > P256_N >> 1n) sig = Buffer.concat([sig.subarray(0, 32), Buffer.from((P256_N - s).toString(16).padStart(64, "0"), "hex")]);
  } else sig = sign("sha256", data, key.privateKey);
  return `${input}.${b64(sig)}`;
}

/** The baseline: what any correct verifier must at least do, with node:crypto and nothing else. */
function rawVerifier(key) {
  const publicKey = key.alg === "HS256" ? key.privateKey : createPublicKey(key.pem);
  const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
  return (token) => {
    if (!COMPACT.test(token)) throw new Error("malformed");
    const a = token.indexOf(".");
    const b = token.indexOf(".", a + 1);
    const header = JSON.parse(Buffer.from(token.slice(0, a), "base64url").toString());
    const payload = JSON.parse(Buffer.from(token.slice(a + 1, b), "base64url").toString());
    const data = Buffer.from(token.slice(0, b));
    const sig = Buffer.from(token.slice(b + 1), "base64url");
    let ok;
    if (header.alg === "HS256") ok = createHmac("sha256", publicKey).update(data).digest().equals(sig);
    else if (header.alg === "EdDSA") ok = cryptoVerify(null, data, publicKey, sig);
    else if (header.alg === "ES256") ok = cryptoVerify("sha256", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, sig);
    else ok = cryptoVerify("sha256", data, publicKey, sig);
    if (!ok || payload.exp * 1000 < Date.now()) throw new Error("invalid");
    return payload;
  };
}

/**
 * Counts operations of `fn` over `tokens` (cycled from `start`) for `seconds`: one at a time,
 * or with `isAsync === "concurrent"` 32 in flight at once.
 */
async function slice(fn, tokens, isAsync, seconds, start) {
  let ops = 0;
  let i = start;
  const begin = performance.now();
  const end = begin + seconds * 1000;
  const batch = new Array(32);
  while (performance.now() < end) {
    if (isAsync === "concurrent") {
      for (let j = 0; j < 32; j++) batch[j] = fn(tokens[i++ % tokens.length]);
      await Promise.all(batch);
    } else {
      for (let j = 0; j < 32; j++) {
        const t = tokens[i++ % tokens.length];
        if (isAsync) await fn(t);
        else fn(t);
      }
    }
    ops += 32;
  }
  return { ops, ms: performance.now() - begin, next: i };
}

/**
 * Operations per second of each candidate, measured in interleaved slices (five rounds, every
 * candidate once per round) so that drift in the machine's speed hits all of them alike.
 */
async function interleaved(candidates) {
  for (const c of candidates) await slice(c.fn, c.tokens, c.isAsync, 0.1, 0); // warm-up
  const totals = candidates.map(() => ({ ops: 0, ms: 0, next: 0 }));
  for (let round = 0; round < 5; round++) {
    for (const [k, c] of candidates.entries()) {
      const t = totals[k];
      const r = await slice(c.fn, c.tokens, c.isAsync, OPS_SECONDS / 5, t.next);
      t.ops += r.ops;
      t.ms += r.ms;
      t.next = r.next;
    }
  }
  return Object.fromEntries(candidates.map((c, k) => [c.name, totals[k].ops / (totals[k].ms / 1000)]));
}

async function verifyOps() {
  const nowS = Math.floor(Date.now() / 1000);
  const rows = [];
  for (const alg of ALGS) {
    const key = makeKey(alg);
    const fresh = Array.from({ length: alg === "RS256" ? 3000 : 20_000 }, () => signToken(key, nowS));
    // A realistic stream: 200 tokens, each sent about 100 times, interleaved.
    const distinct = Array.from({ length: 200 }, () => signToken(key, nowS));
    const stream = Array.from({ length: 20_000 }, (_, i) => distinct[(i * 7919) % distinct.length]);
    const options = alg === "HS256" ? { secret: [{ kid: key.kid, secret: key.secret }] } : { keys: [key.jwk] };
    const hush = createVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options, cacheSize: 10_000 });
    const joseKey = alg === "HS256" ? key.secret : await jose.importJWK(key.jwk, alg);
    const joseVerify = (t) => jose.jwtVerify(t, joseKey, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg], typ: "at+jwt" });
    const fast = fastJwtVerifier({
      key: alg === "HS256" ? key.secret : key.pem,
      algorithms: [alg],
      allowedIss: ISSUER,
      allowedAud: AUDIENCE,
      cache: false,
    });
    const jwtKey = alg === "HS256" ? key.secret : key.pem;
    const raw = rawVerifier(key);
    // Fresh tokens: a verifier with the cache off sees every token for the first time, as it
    // would on a stream of never-repeated tokens (the cache is measured by the stream).
    const hushFresh = createVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options, cacheSize: 0 });
    const edgeFresh = createEdgeVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options, cacheSize: 0 });
    const edgeStream = createEdgeVerifier({ issuer: ISSUER, audience: AUDIENCE, ...options, cacheSize: 10_000 });
    const candidates = [
      { name: "raw", fn: raw, tokens: fresh, isAsync: false },
      { name: "hushFresh", fn: hushFresh, tokens: fresh, isAsync: true },
      { name: "hushStream", fn: hush, tokens: stream, isAsync: true },
      { name: "edgeFresh", fn: edgeFresh, tokens: fresh, isAsync: true },
      { name: "edgeConcurrent", fn: edgeFresh, tokens: fresh, isAsync: "concurrent" },
      { name: "edgeStream", fn: edgeStream, tokens: stream, isAsync: true },
      { name: "jose", fn: joseVerify, tokens: fresh, isAsync: true },
      { name: "fastJwt", fn: fast, tokens: fresh, isAsync: false },
    ];
    if (alg !== "EdDSA")
      candidates.push({
        name: "jsonwebtoken",
        fn: (t) => jsonwebtoken.verify(t, jwtKey, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }),
        tokens: fresh,
        isAsync: false,
      });
    const row = { alg, jsonwebtoken: Number.NaN, ...(await interleaved(candidates)) };
    rows.push(row);
    console.log(
      `  ${alg.padEnd(6)} raw ${Math.round(row.raw)}/s  hush fresh ${round(row.hushFresh / row.raw, 2)}×  stream ${round(row.hushStream / row.raw, 1)}×  jose ${round(row.jose / row.raw, 2)}×  fast-jwt ${round(row.fastJwt / row.raw, 2)}×  jsonwebtoken ${round(row.jsonwebtoken / row.raw, 2)}×`,
    );
    console.log(
      `         WebCrypto path ${Math.round(row.edgeFresh)}/s (${round(1e6 / row.edgeFresh, 1)} µs) = ${round(row.edgeFresh / row.hushFresh, 2)}× the Node path (${Math.round(row.hushFresh)}/s, ${round(1e6 / row.hushFresh, 1)} µs)  32 in flight ${round(row.edgeConcurrent / row.hushFresh, 2)}×  stream ${round(row.edgeStream / row.hushStream, 2)}×`,
    );
  }
  return rows;
}

/** Runs autocannon in its own process against `url` with the realistic token stream. */
function load(url, tokens, seconds) {
  return new Promise((resolve, reject) => {
    const script = `
      const autocannon = require(${JSON.stringify(join(ROOT, "node_modules/autocannon"))});
      const tokens = ${JSON.stringify(tokens)};
      let i = 0;
      autocannon({ url: ${JSON.stringify(url)}, connections: 20, duration: ${seconds},
        requests: [{ setupRequest: (req) => { req.headers = { ...req.headers, authorization: "Bearer " + tokens[(i++ * 7919) % tokens.length] }; return req; } }] },
        (err, r) => { if (err) { console.error(err); process.exit(1); } console.log(JSON.stringify({ rps: r.requests.average, non2xx: r.non2xx, errors: r.errors })); });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1))) : reject(new Error(`autocannon exited ${code}`)),
    );
  });
}

async function serveChild(kind, guarded, jwk) {
  const child = spawn(process.execPath, [join(ROOT, "bench/verify-servers.mjs"), kind, guarded ? "guarded" : "bare", JSON.stringify(jwk)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    child.stdout.once("data", (c) => resolve(String(c).trim()));
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill();
    });
  return { url, stop };
}

async function guardRps() {
  const key = makeKey("EdDSA");
  const nowS = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: 200 }, () => signToken(key, nowS));
  const rows = [];
  for (const kind of ["node", "express", "fastify", "hono"]) {
    const results = { bare: [], guarded: [] };
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      for (const guarded of [false, true]) {
        const server = await serveChild(kind, guarded, key.jwk);
        const r = await load(`${server.url}/`, tokens, HTTP_SECONDS);
        await server.stop();
        if (r.non2xx > 0 || r.errors > 0)
          throw new Error(`${kind} ${guarded ? "guarded" : "bare"}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        results[guarded ? "guarded" : "bare"].push(r.rps);
      }
    }
    const bare = median(results.bare);
    const guarded = median(results.guarded);
    rows.push({ kind, bare, guarded, ratio: guarded / bare });
    console.log(`  ${kind.padEnd(8)} bare ${Math.round(bare)} req/s  guarded ${Math.round(guarded)} req/s  ${round(guarded / bare, 2)}×`);
  }
  return rows;
}

export async function benchVerify() {
  console.log("bench: verify operations per second, single thread");
  const ops = await verifyOps();
  console.log("bench: requests per second over loopback, bare handler vs guarded (EdDSA, realistic token stream)");
  const http = await guardRps();
  const fmt = (x) => (Number.isNaN(x) ? "—" : `${round(x, 2)}×`);
  const lines = [
    "## Verification (`@hush/verify`)",
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on ${process.version}, single thread. Ratios to raw node:crypto (strict decode + JSON.parse + signature check with a pre-imported key + exp check) on the same tokens, in the same run.`,
    "",
    "| alg | raw node:crypto ops/s | @hush/verify fresh | @hush/verify stream (each token ~100×) | jose | fast-jwt | jsonwebtoken |",
    "|---|---|---|---|---|---|---|",
    ...ops.map(
      (r) =>
        `| ${r.alg} | ${Math.round(r.raw)} | ${fmt(r.hushFresh / r.raw)} | ${fmt(r.hushStream / r.raw)} | ${fmt(r.jose / r.raw)} | ${fmt(r.fastJwt / r.raw)} | ${fmt(r.jsonwebtoken / r.raw)} |`,
    ),
    "",
    "Targets: fresh ≥ 0.9× raw for EdDSA, ES256, RS256 and ≥ 0.7× for HS256, ahead of jose, fast-jwt and jsonwebtoken on every algorithm; the stream ≥ 20× raw EdDSA. jsonwebtoken has no EdDSA.",
    "",
    `Met: ${ops
      .map((r) => {
        const target = r.alg === "HS256" ? 0.7 : 0.9;
        const fresh = r.hushFresh / r.raw;
        const ahead = r.hushFresh > r.jose && r.hushFresh > r.fastJwt && (Number.isNaN(r.jsonwebtoken) || r.hushFresh > r.jsonwebtoken);
        return `${r.alg} fresh ${fresh >= target ? "yes" : "**no**"}, ahead of the others ${ahead ? "yes" : "**no**"}`;
      })
      .join("; ")}; EdDSA stream ${ops[0].hushStream / ops[0].raw >= 20 ? "yes" : "**no**"}.`,
    "",
    "### The WebCrypto path (`@hush/verify/edge`) beside the Node path",
    "",
    "The same tokens, in the same interleaved rounds as the table above, on Node: `@hush/verify/edge` checks signatures with `crypto.subtle` (asynchronous), the Node path with node:crypto (synchronous). Both are awaited one at a time unless said otherwise; fresh tokens with the cache off, the stream with it on. On an edge runtime the WebCrypto path is the only one; this is what it costs where both exist.",
    "",
    "| alg | Node path: verifies/s (µs each) | WebCrypto path: verifies/s (µs each) | WebCrypto ÷ Node | WebCrypto, 32 in flight ÷ Node | stream: WebCrypto ÷ Node |",
    "|---|---|---|---|---|---|",
    ...ops.map(
      (r) =>
        `| ${r.alg} | ${Math.round(r.hushFresh)} (${round(1e6 / r.hushFresh, 1)}) | ${Math.round(r.edgeFresh)} (${round(1e6 / r.edgeFresh, 1)}) | ${fmt(r.edgeFresh / r.hushFresh)} | ${fmt(r.edgeConcurrent / r.hushFresh)} | ${fmt(r.edgeStream / r.hushStream)} |`,
    ),
    "",
    "### Guards over HTTP (loopback, 20 connections, autocannon in its own process, EdDSA, 200 tokens each sent ~100×)",
    "",
    "| framework | bare handler req/s | behind the guard req/s | ratio |",
    "|---|---|---|---|",
    ...http.map((r) => `| ${r.kind} | ${Math.round(r.bare)} | ${Math.round(r.guarded)} | ${round(r.ratio, 2)}× |`),
    "",
    `Target: each guard ≥ 0.85× its bare handler (median of ${HTTP_ROUNDS} rounds each, bare and guarded alternating). Load generator and server share the 2 cores, so single rounds swing by ±30%; the medians are what to read.`,
  ];
  writeDocSection("verify", lines.join("\n"));
  return { ops, http };
}
