import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { simpleParser } from "mailparser";
import * as OTPAuth from "otpauth";
import { afterAll, describe, expect, it } from "vitest";
import { POSTGRES_URL, TEST_DATABASES } from "../../../test-support/databases.js";
import { createDatabase } from "../../../test-support/postgres.js";
import type { AuthServerOptions } from "../src/index.js";
import { SoftAuthenticator } from "./soft-authenticator.js";
import { spawnServe } from "./spawn-serve.js";
import {
  createTestServer,
  GOOD_PASSWORD,
  loginWith,
  refreshCookieOf,
  refreshWith,
  securityNoticesTo,
  signUp,
  TEST_SECRET,
  type TestServer,
  uniqueEmail,
} from "./test-server.js";

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

/** The TOTP code of `secret` at `timestamp` (ms). */
const totp = (secret: string, timestamp: number) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp });

for (const database of TEST_DATABASES)
  describe(`passkeys, two-factor and re-authentication [${database}]`, () => {
    const servers: TestServer[] = [];
    afterAll(async () => {
      for (const t of servers) await t.close();
    });
    async function server(options: Partial<AuthServerOptions> = {}) {
      const t = await createTestServer({ database, accessTokenTtlSeconds: 3600, ...options });
      servers.push(t);
      return t;
    }
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const post = (t: TestServer, path: string, json?: unknown, headers: Record<string, string> = {}) =>
      t.request(path, { method: "POST", headers, ...(json === undefined ? {} : { json }) });

    /** Signs up and turns TOTP on: the secret, recovery codes and a fresh access token. */
    async function withTotp(t: TestServer) {
      const account = await signUp(t);
      const setup = await post(t, "/auth/mfa/totp/setup", undefined, bearer(account.accessToken));
      expect(setup.status).toBe(200);
      const { secret, otpauthUrl } = await setup.json();
      expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
      const enabled = await post(t, "/auth/mfa/totp/enable", { code: totp(secret, t.clock.now()) }, bearer(account.accessToken));
      expect(enabled.status).toBe(200);
      const { recoveryCodes } = await enabled.json();
      return { ...account, secret, recoveryCodes: recoveryCodes as string[] };
    }

    /** Logs in with the password and returns the `mfa_required` body. */
    async function mfaStep(t: TestServer, email: string, password = GOOD_PASSWORD) {
      const login = await loginWith(t, email, password);
      expect(login.status).toBe(403);
      expect(login.headers.getSetCookie().some((c) => c.includes("hush_rt="))).toBe(false);
      const body = await login.json();
      expect(body).toMatchObject({ error: "mfa_required", methods: ["totp", "recovery_code"] });
      return body.mfaToken as string;
    }

    it("enrols TOTP with a code, then asks every password login for a second factor", async () => {
      const t = await server();
      const wrong = await signUp(t);
      await post(t, "/auth/mfa/totp/setup", undefined, bearer(wrong.accessToken));
      expect((await post(t, "/auth/mfa/totp/enable", { code: "000000" }, bearer(wrong.accessToken))).status).toBe(401);

      const { email, secret, recoveryCodes } = await withTotp(t);
      expect(recoveryCodes).toHaveLength(10);
      expect(new Set(recoveryCodes).size).toBe(10);
      const mfaToken = await mfaStep(t, email);
      const bad = await post(t, "/auth/mfa/verify", { mfaToken, code: "123456" });
      expect(bad.status).toBe(401);
      expect((await bad.json()).error).toBe("invalid_code");
      t.clock.advance(30_000);
      const good = await post(t, "/auth/mfa/verify", { mfaToken, code: totp(secret, t.clock.now()) });
      expect(good.status).toBe(200);
      expect(refreshCookieOf(good)).toBeDefined();
      const token = (await good.json()).accessToken;
      expect(claimsOf(token).amr).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
      // A refresh keeps the methods and the sign-in time.
      const refreshed = await refreshWith(t, refreshCookieOf(good)?.pair ?? "");
      const again = claimsOf((await refreshed.response.json()).accessToken);
      expect(again.amr).toEqual(claimsOf(token).amr);
      expect(again.auth_time).toBe(claimsOf(token).auth_time);
      // The token is used up.
      expect((await post(t, "/auth/mfa/verify", { mfaToken, code: totp(secret, t.clock.now()) })).status).toBe(401);
    });

    it("refuses a replayed TOTP code, accepts one step of drift, and recovery codes once", async () => {
      const t = await server();
      const { email, secret, recoveryCodes } = await withTotp(t);
      t.clock.advance(30_000);
      const code = totp(secret, t.clock.now());
      expect((await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), code })).status).toBe(200);
      const replay = await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), code });
      expect(replay.status).toBe(401);
      expect((await replay.json()).error).toBe("invalid_code");
      // The next step's code, 30 s early (the phone's clock runs ahead): accepted. Two steps ahead: not.
      expect(
        (await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), code: totp(secret, t.clock.now() + 60_000) })).status,
      ).toBe(401);
      expect(
        (await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), code: totp(secret, t.clock.now() + 30_000) })).status,
      ).toBe(200);
      const recovery = recoveryCodes[0] ?? "";
      const used = await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), recoveryCode: recovery.toUpperCase() });
      expect(used.status).toBe(200);
      expect((await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), recoveryCode: recovery })).status).toBe(401);
      expect(t.events.some((e) => e.type === "recovery_code_used")).toBe(true);
    });

    it("kills an mfaToken after five wrong codes or five minutes; of two concurrent right answers one wins", async () => {
      const t = await server();
      const { email, secret, recoveryCodes } = await withTotp(t);
      const exhausted = await mfaStep(t, email);
      for (let i = 0; i < 5; i++) expect((await post(t, "/auth/mfa/verify", { mfaToken: exhausted, code: "000000" })).status).toBe(401);
      t.clock.advance(30_000);
      const dead = await post(t, "/auth/mfa/verify", { mfaToken: exhausted, code: totp(secret, t.clock.now()) });
      expect((await dead.json()).error).toBe("invalid_mfa_token");

      const late = await mfaStep(t, email);
      t.clock.advance(5 * 60_000 + 1);
      expect((await (await post(t, "/auth/mfa/verify", { mfaToken: late, recoveryCode: recoveryCodes[1] })).json()).error).toBe(
        "invalid_mfa_token",
      );

      const raced = await mfaStep(t, email);
      const answers = await Promise.all([
        post(t, "/auth/mfa/verify", { mfaToken: raced, recoveryCode: recoveryCodes[2] }),
        post(t, "/auth/mfa/verify", { mfaToken: raced, recoveryCode: recoveryCodes[3] }),
      ]);
      expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
      expect(t.events.filter((e) => e.type === "mfa_failed").length).toBeGreaterThanOrEqual(5);
    });

    it("counts wrong codes against the account's failed-login limit", async () => {
      // A right password of an account with a second factor keeps its reservation until the
      // second step succeeds, so a password thief cannot reset the count by logging in again.
      const t = await server({ rateLimits: { loginFailuresPerAccount: { points: 4, durationSeconds: 900 } } });
      const { email } = await withTotp(t);
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++)
        statuses.push((await post(t, "/auth/mfa/verify", { mfaToken: await mfaStep(t, email), code: "000000" })).status);
      expect(statuses).toEqual([401, 401]);
      expect((await loginWith(t, email, GOOD_PASSWORD)).status).toBe(429);
    });

    it("holds a password reset until its second factor: nothing changes before, everything after", async () => {
      const t = await server();
      const { email, secret, cookie } = await withTotp(t);
      await post(t, "/auth/password/forgot", { email });
      const { token } = await waitForLink(t, "reset_password");
      const newPassword = "amber-heron-counts-97-stones";
      const reset = await post(t, "/auth/password/reset", { token, newPassword });
      expect(reset.status, await reset.clone().text()).toBe(403);
      const { mfaToken } = await reset.json();
      // Nothing changed yet: the old password is still the password, the session still lives.
      await mfaStep(t, email, GOOD_PASSWORD);
      expect((await refreshWith(t, cookie)).response.status).toBe(200);
      t.clock.advance(30_000);
      const done = await post(t, "/auth/mfa/verify", { mfaToken, code: totp(secret, t.clock.now()) });
      expect(done.status).toBe(200);
      expect((await loginWith(t, email, GOOD_PASSWORD)).status).toBe(401);
      await mfaStep(t, email, newPassword);
    });

    it("makes an emailed link meet the second factor too: sign-in links and verification links answer mfa_required", async () => {
      const t = await server({ signInLinks: true });
      const { email, secret } = await withTotp(t);
      await post(t, "/auth/signin-link", { email });
      const { token } = await waitForLink(t, "signin_link");
      const answer = await post(t, "/auth/signin-link/verify", { token });
      expect(answer.status).toBe(403);
      const { mfaToken } = await answer.json();
      // The link is used up either way.
      expect((await post(t, "/auth/signin-link/verify", { token })).status).toBe(400);
      t.clock.advance(30_000);
      const done = await post(t, "/auth/mfa/verify", { mfaToken, code: totp(secret, t.clock.now()) });
      expect(done.status).toBe(200);
      expect(claimsOf((await done.json()).accessToken).amr).toEqual(expect.arrayContaining(["email", "otp", "mfa"]));
    });

    it("mails the owner a notice, without a link, for every change of sign-in methods", async () => {
      const t = await server();
      const { accessToken, secret, email } = await withTotp(t);
      t.clock.advance(30_000);
      const otp = (await (await post(t, "/auth/reauthenticate", { code: totp(secret, t.clock.now()) }, bearer(accessToken))).json())
        .accessToken as string;
      const rpId = new URL(t.url).hostname;
      const key = new SoftAuthenticator(rpId, t.url);
      const options = (await (await post(t, "/auth/passkeys/register/options", undefined, bearer(otp))).json()).options;
      expect((await post(t, "/auth/passkeys/register", { response: key.register(options), name: "Phone" }, bearer(otp))).status).toBe(201);
      const removed = await t.request(`/auth/passkeys/${encodeURIComponent(key.id)}`, { method: "DELETE", headers: bearer(otp) });
      expect(removed.status).toBe(204);
      expect((await post(t, "/auth/mfa/recovery-codes", undefined, bearer(otp))).status).toBe(200);
      t.clock.advance(30_000);
      expect((await post(t, "/auth/mfa/totp/disable", { code: totp(secret, t.clock.now()) }, bearer(otp))).status).toBe(204);

      const changes = await securityNoticesTo(t, email, 5);
      expect(changes).toHaveLength(5);
      for (const text of changes) expect(text).not.toMatch(/https?:\/\/|#token=/);
      expect(changes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/Two-factor authentication with an authenticator app was turned on/),
          expect.stringMatching(/A passkey \("Phone"\) was added/),
          expect.stringMatching(/A passkey was removed/),
          expect.stringMatching(/New recovery codes were made/),
          expect.stringMatching(/Two-factor authentication was turned off/),
        ]),
      );
    });

    it("needs a recent sign-in, and with a second factor one that used it, to change factors", async () => {
      const t = await server();
      const plain = await signUp(t);
      t.clock.advance(11 * 60_000);
      const stale = await post(t, "/auth/mfa/totp/setup", undefined, bearer(plain.accessToken));
      expect(stale.status).toBe(403);
      expect((await stale.json()).error).toBe("reauthentication_required");
      const reauth = await post(t, "/auth/reauthenticate", { password: GOOD_PASSWORD }, bearer(plain.accessToken));
      expect(reauth.status).toBe(200);
      const fresh = (await reauth.json()).accessToken;
      expect(claimsOf(fresh)).toMatchObject({ amr: ["pwd"], sid: claimsOf(plain.accessToken).sid });
      expect(reauth.headers.getSetCookie()).toEqual([]);
      expect((await post(t, "/auth/mfa/totp/setup", undefined, bearer(fresh))).status).toBe(200);

      const { accessToken, secret } = await withTotp(t);
      // A password alone does not prove the second factor.
      const pwd = (await (await post(t, "/auth/reauthenticate", { password: GOOD_PASSWORD }, bearer(accessToken))).json()).accessToken;
      expect((await post(t, "/auth/passkeys/register/options", undefined, bearer(pwd))).status).toBe(403);
      expect((await post(t, "/auth/reauthenticate", { code: "000000" }, bearer(accessToken))).status).toBe(401);
      t.clock.advance(30_000);
      const otp = await post(t, "/auth/reauthenticate", { code: totp(secret, t.clock.now()) }, bearer(accessToken));
      const otpToken = (await otp.json()).accessToken;
      expect(claimsOf(otpToken).amr).toEqual(["otp"]);
      expect((await post(t, "/auth/passkeys/register/options", undefined, bearer(otpToken))).status).toBe(200);
      t.clock.advance(30_000);
      const both = await post(
        t,
        "/auth/reauthenticate",
        { password: GOOD_PASSWORD, code: totp(secret, t.clock.now()) },
        bearer(accessToken),
      );
      expect(claimsOf((await both.json()).accessToken).amr).toEqual(["pwd", "otp", "mfa"]);
      expect((await post(t, "/auth/mfa/totp/disable", { code: totp(secret, t.clock.now()) }, bearer(otpToken))).status).toBe(401);
      t.clock.advance(30_000);
      expect((await post(t, "/auth/mfa/totp/disable", { code: totp(secret, t.clock.now()) }, bearer(otpToken))).status).toBe(204);
      expect(t.events.some((e) => e.type === "mfa_disabled")).toBe(true);
    });

    it("registers passkeys, signs in with one (two factors with user verification), and refuses bent ceremonies", async () => {
      const t = await server();
      const origin = t.url;
      const rpId = new URL(t.url).hostname;
      const { accessToken, email } = await signUp(t);
      const key = new SoftAuthenticator(rpId, origin);
      const options = (await (await post(t, "/auth/passkeys/register/options", undefined, bearer(accessToken))).json()).options;
      expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "preferred" });
      const registered = await post(t, "/auth/passkeys/register", { response: key.register(options), name: "Laptop" }, bearer(accessToken));
      expect(registered.status).toBe(201);
      expect((await registered.json()).passkey).toMatchObject({ id: key.id, name: "Laptop", lastUsedAt: null });
      // The same challenge again: refused (single use).
      expect((await post(t, "/auth/passkeys/register", { response: key.register(options) }, bearer(accessToken))).status).toBe(400);
      const listed = await (await t.request("/auth/passkeys", { headers: bearer(accessToken) })).json();
      expect(listed.passkeys).toHaveLength(1);

      const begin = async () =>
        (await (await post(t, "/auth/passkeys/login/options")).json()) as { options: { challenge: string }; challengeId: string };
      const { options: login, challengeId } = await begin();
      const signedIn = await post(t, "/auth/passkeys/login", { challengeId, response: key.assert(login.challenge) });
      expect(signedIn.status).toBe(200);
      const body = await signedIn.json();
      expect(body.user.email).toBe(email);
      expect(claimsOf(body.accessToken).amr).toEqual(["hwk", "user", "mfa"]);
      expect(refreshCookieOf(signedIn)).toBeDefined();
      expect(t.events.some((e) => e.type === "passkey_login" && e.email === email)).toBe(true);
      // Replayed challenge, wrong origin, wrong RP ID, a signature by another key, a registration challenge.
      const replay = await post(t, "/auth/passkeys/login", { challengeId, response: key.assert(login.challenge) });
      expect((await replay.json()).error).toBe("invalid_passkey");
      for (const bend of [
        { origin: "https://evil.example" },
        { rpId: "evil.example" },
        { key: new SoftAuthenticator(rpId, origin)["keys"].privateKey },
      ]) {
        const fresh = await begin();
        const answer = await post(t, "/auth/passkeys/login", {
          challengeId: fresh.challengeId,
          response: key.assert(fresh.options.challenge, bend),
        });
        expect(answer.status).toBe(400);
      }
      const registration = (await (await post(t, "/auth/passkeys/register/options", undefined, bearer(accessToken))).json()).options;
      expect(
        (await post(t, "/auth/passkeys/login", { challengeId: registration.challenge, response: key.assert(registration.challenge) }))
          .status,
      ).toBe(400);
    });

    it("refuses another user's registration challenge and a counter that goes backwards (clone suspected)", async () => {
      const t = await server();
      const rpId = new URL(t.url).hostname;
      const [alice, mallory] = [await signUp(t), await signUp(t)];
      const aliceOptions = (await (await post(t, "/auth/passkeys/register/options", undefined, bearer(alice.accessToken))).json()).options;
      const stolen = new SoftAuthenticator(rpId, t.url);
      expect(
        (await post(t, "/auth/passkeys/register", { response: stolen.register(aliceOptions) }, bearer(mallory.accessToken))).status,
      ).toBe(400);

      const key = new SoftAuthenticator(rpId, t.url);
      const options = (await (await post(t, "/auth/passkeys/register/options", undefined, bearer(alice.accessToken))).json()).options;
      expect((await post(t, "/auth/passkeys/register", { response: key.register(options) }, bearer(alice.accessToken))).status).toBe(201);
      const first = await (await post(t, "/auth/passkeys/login/options")).json();
      expect(
        (
          await post(t, "/auth/passkeys/login", {
            challengeId: first.challengeId,
            response: key.assert(first.options.challenge, { counter: 10 }),
          })
        ).status,
      ).toBe(200);
      const second = await (await post(t, "/auth/passkeys/login/options")).json();
      const cloned = await post(t, "/auth/passkeys/login", {
        challengeId: second.challengeId,
        response: key.assert(second.options.challenge, { counter: 5 }),
      });
      expect(cloned.status).toBe(400);
      expect(t.events.some((e) => e.type === "passkey_clone_suspected" && e.email === alice.email)).toBe(true);
      // Mallory cannot re-authenticate with Alice's passkey, nor remove it.
      const third = await (await post(t, "/auth/passkeys/login/options")).json();
      const reauth = await post(
        t,
        "/auth/reauthenticate",
        { challengeId: third.challengeId, response: key.assert(third.options.challenge, { counter: 20 }) },
        bearer(mallory.accessToken),
      );
      expect(reauth.status).toBe(400);
      expect((await t.request(`/auth/passkeys/${key.id}`, { method: "DELETE", headers: bearer(mallory.accessToken) })).status).toBe(404);
      expect((await t.request(`/auth/passkeys/${key.id}`, { method: "DELETE", headers: bearer(alice.accessToken) })).status).toBe(204);
      expect(t.events.some((e) => e.type === "passkey_removed")).toBe(true);
    });

    it("treats a passkey without user verification as one factor: mfa_required for a user with TOTP", async () => {
      const t = await server();
      const rpId = new URL(t.url).hostname;
      const { accessToken, email, secret } = await withTotp(t);
      t.clock.advance(30_000);
      const proof = (await (await post(t, "/auth/reauthenticate", { code: totp(secret, t.clock.now()) }, bearer(accessToken))).json())
        .accessToken;
      const key = new SoftAuthenticator(rpId, t.url, false);
      const options = (await (await post(t, "/auth/passkeys/register/options", undefined, bearer(proof))).json()).options;
      expect((await post(t, "/auth/passkeys/register", { response: key.register(options) }, bearer(proof))).status).toBe(201);
      const begin = await (await post(t, "/auth/passkeys/login/options")).json();
      const answer = await post(t, "/auth/passkeys/login", {
        challengeId: begin.challengeId,
        response: key.assert(begin.options.challenge),
      });
      expect(answer.status).toBe(403);
      expect((await answer.json()).error).toBe("mfa_required");
      expect(email).toBeTruthy();
    });
  });

