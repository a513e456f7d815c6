import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_IDP_USERS, type RunningDemoIdp, startDemoIdp } from "../../../apps/demo/server/demo-idp.js";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { freePort } from "../../../test-support/free-port.js";
import { ScriptedBrowser, throughDemoProvider } from "./oidc-browser.js";
import { type Bend, startRogueProvider } from "./rogue-provider.js";
import {
  createClock,
  createTestServer,
  GOOD_PASSWORD,
  loginWith,
  refreshWith,
  securityNoticesTo,
  signUp,
  type TestServer,
} from "./test-server.js";

const [alice, bob, , eve] = DEMO_IDP_USERS as [
  (typeof DEMO_IDP_USERS)[number],
  (typeof DEMO_IDP_USERS)[number],
  (typeof DEMO_IDP_USERS)[number],
  (typeof DEMO_IDP_USERS)[number],
];
const APP = "http://app.test";
/** One more person at the provider, for the second-factor case. */
const dave = { sub: "test-dave", email: "dave@example.com", emailVerified: true, name: "Dave Example", password: "dave-digs-deep" };

for (const database of TEST_DATABASES)
  describe(`sign-in with a provider, against a local OpenID provider [${database}]`, () => {
    let idp: RunningDemoIdp;
    let t: TestServer;
    beforeAll(async () => {
      // The auth server's port is fixed first: the provider must know the redirect URI.
      const port = await freePort();
      const issuer = `http://127.0.0.1:${port}`;
      idp = await startDemoIdp({
        clients: [
          { client_id: "hush-test", client_secret: "test-secret-0123456789", redirect_uris: [`${issuer}/auth/oauth/demo/callback`] },
        ],
        users: [...DEMO_IDP_USERS, dave],
      });
      t = await createTestServer({
        database,
        port,
        clock: createClock(),
        appUrl: APP,
        accessTokenTtlSeconds: 3600,
        oauthProviders: {
          demo: { issuer: idp.issuer, clientId: "hush-test", clientSecret: "test-secret-0123456789", trustEmail: true, label: "Demo IdP" },
        },
      });
    });
    afterAll(async () => {
      await t?.close();
      await idp?.close();
    });

    /** A whole sign-in in a fresh browser: returns the final redirect and the browser. */
    async function signInWith(
      user: { email: string; password: string },
      options: { returnTo?: string; browser?: ScriptedBrowser; start?: string } = {},
    ) {
      const browser = options.browser ?? new ScriptedBrowser();
      const start =
        options.start ??
        `${t.url}/auth/oauth/demo/start${options.returnTo === undefined ? "" : `?returnTo=${encodeURIComponent(options.returnTo)}`}`;
      const begun = await browser.request(start);
      expect(begun.status).toBe(302);
      const callback = await throughDemoProvider(browser, begun.headers.get("location") ?? "", user, `${t.url}/auth/oauth/demo/callback`);
      const back = await browser.request(callback);
      return { browser, callback, back, location: back.headers.get("location") ?? "" };
    }
    const refreshCookie = (browser: ScriptedBrowser) => {
      const value = browser.cookies(t.url).get("__Host-hush_rt");
      return value ? `__Host-hush_rt=${value}` : "";
    };

    it("lists the provider, and 404s an unknown one", async () => {
      expect(await (await fetch(`${t.url}/auth/oauth/providers`)).json()).toEqual({ providers: [{ name: "demo", label: "Demo IdP" }] });
      expect((await fetch(`${t.url}/auth/oauth/nope/start`, { redirect: "manual" })).status).toBe(404);
    });

    it("sends the browser to the provider with state, nonce and PKCE S256, the state in a sealed Lax cookie", async () => {
      const start = await fetch(`${t.url}/auth/oauth/demo/start?returnTo=/notes`, { redirect: "manual" });
      const url = new URL(start.headers.get("location") ?? "");
      expect(url.origin).toBe(idp.issuer);
      expect(url.searchParams.get("code_challenge_method")).toBe("S256");
      for (const name of ["state", "nonce", "code_challenge"]) expect(url.searchParams.get(name)?.length).toBeGreaterThanOrEqual(22);
      expect(url.searchParams.get("redirect_uri")).toBe(`${t.url}/auth/oauth/demo/callback`);
      const cookie = start.headers.getSetCookie().find((c) => c.startsWith("__Host-hush_oauth="));
      expect(cookie).toMatch(/Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax/);
      expect(cookie).not.toContain(url.searchParams.get("state") ?? "-");
    });

    it("signs a new person in: a verified account, the identity linked, back to returnTo with the refresh cookie and no token in any URL", async () => {
      const { back, location, browser } = await signInWith(bob, { returnTo: "/notes?x=1" });
      expect(back.status).toBe(302);
      expect(location).toBe(`${APP}/notes?x=1`);
      const refreshed = await refreshWith(t, refreshCookie(browser));
      expect(refreshed.response.status).toBe(200);
      const body = await refreshed.response.json();
      expect(body.user).toMatchObject({ email: bob.email, emailVerified: true });
      for (const url of [...browser.visited, location]) expect(url).not.toContain(body.accessToken.slice(0, 20));
      const identities = await (await t.request("/auth/identities", { headers: { authorization: `Bearer ${body.accessToken}` } })).json();
      expect(identities.identities).toEqual([expect.objectContaining({ provider: "demo", email: bob.email })]);
      expect(t.events.some((e) => e.type === "oauth_login" && e.email === bob.email)).toBe(true);
      // A second sign-in finds the same account by (issuer, subject).
      const again = await signInWith(bob);
      const user = (await (await refreshWith(t, refreshCookie(again.browser))).response.json()).user;
      expect(user.id).toBe(body.user.id);
    });

    it("never redirects outside the app: unsafe returnTo values become /", async () => {
      const browser = new ScriptedBrowser();
      for (const returnTo of [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil",
      ]) {
        const start = await browser.request(`${t.url}/auth/oauth/demo/start?returnTo=${encodeURIComponent(returnTo)}`);
        const sealed = start.headers.getSetCookie().find((c) => c.startsWith("__Host-hush_oauth="));
        expect(sealed, returnTo).toBeDefined();
      }
      const { location } = await signInWith(bob, { returnTo: "//evil.example/x" });
      expect(location).toBe(`${APP}/`);
      const encoded = await signInWith(bob, { returnTo: "/%5Cevil.example" });
      expect(encoded.location).toBe(`${APP}/`);
    });

    it("refuses a callback without the state cookie (login CSRF), with another state, or replayed", async () => {
      const first = new ScriptedBrowser();
      const begun = await first.request(`${t.url}/auth/oauth/demo/start`);
      const callback = await throughDemoProvider(first, begun.headers.get("location") ?? "", bob, `${t.url}/auth/oauth/demo/callback`);
      // An attacker's callback URL opened in the victim's browser, which has no state cookie.
      const victim = await new ScriptedBrowser().request(callback);
      expect(victim.headers.get("location")).toBe(`${APP}/sign-in#error=oauth_failed`);
      expect(victim.headers.getSetCookie().some((c) => c.startsWith("__Host-hush_rt=") && !c.includes("Max-Age=0"))).toBe(false);
      // The right browser but a state that does not match.
      const tampered = new URL(callback);
      tampered.searchParams.set("state", "x".repeat(43));
      expect((await first.request(tampered.href)).headers.get("location")).toBe(`${APP}/sign-in#error=oauth_failed`);
      // The tampered try cleared the cookie; a fresh flow, then the same callback twice.
      const second = new ScriptedBrowser();
      const again = await second.request(`${t.url}/auth/oauth/demo/start`);
      const good = await throughDemoProvider(second, again.headers.get("location") ?? "", bob, `${t.url}/auth/oauth/demo/callback`);
      const cookie = second.cookies(t.url).get("__Host-hush_oauth") ?? "";
      const [one, two] = await Promise.all([
        fetch(good, { redirect: "manual", headers: { cookie: `__Host-hush_oauth=${cookie}` } }),
        fetch(good, { redirect: "manual", headers: { cookie: `__Host-hush_oauth=${cookie}` } }),
      ]);
      const locations = [one.headers.get("location"), two.headers.get("location")].sort();
      expect(locations).toEqual([`${APP}/`, `${APP}/sign-in#error=oauth_failed`].sort());
      expect(t.events.some((e) => e.type === "oauth_failed")).toBe(true);
    });

    it("answers oauth_denied when the person cancels at the provider", async () => {
      const browser = new ScriptedBrowser();
      const begun = await browser.request(`${t.url}/auth/oauth/demo/start`);
      const callback = await throughDemoProvider(
        browser,
        begun.headers.get("location") ?? "",
        bob,
        `${t.url}/auth/oauth/demo/callback`,
        "deny",
      );
      expect((await browser.request(callback)).headers.get("location")).toBe(`${APP}/sign-in#error=oauth_denied`);
    });

    it("gives an address's verified owner the account an attacker registered first, and kills the attacker's way in", async () => {
      const attacker = await signUp(t, alice.email, GOOD_PASSWORD);
      const { location, browser } = await signInWith(alice);
      expect(location).toBe(`${APP}/`);
      const victim = (await (await refreshWith(t, refreshCookie(browser))).response.json()).user;
      expect(victim).toMatchObject({ id: attacker.user.id, email: alice.email, emailVerified: true });
      expect((await loginWith(t, alice.email, GOOD_PASSWORD)).status).toBe(401);
      expect((await refreshWith(t, attacker.cookie)).response.status).toBe(401);
      expect((await t.request("/auth/me", { headers: { authorization: `Bearer ${attacker.accessToken}` } })).status).toBe(401);
    });

    it("never joins an identity without a verified email to an existing account", async () => {
      await signUp(t, eve.email, GOOD_PASSWORD);
      const { location } = await signInWith(eve);
      expect(location).toBe(`${APP}/sign-in#error=account_exists`);
      expect((await loginWith(t, eve.email, GOOD_PASSWORD)).status).toBe(200);
    });

    it("does not sign in a user with a second factor: no cookie, the sign-in page gets an mfaToken", async () => {
      const first = await signInWith(dave);
      const token = (await (await refreshWith(t, refreshCookie(first.browser))).response.json()).accessToken;
      const auth = { authorization: `Bearer ${token}` };
      const { secret } = await (await t.request("/auth/mfa/totp/setup", { method: "POST", headers: auth })).json();
      const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: t.clock.now() });
      expect((await t.request("/auth/mfa/totp/enable", { method: "POST", headers: auth, json: { code } })).status).toBe(200);
      const second = await signInWith(dave);
      expect(second.location).toMatch(new RegExp(`^${APP}/sign-in#mfa=[A-Za-z0-9_-]{43}$`));
      expect(second.back.headers.getSetCookie().some((c) => c.startsWith("__Host-hush_rt=") && !c.includes("Max-Age=0"))).toBe(false);
      const mfaToken = decodeURIComponent(second.location.split("#mfa=")[1] ?? "");
      t.clock.advance(30_000);
      const next = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: t.clock.now() });
      const verified = await t.request("/auth/mfa/verify", { method: "POST", json: { mfaToken, code: next } });
      expect(verified.status).toBe(200);
      expect(JSON.parse(Buffer.from((await verified.json()).accessToken.split(".")[1], "base64url").toString()).amr).toEqual([
        "fed",
        "otp",
        "mfa",
      ]);
    });

    it("links a provider to a signed-in password account, and unlinks it — never the last way in", async () => {
      const carol = DEMO_IDP_USERS[2] as (typeof DEMO_IDP_USERS)[number];
      const owner = await signUp(t, "carol.password@example.com", GOOD_PASSWORD);
      const link = await t.request("/auth/identities/demo/link", {
        method: "POST",
        headers: { authorization: `Bearer ${owner.accessToken}` },
      });
      expect(link.status).toBe(200);
      const { url } = await link.json();
      const { location, browser } = await signInWith(carol, { start: url });
      expect(location).toBe(`${APP}/`);
      const linked = (await (await refreshWith(t, refreshCookie(browser))).response.json()).user;
      expect(linked.id).toBe(owner.user.id);
      const auth = { authorization: `Bearer ${owner.accessToken}` };
      const { identities } = await (await t.request("/auth/identities", { headers: auth })).json();
      expect(identities).toHaveLength(1);
      // A link ticket works once.
      expect((await new ScriptedBrowser().request(url)).headers.get("location")).toBe(`${APP}/sign-in#error=oauth_failed`);
      expect((await t.request(`/auth/identities/${identities[0].id}`, { method: "DELETE", headers: auth })).status).toBe(204);
      // The owner is told of both, by mail without a link.
      const notices = await securityNoticesTo(t, owner.email, 2);
      expect(notices).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/Sign-in with demo was added/),
          expect.stringMatching(/Sign-in with demo was removed/),
        ]),
      );
      for (const text of notices) expect(text).not.toMatch(/#token=/);

      // Bob's account was made by the provider: no password, so its identity is its only way in.
      const bobSession = await signInWith(bob);
      const bobToken = (await (await refreshWith(t, refreshCookie(bobSession.browser))).response.json()).accessToken;
      const bobIdentities = await (await t.request("/auth/identities", { headers: { authorization: `Bearer ${bobToken}` } })).json();
      const last = await t.request(`/auth/identities/${bobIdentities.identities[0].id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${bobToken}` },
      });
      expect(last.status).toBe(409);
      expect((await last.json()).error).toBe("last_sign_in_method");
      // Nor can anyone else remove it.
      expect((await t.request(`/auth/identities/${bobIdentities.identities[0].id}`, { method: "DELETE", headers: auth })).status).toBe(404);
    });
  });

