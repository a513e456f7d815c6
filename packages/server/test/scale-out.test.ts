import { execFileSync } from "node:child_process";
import { createVerifier } from "@hush/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_URL } from "../../../test-support/databases.js";
import { createDatabase, startThrowawayPostgres, type ThrowawayPostgres } from "../../../test-support/postgres.js";
import { HUSH_BIN, type ServeProcess, spawnServe } from "./spawn-serve.js";

const ISSUER = "http://auth.hush.test";
const SECRET = "f".repeat(64);
const PASSWORD = "violet-otter-keeps-42-secrets";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Instance = ServeProcess;

/** Starts one `hush serve` process; all instances share one database and secret. */
function startInstance(databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<Instance> {
  return spawnServe({
    HUSH_SECRET: SECRET,
    HUSH_ISSUER: ISSUER,
    HUSH_DATABASE_URL: databaseUrl,
    HUSH_RATE_LIMITS: "off",
    HUSH_DATABASE_TIMEOUT: "2s",
    ...extraEnv,
  });
}

const headers = (extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-hush-csrf": "1",
  origin: ISSUER,
  ...extra,
});
const cookieOf = (response: Response) => response.headers.getSetCookie()[0]?.split(";")[0];

async function signup(instance: Instance, email: string) {
  const response = await fetch(`${instance.url}/auth/signup`, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  expect(response.status).toBe(201);
  return { cookie: cookieOf(response) as string, accessToken: (await response.json()).accessToken as string };
}
const refresh = (instance: Instance, cookie: string) =>
  fetch(`${instance.url}/auth/refresh`, { method: "POST", headers: headers({ cookie }) });

describe.skipIf(!POSTGRES_URL)("several instances on one PostgreSQL", () => {
  let instances: Instance[] = [];
  let databaseUrl = "";
  beforeAll(async () => {
    databaseUrl = await createDatabase(POSTGRES_URL);
    // The first instance migrates and creates the keys; the others find them.
    instances = await Promise.all(
      [0, 1, 2].map(() => startInstance(databaseUrl, { HUSH_REUSE_GRACE: "2s", HUSH_KEY_RELOAD: "1s", HUSH_KEY_ACTIVATION_DELAY: "2s" })),
    );
  }, 60_000);
  afterAll(() => {
    for (const i of instances) i.child.kill("SIGKILL");
  });

  it("serves one user across instances: sign-up on one, refresh on another, /auth/me on the third", async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const { cookie } = await signup(a, "roundrobin@example.com");
    const refreshed = await refresh(b, cookie);
    expect(refreshed.status).toBe(200);
    const { accessToken } = await refreshed.json();
    const me = await fetch(`${c.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    const jwks = await Promise.all(instances.map(async (i) => (await fetch(`${i.url}/.well-known/jwks.json`)).text()));
    expect(new Set(jwks).size).toBe(1);
  });

  it("gives 50 concurrent presenters of one token, spread over all instances, one successor", async () => {
    const { cookie } = await signup(instances[0] as Instance, "fifty@example.com");
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => refresh(instances[i % 3] as Instance, cookie)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const successors = new Set(responses.map(cookieOf));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect((await refresh(instances[2] as Instance, successor as string)).status).toBe(200);
  });

  it("detects a replay after the grace on any instance and revokes the session everywhere", async () => {
    const { cookie } = await signup(instances[0] as Instance, "replay@example.com");
    const first = await refresh(instances[1] as Instance, cookie);
    const successor = cookieOf(first) as string;
    await sleep(2_500);
    const replay = await refresh(instances[2] as Instance, cookie);
    expect(replay.status).toBe(401);
    expect((await replay.json()).error).toBe("refresh_token_reused");
    for (const instance of instances) {
      const response = await refresh(instance, successor);
      expect((await response.json()).error).toBe("session_revoked");
    }
  });

  it("sees a key rotated against the database (hush keys rotate) on every instance", async () => {
    const env = {
      PATH: process.env.PATH ?? "",
      HUSH_SECRET: SECRET,
      HUSH_ISSUER: ISSUER,
      HUSH_DATABASE_URL: databaseUrl,
      HUSH_LOG_LEVEL: "warn",
      HUSH_KEY_ACTIVATION_DELAY: "2s",
    };
    const out = execFileSync(process.execPath, [HUSH_BIN, "keys", "rotate"], { env, encoding: "utf8" });
    const kid = /new key (\S+)/.exec(out)?.[1] as string;
    await sleep(3_000);
    for (const instance of instances) {
      const jwks = (await (await fetch(`${instance.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    }
    const { accessToken } = await signup(instances[1] as Instance, "rotated@example.com");
    expect(JSON.parse(Buffer.from(accessToken.split(".")[0] as string, "base64url").toString()).kid).toBe(kid);
    for (const instance of instances) {
      expect((await fetch(`${instance.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
    }
  });
});

describe.skipIf(!POSTGRES_URL)("an instance killed in the middle of a refresh storm", () => {
  it("loses no session and signs no one out; the other instances keep answering", async () => {
    const databaseUrl = await createDatabase(POSTGRES_URL);
    const instances = await Promise.all([0, 1, 2].map(() => startInstance(databaseUrl)));
    try {
      const users = await Promise.all(Array.from({ length: 15 }, (_, i) => signup(instances[i % 3] as Instance, `storm${i}@example.com`)));
      const cookies = users.map((u) => u.cookie);
      const alive = new Set([0, 1, 2]);
      const unauthorized: number[] = [];
      let served = 0;
      let turn = 0;
      const stopAt = Date.now() + 4_000;
      // Like a load balancer: send each request to the next live instance; a connection that
      // breaks is retried once on another one, with the same cookie.
      const pick = () => {
        const live = [...alive];
        return instances[live[turn++ % live.length] as number] as Instance;
      };
      const storm = Promise.all(
        cookies.map(async (_, k) => {
          while (Date.now() < stopAt) {
            let response: Response | undefined;
            for (let attempt = 0; attempt < 3 && !response; attempt++) {
              try {
                response = await refresh(pick(), cookies[k] as string);
              } catch {
                // The instance died under this request.
              }
            }
            if (!response) continue;
            if (response.status === 401) unauthorized.push(response.status);
            if (response.status === 200) {
              served++;
              cookies[k] = cookieOf(response) as string;
            }
            await response.arrayBuffer();
          }
        }),
      );
      await sleep(1_500);
      alive.delete(1);
      instances[1]?.child.kill("SIGKILL");
      await storm;
      expect(unauthorized).toEqual([]);
      expect(served).toBeGreaterThan(100);
      // Every session is still alive, on both surviving instances.
      for (const [k, cookie] of cookies.entries()) {
        const response = await refresh(instances[k % 2 === 0 ? 0 : 2] as Instance, cookie as string);
        expect(response.status).toBe(200);
      }
    } finally {
      for (const i of instances) i.child.kill("SIGKILL");
    }
  });
});

describe.skipIf(!POSTGRES_URL)("the database stopped for a few seconds", () => {
  let cluster: ThrowawayPostgres;
  let instance: Instance;
  beforeAll(async () => {
    // A cluster of its own: stopping the shared one would break the suites running beside.
    cluster = await startThrowawayPostgres();
    instance = await startInstance(await createDatabase(cluster.url), { HUSH_DATABASE_TIMEOUT: "2s" });
  }, 60_000);
  afterAll(() => {
    instance?.child.kill("SIGKILL");
    cluster?.destroy();
  });

  it("answers 503 unavailable while it is down, keeps verifiers working, and resumes without a restart", async () => {
    const { cookie, accessToken } = await signup(instance, "outage@example.com");
    const verify = createVerifier({ issuer: ISSUER, audience: "hush", jwksUrl: `${instance.url}/.well-known/jwks.json` });
    await verify.ready;
    cluster.stopServer();
    try {
      const started = Date.now();
      const during = await refresh(instance, cookie);
      expect(during.status).toBe(503);
      expect((await during.json()).error).toBe("unavailable");
      expect(Date.now() - started).toBeLessThan(5_000);
      // A 503 never clears the cookie.
      expect(during.headers.getSetCookie()).toEqual([]);
      const health = await fetch(`${instance.url}/health`);
      expect(health.status).toBe(503);
      const login = await fetch(`${instance.url}/auth/login`, {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ email: "outage@example.com", password: PASSWORD }),
      });
      expect(login.status).toBe(503);
      // Services verifying access tokens need no database: they keep working.
      expect((await verify(accessToken)).sub).toBeTruthy();
      expect((await fetch(`${instance.url}/.well-known/jwks.json`)).status).toBe(200);
    } finally {
      cluster.startServer();
    }
    let healthy = 0;
    for (let i = 0; i < 40 && healthy !== 200; i++) {
      healthy = (await fetch(`${instance.url}/health`)).status;
      if (healthy !== 200) await sleep(250);
    }
    expect(healthy).toBe(200);
    const after = await refresh(instance, cookie);
    expect(after.status).toBe(200);
    const relogin = await fetch(`${instance.url}/auth/login`, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ email: "outage@example.com", password: PASSWORD }),
    });
    expect(relogin.status).toBe(200);
  });
});
