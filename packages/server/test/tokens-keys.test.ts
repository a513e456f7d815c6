import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createClock, createTestServer, refreshWith, signUp } from "./test-server.js";

const ASYMMETRIC = ["EdDSA", "ES256", "RS256"] as const;

async function jwksOf(url: string) {
  const response = await fetch(`${url}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as { keys: Array<Record<string, unknown>> };
}

for (const database of TEST_DATABASES)
  describe(`access tokens [${database}]`, () => {
    for (const alg of ASYMMETRIC) {
      it(`are ${alg}-signed RFC 9068 JWTs that verify against the published JWKS`, async () => {
        const t = await createTestServer({ database, rateLimits: false, signingAlgorithm: alg, audience: ["hush", "notes-api"] });
        try {
          const { accessToken, user } = await signUp(t);
          const jwks = await jwksOf(t.url);
          expect(jwks.keys).toHaveLength(1);
          expect(jwks.keys[0]).toMatchObject({ alg, use: "sig", kid: expect.any(String) });
          expect(jwks.keys[0]).not.toHaveProperty("d");
          const header = decodeProtectedHeader(accessToken);
          expect(header).toEqual({ alg, kid: jwks.keys[0]?.kid, typ: "at+jwt" });
          const { payload } = await jwtVerify(accessToken, createLocalJWKSet(jwks as never), {
            issuer: t.url,
            audience: "notes-api",
            typ: "at+jwt",
            algorithms: [alg],
            currentDate: new Date(t.clock.now()),
          });
          expect(payload).toEqual({
            iss: t.url,
            sub: user.id,
            aud: ["hush", "notes-api"],
            iat: expect.any(Number),
            exp: (payload.iat as number) + 600,
            jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
            sid: expect.stringMatching(/^[\w-]{22}$/),
            client_id: "hush-web",
            auth_time: payload.iat,
            sst: 0,
            email_verified: false,
            amr: ["pwd"],
          });
        } finally {
          await t.close();
        }
      });
    }

    it("publishes no keys in HS256 mode and still verifies its own tokens", async () => {
      const t = await createTestServer({ database, rateLimits: false, signingAlgorithm: "HS256" });
      try {
        const { accessToken } = await signUp(t);
        expect((await jwksOf(t.url)).keys).toEqual([]);
        expect(decodeProtectedHeader(accessToken).alg).toBe("HS256");
        const me = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(me.status).toBe(200);
      } finally {
        await t.close();
      }
    });

    it("adds an application's claims through the hook but never lets it override registered ones", async () => {
      const t = await createTestServer({
        database,
        rateLimits: false,
        accessTokenClaims: (user) => ({ role: "editor", email: user.email, sub: "someone-else", sid: "x", iss: "evil" }),
      });
      try {
        const { accessToken, user, email } = await signUp(t);
        const payload = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString());
        expect(payload).toMatchObject({ role: "editor", email, sub: user.id, iss: t.url });
        expect(payload.sid).not.toBe("x");
      } finally {
        await t.close();
      }
    });
  });

for (const database of TEST_DATABASES)
  describe(`key rotation [${database}]`, () => {
    it("publishes the next key before it signs, keeps the old one until its tokens expire, and logs no one out", async () => {
      const clock = createClock();
      const t = await createTestServer({ database, rateLimits: false, clock, keyActivationDelaySeconds: 60 });
      try {
        const before = await signUp(t);
        const oldKid = decodeProtectedHeader(before.accessToken).kid;
        const next = await t.server.keys.rotate();
        // Published at once, not yet signing.
        expect((await jwksOf(t.url)).keys.map((k) => k.kid).sort()).toEqual([oldKid, next.kid].sort());
        const stillOld = await refreshWith(t, before.cookie);
        const stillOldToken = (await stillOld.response.json()).accessToken;
        expect(decodeProtectedHeader(stillOldToken).kid).toBe(oldKid);
        // After the activation delay the new key signs; tokens of the old key still verify.
        clock.advance(61_000);
        const after = await refreshWith(t, stillOld.cookie?.pair as string);
        const newToken = (await after.response.json()).accessToken;
        expect(decodeProtectedHeader(newToken).kid).toBe(next.kid);
        const oldMe = await fetch(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${stillOldToken}` } });
        expect(oldMe.status).toBe(200);
        // Once every token of the old key has expired, the old key leaves the JWKS.
        clock.advance(600_000 + 61_000);
        expect((await jwksOf(t.url)).keys.map((k) => k.kid)).toEqual([next.kid]);
      } finally {
        await t.close();
      }
    });

    it("seals private keys at rest: the database holds no private key material in the clear", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        const rows = (await t.server.storage.listSigningKeys()).map((k) => ({
          private_sealed: k.privateSealed,
          public_jwk: k.publicJwk ?? "{}",
        }));
        expect(rows).toHaveLength(1);
        expect(rows[0]?.private_sealed).toMatch(/^v1\.[\w-]+$/);
        expect(JSON.parse(rows[0]?.public_jwk ?? "{}")).not.toHaveProperty("d");
      } finally {
        await t.close();
      }
    });
  });

for (const database of TEST_DATABASES)
  describe(`restart on the same database [${database}]`, () => {
    it("keeps every session and signing key", async () => {
      const clock = createClock();
      const first = await createTestServer({ database, rateLimits: false, clock });
      const { cookie, accessToken } = await signUp(first);
      const jwksBefore = await jwksOf(first.url);
      await first.close({ keepData: true });

      const second = await createTestServer({ database, rateLimits: false, clock, databaseUrl: first.databaseUrl, issuer: first.url });
      try {
        expect(await jwksOf(second.url)).toEqual(jwksBefore);
        const { response } = await refreshWith(second, cookie, { origin: first.url });
        expect(response.status).toBe(200);
        const me = await fetch(`${second.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(me.status).toBe(200);
      } finally {
        await second.close();
        first.removeData();
      }
    });

    it("refuses to start with a different HUSH_SECRET than the one that sealed the keys", async () => {
      const first = await createTestServer({ database, rateLimits: false });
      await first.close({ keepData: true });
      await expect(
        createTestServer({ database, rateLimits: false, databaseUrl: first.databaseUrl, secret: "b".repeat(64) }),
      ).rejects.toThrow(/HUSH_SECRET differs/);
      first.removeData();
    });
  });