/** The newest link of `purpose` in a test server's outbox folder (development mail). */
async function waitForLink(t: TestServer, purpose: "reset_password" | "signin_link") {
  const folder = join(dirname(t.databaseFile), "outbox");
  const marker = purpose === "reset_password" ? "/reset-password#token=" : "/sign-in-link#token=";
  for (let i = 0; i < 100; i++) {
    const files = existsSync(folder)
      ? readdirSync(folder)
          .filter((f) => f.endsWith(".eml"))
          .sort()
          .reverse()
      : [];
    for (const file of files) {
      const text = (await simpleParser(readFileSync(join(folder, file)))).text ?? "";
      const at = text.indexOf(marker);
      const match = at >= 0 ? /^[A-Za-z0-9_.-]+/.exec(text.slice(at + marker.length)) : null;
      if (match) return { token: match[0] };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no reset link in the outbox");
}

describe.runIf(POSTGRES_URL)("a passkey ceremony across instances [postgres]", () => {
  it("begins on one hush serve process and finishes on another", async () => {
    const databaseUrl = await createDatabase(POSTGRES_URL as string);
    const app = "http://app.test";
    const env = {
      HUSH_SECRET: TEST_SECRET,
      HUSH_DATABASE_URL: databaseUrl,
      HUSH_APP_URL: app,
      HUSH_ALLOWED_ORIGINS: app,
      HUSH_ISSUER: "http://auth.test",
    };
    const [a, b] = [await spawnServe(env), await spawnServe(env)];
    try {
      const headers = { "content-type": "application/json", "x-hush-csrf": "1", origin: app };
      const signup = await fetch(`${a.url}/auth/signup`, {
        method: "POST",
        headers,
        body: JSON.stringify({ email: uniqueEmail(), password: GOOD_PASSWORD }),
      });
      const { accessToken } = await signup.json();
      const key = new SoftAuthenticator("app.test", app);
      const auth = { ...headers, authorization: `Bearer ${accessToken}` };
      const options = (await (await fetch(`${a.url}/auth/passkeys/register/options`, { method: "POST", headers: auth })).json()).options;
      const registered = await fetch(`${b.url}/auth/passkeys/register`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ response: key.register(options) }),
      });
      expect(registered.status).toBe(201);
      const login = await (await fetch(`${b.url}/auth/passkeys/login/options`, { method: "POST", headers })).json();
      const signedIn = await fetch(`${a.url}/auth/passkeys/login`, {
        method: "POST",
        headers,
        body: JSON.stringify({ challengeId: login.challengeId, response: key.assert(login.options.challenge) }),
      });
      expect(signedIn.status).toBe(200);
    } finally {
      for (const p of [a, b]) p.child.kill("SIGTERM");
    }
  });
});
