import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { EdgeRuntime, runServer } from "edge-runtime";
import { build, type Plugin } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attackCases, optionCases } from "./attack-cases.js";
import { type AttackCase, mismatches } from "./attack-runner.js";
import { type LocalIssuer, startLocalIssuer } from "./local-issuer.js";
import { AUDIENCE, claimsAt, makeKey, token } from "./token-factory.js";

// `@hush/verify/edge` proven where it is meant to run: bundled for a runtime that is not Node
// (esbuild, platform "neutral", any `node:` module or Node builtin fails the build check), then
// loaded into Vercel's edge runtime (`edge-runtime`: no Buffer, no process, WebCrypto only),
// where it runs the same attack cases as Node, fetches a JWKS and a revocation feed over HTTP
// from 127.0.0.1, and guards a Hono app.

const HERE = fileURLToPath(new URL(".", import.meta.url));
const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/** Collects every Node module an esbuild bundle refers to (and leaves it external, so the build can finish and tell). */
function nodeModules(found: string[]): Plugin {
  const builtins = new Set(builtinModules);
  return {
    name: "node-modules",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.replace(/^node:/, "");
        if (args.path.startsWith("node:") || builtins.has(bare) || builtins.has(bare.split("/")[0] as string)) {
          found.push(`${args.path} (from ${args.importer.replace(SRC, "src/").replace(HERE, "test/")})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
}

/** Bundles for a runtime that is not Node: no Node main fields or conditions, no builtins. */
async function bundleNeutral(options: { entryPoints?: string[]; stdin?: { contents: string; resolveDir: string } }) {
  const found: string[] = [];
  const result = await build({
    ...options,
    bundle: true,
    write: false,
    platform: "neutral",
    format: options.stdin ? "iife" : "esm",
    target: "es2022",
    // The workspace packages' TypeScript sources, as the tests resolve them.
    conditions: ["source"],
    legalComments: "none",
    outdir: options.stdin ? undefined : "out",
    metafile: true,
    logLevel: "silent",
    plugins: [nodeModules(found)],
  });
  const code = result.outputFiles.map((f) => f.text).join("\n");
  return { found, code, inputs: Object.keys(result.metafile.inputs) };
}

/** Node globals an edge runtime does not have, as the bundled code would refer to them. */
const NODE_GLOBALS = /\b(Buffer|process|require|__dirname|__filename|setImmediate|global)\s*[.([]/g;

describe("the edge entry's import graph", () => {
  it("bundles @hush/verify/edge and @hush/verify/hono with no node: module, Node builtin or Node global", async () => {
    const { found, code, inputs } = await bundleNeutral({ entryPoints: [`${SRC}edge.ts`, `${SRC}hono.ts`] });
    expect(found).toEqual([]);
    expect(code.match(NODE_GLOBALS) ?? []).toEqual([]);
    // The node:crypto half of the package stays out of the graph.
    expect(inputs.filter((file) => /verify\/src\/(algorithms|create-verifier|express|fastify|node|index)\.ts$/.test(file))).toEqual([]);
    expect(inputs.some((file) => file.endsWith("src/webcrypto.ts"))).toBe(true);
  });

  it("would catch one: the Node entry's graph names node:crypto", async () => {
    const { found } = await bundleNeutral({ entryPoints: [`${SRC}index.ts`] });
    expect(found).toContain("node:crypto (from src/algorithms.ts)");
  });
});

let runtime: EdgeRuntime;
const inEdge = <T>(code: string): Promise<T> => runtime.evaluate<Promise<T>>(code);

beforeAll(async () => {
  const { found, code } = await bundleNeutral({
    stdin: {
      resolveDir: HERE,
      contents: `
        import * as edge from "../src/edge.ts";
        import { hushHono } from "../src/hono.ts";
        import * as runner from "./attack-runner.ts";
        import { Hono } from "hono";
        globalThis.hush = { ...edge, ...runner, hushHono, Hono };
        globalThis.warnings = [];
      `,
    },
  });
  expect(found).toEqual([]);
  runtime = new EdgeRuntime({ initialCode: code });
  expect(runtime.evaluate("[typeof Buffer, typeof process, typeof crypto.subtle.verify, typeof hush.createVerifier]")).toEqual([
    "undefined",
    "undefined",
    "function",
    "function",
  ]);
});

describe("the shared attack cases, inside the edge runtime", () => {
  const groups = new Map<string, AttackCase[]>();
  for (const c of attackCases()) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  for (const [group, cases] of groups) {
    describe(group, () => {
      for (const c of cases) {
        it(c.name, async () => {
          const outcomes = await inEdge<string[]>(`hush.runAttackCase(hush.createVerifier, hush.isTokenError, ${JSON.stringify(c)})`);
          expect(mismatches(c, [...outcomes])).toEqual([]);
        });
      }
      if (group !== "verifier options") return;

      it("refuses bad options with an error naming the option", async () => {
        for (const c of optionCases())
          expect(await inEdge<string>(`hush.runOptionCase(hush.createVerifier, ${JSON.stringify(c)})`)).toMatch(new RegExp(c.error));
      });
    });
  }

  it("has no verifyNow: every verification is a promise, and rejects rather than throws", async () => {
    expect(
      await inEdge(`(async () => {
      const v = hush.createVerifier({ issuer: "https://a.test", audience: "x", secret: "${"A".repeat(43)}" });
      const pending = v("");
      return [typeof v.verifyNow, pending instanceof Promise, await pending.catch((e) => e.code)];
    })()`),
    ).toEqual(["undefined", true, "missing"]);
  });
});

describe("JWKS and revocation feed over HTTP, fetched from inside the edge runtime", () => {
  let clockMs = 1_800_000_000_000;
  let issuer: LocalIssuer;
  const keys = [makeKey("EdDSA", "ed"), makeKey("ES256", "es"), makeKey("RS256", "rs")];
  const setClock = (ms: number) => {
    clockMs = ms;
    return inEdge(`globalThis.clockMs = ${ms}`);
  };
  const nowS = () => Math.floor(clockMs / 1000);
  const signed = (key = keys[0], claims: Record<string, unknown> = {}) =>
    token(key as (typeof keys)[0], claimsAt(nowS(), { iss: issuer.url, ...claims }));
  const code = (verifier: string, t: string) => inEdge<string>(`hush.codeOf(${verifier}(${JSON.stringify(t)}), hush.isTokenError)`);

  beforeAll(async () => {
    issuer = await startLocalIssuer([...keys], () => clockMs);
    await setClock(clockMs);
    await inEdge(`globalThis.remote = hush.createVerifier({
      issuer: ${JSON.stringify(issuer.url)}, audience: ${JSON.stringify(AUDIENCE)}, jwksUrl: ${JSON.stringify(issuer.jwksUrl)},
      revocations: { pollSeconds: 3600 }, jwksCooldownSeconds: 0, now: () => globalThis.clockMs,
      onWarning: (m) => warnings.push(m),
    })`);
  });
  afterAll(() => issuer.close());

  it("fetches nothing at creation; the first verification fetches the JWKS and waits for the first feed poll", async () => {
    expect(issuer.hits).toEqual({});
    issuer.revoked = [{ sid: "revoked-session-aaaaa", until: nowS() + 600 }];
    // Revoked before this verifier ever saw a list: refused on its very first verification.
    expect(await code("remote", signed(keys[0], { sid: "revoked-session-aaaaa" }))).toBe("revoked");
    for (const key of keys) expect(await code("remote", signed(key))).toBe("accepted");
    expect(issuer.hits).toEqual({ "/.well-known/jwks.json": 1, "/auth/revocations": 1 });
    expect(await inEdge("remote.revocations.size")).toBe(1);
  });

  it("polls the feed again from a verification once pollSeconds have passed, asking for a delta", async () => {
    await setClock(clockMs + 3_601_000);
    issuer.revoked = [{ sid: "later-session-bbbbbbbb", until: nowS() + 600 }];
    // This verification starts the poll in the background and does not wait for it: it may see
    // the list before or after (on a loaded machine the poll can finish first).
    expect(["accepted", "revoked"]).toContain(await code("remote", signed(keys[1], { sid: "later-session-bbbbbbbb" })));
    // Waits for that background poll to be applied. (Not `pollRevocations()`: it joins a poll
    // still in flight, but starts a second one if the first has already finished.)
    await expect.poll(() => inEdge<number>("remote.revocations.fullLists"), { timeout: 5000 }).toBe(2);
    expect(issuer.feedQueries).toEqual(["", `?since=${nowS() - 3601}`]);
    expect(await code("remote", signed(keys[1], { sid: "later-session-bbbbbbbb" }))).toBe("revoked");
    // This issuer ignores `since` and answers full lists, as a server without deltas may.
    expect(await inEdge("[remote.revocations.fullLists, remote.revocations.failures]")).toEqual([2, 0]);
  });

  it("re-fetches the JWKS for an unknown kid, so a rotation needs no restart, and refuses kids it still cannot find", async () => {
    const rotated = makeKey("EdDSA", "ed-2");
    issuer.keys = [rotated, ...keys];
    const before = issuer.hits["/.well-known/jwks.json"] as number;
    expect(await code("remote", signed(rotated))).toBe("accepted");
    expect(await code("remote", signed(makeKey("EdDSA", "forged")))).toBe("unknown_key");
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(before + 2);
  });

  it("answers jwks_unavailable while the issuer is down and no key is known, then recovers", async () => {
    issuer.down = true;
    await inEdge(`globalThis.cold = hush.createVerifier({
      issuer: ${JSON.stringify(issuer.url)}, audience: ${JSON.stringify(AUDIENCE)}, jwksUrl: ${JSON.stringify(issuer.jwksUrl)},
      jwksCooldownSeconds: 0, now: () => globalThis.clockMs })`);
    expect(await code("cold", signed())).toBe("jwks_unavailable");
    issuer.down = false;
    expect(await code("cold", signed())).toBe("accepted");
  });
});

describe("fetches that never settle, inside the edge runtime", () => {
  // A platform may drop the I/O of a request once its response is sent (Cloudflare Workers do),
  // so a fetch one request started and others share may never settle: each wait is bounded.
  const key = makeKey("EdDSA", "k1");
  const nowMs = 1_800_000_000_000;
  const hanging = `fetch: () => { globalThis.fetchCalls += 1; return new Promise(() => {}); }, fetchTimeoutMs: 100, now: () => ${nowMs}`;
  const timed = (code: string) =>
    inEdge<[string, number, number]>(`(async () => {
      globalThis.fetchCalls = 0;
      const started = Date.now();
      const outcome = await hush.codeOf(${code}, hush.isTokenError);
      return [outcome, Date.now() - started, globalThis.fetchCalls];
    })()`);

  it("a JWKS fetch costs one bounded wait (jwks_unavailable), and a later verification starts a new one", async () => {
    const t = JSON.stringify(token(key, claimsAt(nowMs / 1000, { iss: "https://hang.test" })));
    await inEdge(`globalThis.hang = hush.createVerifier({ issuer: "https://hang.test", audience: ${JSON.stringify(AUDIENCE)},
      jwksUrl: "https://hang.test/jwks.json", jwksCooldownSeconds: 0, ${hanging} })`);
    const [first, waited, calls] = await timed(`hang(${t})`);
    expect([first, calls]).toEqual(["jwks_unavailable", 1]);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(3000);
    const [second, , again] = await timed(`hang(${t})`);
    expect([second, again]).toEqual(["jwks_unavailable", 1]);
  });

  it("the first feed poll holds verifications back once, for a bounded time", async () => {
    const t = JSON.stringify(token(key, claimsAt(nowMs / 1000)));
    await inEdge(`globalThis.hangFeed = hush.createVerifier({ issuer: "https://auth.example.test", audience: ${JSON.stringify(AUDIENCE)},
      keys: [${JSON.stringify(key.jwk)}], revocations: { pollSeconds: 3600 }, onWarning: () => {}, ${hanging} })`);
    const [first, waited, calls] = await timed(`hangFeed(${t})`);
    expect([first, calls]).toEqual(["accepted", 1]);
    expect(waited).toBeGreaterThanOrEqual(1000);
    const [second, quick] = await timed(`hangFeed(${t})`);
    expect(second).toBe("accepted");
    expect(quick).toBeLessThan(500);
  });
});

describe("hushHono inside the edge runtime", () => {
  let issuer: LocalIssuer;
  let server: Awaited<ReturnType<typeof runServer>>;
  const key = makeKey("ES256", "es-hono");
  const nowS = () => Math.floor(Date.now() / 1000);
  const get = (path: string, claims?: Record<string, unknown> | string) =>
    fetch(`${server.url}${path.slice(1)}`, {
      headers:
        claims === undefined
          ? {}
          : {
              authorization: typeof claims === "string" ? claims : `Bearer ${token(key, claimsAt(nowS(), { iss: issuer.url, ...claims }))}`,
            },
    });
  const LEVEL = 'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required"';
  const RECENT = 'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required"';

  beforeAll(async () => {
    issuer = await startLocalIssuer([key], Date.now);
    issuer.revoked = [{ sid: "revoked-session-aaaaa", until: nowS() + 600 }];
    await inEdge(`(() => {
      const verify = hush.createVerifier({ issuer: ${JSON.stringify(issuer.url)}, audience: ${JSON.stringify(AUDIENCE)},
        jwksUrl: ${JSON.stringify(issuer.jwksUrl)}, revocations: { pollSeconds: 60 }, onWarning: (m) => warnings.push(m) });
      const down = hush.createVerifier({ issuer: "https://down.test", audience: ${JSON.stringify(AUDIENCE)},
        jwksUrl: ${JSON.stringify(`${issuer.url}/missing-jwks.json`)}, fetchTimeoutMs: 2000 });
      const app = new hush.Hono();
      const me = (c) => c.json({ sub: c.var.auth.sub, runtime: typeof EdgeRuntime });
      app.get("/me", hush.hushHono(verify), me);
      app.get("/admin", hush.hushHono(verify, { scopes: ["notes:admin"] }), me);
      app.get("/mfa", hush.hushHono(verify, { amr: ["mfa"] }), me);
      app.get("/recent", hush.hushHono(verify, { maxAgeSeconds: 300 }), me);
      app.get("/down", hush.hushHono(down), me);
      self.addEventListener("fetch", (event) => event.respondWith(app.fetch(event.request)));
    })()`);
    server = await runServer({ runtime, port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  it("lets a valid token through with its claims (200), inside the edge runtime", async () => {
    const response = await get("/me", {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: "user-1", runtime: "string" });
  });

  it("answers 401: a bare challenge without a token, invalid_token for a bad, expired or revoked one", async () => {
    const missing = await get("/me");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    for (const bad of [
      "Bearer nope.nope.nope",
      "Basic dXNlcjpwYXNz",
      `Bearer ${token(key, claimsAt(nowS() - 3600, { iss: issuer.url }))}`,
      `Bearer ${token(key, claimsAt(nowS(), { iss: issuer.url, sid: "revoked-session-aaaaa" }))}`,
    ]) {
      const response = await get("/me", bad);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect((await response.json()).error).toBe("invalid_token");
    }
  });

  it("answers 403 insufficient_scope for a token without the route's scope", async () => {
    const response = await get("/admin", { scope: "notes:read" });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="notes:admin"');
    expect((await get("/admin", { scope: "notes:read notes:admin" })).status).toBe(200);
  });

  it("answers the RFC 9470 step-up 401 for amr and maxAgeSeconds", async () => {
    const weak = await get("/mfa", { amr: ["pwd"] });
    expect(weak.status).toBe(401);
    expect(weak.headers.get("www-authenticate")).toBe(LEVEL);
    expect(await weak.json()).toMatchObject({ error: "insufficient_user_authentication", amr: ["mfa"] });
    expect((await get("/mfa", { amr: ["pwd", "mfa"] })).status).toBe(200);
    const stale = await get("/recent", { auth_time: nowS() - 600 });
    expect(stale.status).toBe(401);
    expect(stale.headers.get("www-authenticate")).toBe(`${RECENT}, max_age=300`);
    expect((await get("/recent", { auth_time: nowS() - 10 })).status).toBe(200);
  });

  it("answers 503 when no JWKS can be fetched", async () => {
    const response = await get("/down", {});
    expect(response.status).toBe(503);
    expect((await response.json()).error).toBe("unavailable");
  });
});