describe("ID tokens a provider must not get away with", () => {
  let rogue: Awaited<ReturnType<typeof startRogueProvider>>;
  let t: TestServer;
  beforeAll(async () => {
    rogue = await startRogueProvider("hush-rogue");
    t = await createTestServer({
      appUrl: APP,
      oauthProviders: { rogue: { issuer: rogue.issuer, clientId: "hush-rogue", clientSecret: "rogue-secret", trustEmail: true } },
    });
  });
  afterAll(async () => {
    await t?.close();
    await rogue?.close();
  });

  /** One whole flow against the rogue provider, bent as told: where the browser ends up. */
  async function flow(bend: Bend) {
    rogue.bend(bend);
    const browser = new ScriptedBrowser();
    const { url } = await browser.follow(`${t.url}/auth/oauth/rogue/start`, (u) => u.href.startsWith(APP));
    return url;
  }

  it("accepts a well-formed ID token (the control case)", async () => {
    expect(await flow("none")).toBe(`${APP}/`);
  });

  for (const bend of ["audience", "issuer", "alg-none", "wrong-key", "expired", "nonce"] as const) {
    it(`refuses an ID token with a bent ${bend}`, async () => {
      expect(await flow(bend)).toBe(`${APP}/sign-in#error=oauth_failed`);
    });
  }

  it("turns a provider's error response into oauth_failed", async () => {
    expect(await flow("error")).toBe(`${APP}/sign-in#error=oauth_failed`);
    expect(t.events.filter((e) => e.type === "oauth_failed").length).toBeGreaterThanOrEqual(7);
  });
});
