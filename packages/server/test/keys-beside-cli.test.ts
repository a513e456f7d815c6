import { spawnSync } from "node:child_process";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createAuthServer } from "../src/index.js";
import { HUSH_BIN } from "./spawn-serve.js";
import { createTestServer, GOOD_PASSWORD, signUp, TEST_SECRET, type TestServer } from "./test-server.js";

/** Runs the real `hush` binary on the test server's database, with another algorithm configured. */
function hush(t: TestServer, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [HUSH_BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HUSH_LOG_LEVEL: "warn", HUSH_SECRET: TEST_SECRET, HUSH_DATABASE_URL: t.databaseUrl, ...env },
    encoding: "utf8",
    input: `${GOOD_PASSWORD}\n`,
    timeout: 30_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

async function login(t: TestServer, email: string): Promise<string> {
  const response = await t.request("/auth/login", { method: "POST", json: { email, password: GOOD_PASSWORD } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

/** The token passes the server's own `/auth/me` and verifies against the published JWKS. */
async function expectVerifies(t: TestServer, token: string) {
  const me = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(me.status).toBe(200);
  const jwks = await (await fetch(`${t.url}/.well-known/jwks.json`)).json();
  const { alg } = decodeProtectedHeader(token);
  await jwtVerify(token, createLocalJWKSet(jwks), { issuer: t.url, currentDate: new Date(t.clock.now()), algorithms: [alg ?? ""] });
}

/** An EdDSA server whose rotations publish a key 30 s before it signs; tokens live 60 s. */
const ROTATING_EDDSA = { rateLimits: false, signingAlgorithm: "EdDSA", accessTokenTtlSeconds: 60, keyActivationDelaySeconds: 30 } as const;

describe("signing keys beside the CLI and other instances", () => {
  it("keeps signing with a published key when CLI commands run with another HUSH_SIGNING_ALG", async () => {
    const t = await createTestServer({ rateLimits: false, signingAlgorithm: "EdDSA", accessTokenTtlSeconds: 60 });
    try {
      const { email } = await signUp(t);
      const before = await t.server.storage.listSigningKeys();
      for (const args of [
        ["keys", "list"],
        ["users", "list"],
        ["sessions", "list", email],
        ["migrate"],
        ["users", "create", "cli@example.com"],
      ]) {
        hush(t, args, { HUSH_SIGNING_ALG: "ES256" });
      }
      // The commands left the key set exactly as it was.
      expect(await t.server.storage.listSigningKeys()).toEqual(before);
      // Long after (well past one access-token lifetime plus the publishing leeway), after the
      // server re-read its keys, a fresh login's token still verifies everywhere.
      await t.server.keys.reload();
      t.clock.advance(10 * 60_000);
      await t.server.keys.reload();
      await expectVerifies(t, await login(t, email));
    } finally {
      await t.close();
    }
  });

  it("never signs with a retired key: a server follows the database's current key after a reload", async () => {
    const t = await createTestServer(ROTATING_EDDSA);
    try {
      const { email } = await signUp(t);
      const first = decodeProtectedHeader(await login(t, email)).kid;
      // Another instance (or `hush keys rotate`) rotates; this one learns of it at its next reload.
      hush(t, ["keys", "rotate"], { HUSH_KEY_ACTIVATION_DELAY: "30s" });
      await t.server.keys.reload();
      expect(decodeProtectedHeader(await login(t, email)).kid).toBe(first);
      // The CLI stamped the activation with the real clock, which ran on while it started.
      t.clock.advance(90_000);
      const token = await login(t, email);
      expect(decodeProtectedHeader(token).kid).not.toBe(first);
      await expectVerifies(t, token);
      t.clock.advance(10 * 60_000);
      await t.server.keys.reload();
      await expectVerifies(t, await login(t, email));
    } finally {
      await t.close();
    }
  });

  it("changes HUSH_SIGNING_ALG as an ordinary publish-before-use rotation", async () => {
    const t = await createTestServer(ROTATING_EDDSA);
    try {
      const { email } = await signUp(t);
      // A second instance starts on the same database with ES256.
      const other = await createAuthServer({
        secret: TEST_SECRET,
        issuer: t.url,
        databaseUrl: t.databaseUrl,
        signingAlgorithm: "ES256",
        keyActivationDelaySeconds: 30,
        logLevel: "silent",
        rateLimits: false,
        now: t.clock.now,
      });
      try {
        await t.server.keys.reload();
        // Published at once, signing only after the delay: the EdDSA key still signs.
        const jwks = await (await fetch(`${t.url}/.well-known/jwks.json`)).json();
        expect(jwks.keys.map((k: { alg: string }) => k.alg).sort()).toEqual(["ES256", "EdDSA"]);
        const early = await login(t, email);
        expect(decodeProtectedHeader(early).alg).toBe("EdDSA");
        t.clock.advance(31_000);
        await t.server.keys.reload();
        const late = await login(t, email);
        expect(decodeProtectedHeader(late).alg).toBe("ES256");
        await expectVerifies(t, early);
        await expectVerifies(t, late);
        t.clock.advance(10 * 60_000);
        await t.server.keys.reload();
        await expectVerifies(t, await login(t, email));
      } finally {
        await other.close();
      }
    } finally {
      await t.close();
    }
  });
});
