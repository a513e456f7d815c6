import * as OTPAuth from "otpauth";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_IDP_USERS } from "../apps/demo/server/demo-idp.js";
import { type Demo, HAS_CHROMIUM, launchDemo, openApp, PASSWORD, screenshot, signUpInUi, stateOf } from "./demo-fixture.js";

// "Sign in with Demo IdP" in a real browser: the demo's own OpenID provider (oidc-provider, on
// 127.0.0.1, another site than the app's localhost) with its real login and consent pages, the
// auth server's OpenID Connect client, and the app's load-time refresh that signs the app in.

type Hush = { state: string; user: { id: string; email: string } | null; getAccessToken(): Promise<string | null> };
const hushOf = (page: Page) => page.evaluate(() => (window as never as { hush: Hush }).hush.user);

const userOf = (email: string) => {
  const user = DEMO_IDP_USERS.find((candidate) => candidate.email === email);
  if (!user) throw new Error(`No demo IdP user ${email}`);
  return user;
};

/** Every URL a context's pages navigated to and every URL it requested, in order. */
function recordUrls(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on("request", (request) => urls.push(request.url()));
  context.on("page", (page) => page.on("framenavigated", (frame) => urls.push(frame.url())));
  for (const page of context.pages()) page.on("framenavigated", (frame) => urls.push(frame.url()));
  return urls;
}

/** Waits until the page shows the demo IdP's step `path` (a login or consent page of an interaction). */
async function atIdp(page: Page, demo: Demo): Promise<void> {
  await page.waitForURL((url) => url.origin === demo.idpUrl && url.pathname.startsWith("/interaction/"));
}

/** On the IdP's login page: signs in as the demo user `email` with its password. */
async function idpLogin(page: Page, demo: Demo, email: string): Promise<void> {
  await atIdp(page, demo);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(userOf(email).password);
  await page.locator("button#sign-in").click();
}

/** On the IdP's consent page: allows the app what it asks. */
async function idpConsent(page: Page, demo: Demo): Promise<void> {
  const allow = page.locator('button[name="decision"][value="allow"]');
  await allow.waitFor();
  expect(new URL(page.url()).origin).toBe(demo.idpUrl);
  await allow.click();
}

/** Back in the app: waits for its load-time refresh to settle. */
async function backInApp(page: Page, demo: Demo): Promise<void> {
  await page.waitForURL((url) => url.origin === demo.webUrl);
  await page.waitForFunction(() => (window as never as { hush?: { state: string } }).hush?.state !== "loading");
}

async function signOut(page: Page): Promise<void> {
  await page.getByTestId("logout").click();
  await page.getByTestId("sign-in").waitFor();
}

/** Everything a page could have stored, outside memory (the refresh cookie is HttpOnly). */
const stored = (page: Page) =>
  page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    cookie: document.cookie,
    indexedDb: (await indexedDB.databases()).length,
  }));

/** An authenticator app that gives each call the code of a later time step (the server refuses a replay). */
function authenticatorApp(secret: string): () => Promise<string> {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 });
  let last = 0;
  return async () => {
    const step = Math.max(last + 1, Math.floor(Date.now() / 30_000));
    const wait = (step - 1) * 30_000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 250));
    last = step;
    return totp.generate({ timestamp: step * 30_000 });
  };
}

describe.skipIf(!HAS_CHROMIUM)("sign-in with other providers in the demo", () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await launchDemo(60);
    expect(demo.idpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(() => demo?.stop());

  it("signs in through the provider's real login and consent pages, with no token in any URL or in storage", async () => {
    const context = await demo.browser.newContext();
    const urls = recordUrls(context);
    const page = await openApp(context, demo);
    const button = page.getByTestId("provider-demo");
    expect(await button.textContent()).toBe("Sign in with Demo IdP");
    await button.click();

    await atIdp(page, demo);
    // The login page lists the demo users; a wrong password is refused there.
    expect(await page.locator("table").textContent()).toContain("bob@example.com");
    await page.locator('input[name="email"]').fill("bob@example.com");
    await page.locator('input[name="password"]').fill("not-his-password");
    await page.locator("button#sign-in").click();
    await page.locator("#error").waitFor();
    await screenshot(page, "providers-idp-login");
    await idpLogin(page, demo, "bob@example.com");
    await page.locator('button[name="decision"]').first().waitFor();
    expect(await page.locator("main").textContent()).toContain("Signed in as bob@example.com");
    await screenshot(page, "providers-idp-consent");
    await idpConsent(page, demo);
    await backInApp(page, demo);
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("who").textContent()).toContain("bob@example.com");
    expect(new URL(page.url()).pathname).toBe("/");
    expect(new URL(page.url()).hash).toBe("");

    // The auth server saw the callback with a code (and state), never a token; the app got its
    // access token from the load-time refresh, in memory.
    const accessToken = await page.evaluate(() => (window as never as { hush: Hush }).hush.getAccessToken());
    expect(accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const refreshCookies = (await context.cookies()).filter((cookie) => cookie.name.includes("hush_rt"));
    expect(refreshCookies).toHaveLength(1);
    const callback = urls.filter((url) => url.startsWith(`${demo.authUrl}/auth/oauth/demo/callback?`));
    expect(callback.length).toBeGreaterThanOrEqual(1);
    expect(new URL(callback[0] as string).searchParams.get("code")).toBeTruthy();
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) {
      expect(url).not.toContain(accessToken);
      expect(url).not.toContain(refreshCookies[0]?.value);
      // No JWT at all (an ID token, an access token) in a URL: the code flow keeps them off the front channel.
      expect(url).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
      expect(url).not.toMatch(/access_?token|refresh_?token|id_token=/i);
    }
    expect(await stored(page)).toEqual({ local: 0, session: 0, cookie: "hush_session=1", indexedDb: 0 });

    // A reload signs in from the cookie the callback set.
    await page.reload();
    await page.getByTestId("who").waitFor();
    expect(await stateOf(page)).toBe("authenticated");

    // The identity is listed; as the account's only way in, it cannot be unlinked.
    const identity = page.getByTestId("identity");
    await identity.waitFor();
    expect(await identity.getByTestId("identity-provider").textContent()).toBe("Demo IdP");
    expect(await identity.getByTestId("identity-email").textContent()).toBe("bob@example.com");
    await identity.getByTestId("unlink-identity").click();
    await page.getByTestId("identity-message").waitFor();
    expect(await page.getByTestId("identity-message").textContent()).toContain("only way to sign in");
    expect(await page.getByTestId("identity").count()).toBe(1);
    await screenshot(page, "providers-signed-in");
    await context.close();
  });

  it("links the provider to a password account, signs in with it to that account, and unlinks it", async () => {
    const context = await demo.browser.newContext();
    const page = await openApp(context, demo);
    const email = await signUpInUi(page);
    const accountId = (await hushOf(page))?.id;
    expect(await page.getByTestId("identity").count()).toBe(0);

    await page.getByTestId("link-provider-demo").click();
    await idpLogin(page, demo, "carol@example.com");
    await idpConsent(page, demo);
    await backInApp(page, demo);
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("who").textContent()).toContain(email);
    expect((await hushOf(page))?.id).toBe(accountId);
    await page.getByTestId("identity").waitFor();
    expect(await page.getByTestId("identity-email").textContent()).toBe("carol@example.com");

    // Signed out, "Sign in with Demo IdP" (the provider remembers carol and her consent) is the same account.
    await signOut(page);
    await page.getByTestId("provider-demo").click();
    await backInApp(page, demo);
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("who").textContent()).toContain(email);
    expect((await hushOf(page))?.id).toBe(accountId);

    // Unlink (the account has a password): the identity goes, and the provider no longer leads here.
    await page.getByTestId("unlink-identity").click();
    await expect.poll(() => page.getByTestId("identity").count()).toBe(0);
    expect(await page.getByTestId("identity-message").count()).toBe(0);
    await signOut(page);
    await page.getByTestId("provider-demo").click();
    await backInApp(page, demo);
    await page.getByTestId("who").waitFor();
    // carol@example.com (verified) had no account: the provider sign-in made a new one.
    expect(await page.getByTestId("who").textContent()).toContain("carol@example.com");
    expect((await hushOf(page))?.id).not.toBe(accountId);
    await context.close();
  });

  it("pre-account takeover: the provider's verified owner of an address wins over an unverified password account", async () => {
    const attackerPassword = "mallory-was-here-first-99";
    const attacker = await demo.browser.newContext();
    const attackerPage = await openApp(attacker, demo);
    await attackerPage.getByTestId("switch-mode").click();
    await attackerPage.getByTestId("email").fill("alice@example.com");
    await attackerPage.getByTestId("password").fill(attackerPassword);
    await attackerPage.getByTestId("submit").click();
    await attackerPage.getByTestId("who").waitFor();
    const squatted = await hushOf(attackerPage);
    expect(squatted?.email).toBe("alice@example.com");

    const victim = await demo.browser.newContext();
    const victimPage = await openApp(victim, demo);
    await victimPage.getByTestId("provider-demo").click();
    await idpLogin(victimPage, demo, "alice@example.com");
    await idpConsent(victimPage, demo);
    await backInApp(victimPage, demo);
    await victimPage.getByTestId("who").waitFor();
    expect(await victimPage.getByTestId("who").textContent()).toContain("alice@example.com");
    expect((await hushOf(victimPage))?.id).toBe(squatted?.id);

    // The attacker's session is dead: a reload finds no session to refresh.
    await attackerPage.reload();
    await attackerPage.getByTestId("sign-in").waitFor();
    expect(await stateOf(attackerPage)).toBe("anonymous");
    // And the password the attacker set no longer signs in.
    await attackerPage.getByTestId("email").fill("alice@example.com");
    await attackerPage.getByTestId("password").fill(attackerPassword);
    await attackerPage.getByTestId("submit").click();
    await attackerPage.getByTestId("auth-error").waitFor();
    expect(await stateOf(attackerPage)).toBe("anonymous");
    await screenshot(attackerPage, "providers-takeover-attacker");

    // The victim goes on.
    await victimPage.reload();
    await victimPage.getByTestId("who").waitFor();
    await attacker.close();
    await victim.close();
  });

  it("an unverified provider address never joins an existing account, and a cancel comes back as oauth_denied", async () => {
    const owner = await demo.browser.newContext();
    const ownerPage = await openApp(owner, demo);
    await ownerPage.getByTestId("switch-mode").click();
    await ownerPage.getByTestId("email").fill("eve@example.com");
    await ownerPage.getByTestId("password").fill(PASSWORD);
    await ownerPage.getByTestId("submit").click();
    await ownerPage.getByTestId("who").waitFor();
    await owner.close();

    const context = await demo.browser.newContext();
    const urls = recordUrls(context);
    const page = await openApp(context, demo);
    await page.getByTestId("provider-demo").click();
    await idpLogin(page, demo, "eve@example.com");
    await idpConsent(page, demo);
    await backInApp(page, demo);
    await page.getByTestId("provider-error").waitFor();
    expect(await page.getByTestId("provider-error").getAttribute("data-code")).toBe("account_exists");
    expect(await stateOf(page)).toBe("anonymous");
    expect(urls).toContain(`${demo.webUrl}/sign-in#error=account_exists`);
    // The fragment is gone from the address bar (and this history entry) once read.
    expect(page.url()).toBe(`${demo.webUrl}/sign-in`);
    await screenshot(page, "providers-account-exists");

    await page.getByTestId("provider-error-dismiss").click();
    expect(await page.getByTestId("provider-error").count()).toBe(0);
    await context.close();

    // Cancelling at the provider: on its login page, and (another browser) on its consent page.
    for (const where of ["login", "consent"]) {
      const other = await demo.browser.newContext();
      const otherPage = await openApp(other, demo);
      await otherPage.getByTestId("provider-demo").click();
      await atIdp(otherPage, demo);
      if (where === "login") await otherPage.locator("button#cancel").click();
      else {
        await idpLogin(otherPage, demo, "bob@example.com");
        await otherPage.locator('button[name="decision"][value="deny"]').click();
      }
      await backInApp(otherPage, demo);
      await otherPage.getByTestId("provider-error").waitFor();
      expect(await otherPage.getByTestId("provider-error").getAttribute("data-code")).toBe("oauth_denied");
      expect(await stateOf(otherPage)).toBe("anonymous");
      expect(otherPage.url()).toBe(`${demo.webUrl}/sign-in`);
      await other.close();
    }
  });

  it("an account with a second factor finishes a provider sign-in with a code", async () => {
    const context = await demo.browser.newContext();
    const page = await openApp(context, demo);
    await page.getByTestId("provider-demo").click();
    await idpLogin(page, demo, "bob@example.com");
    await idpConsent(page, demo);
    await backInApp(page, demo);
    await page.getByTestId("who").waitFor();

    await page.getByTestId("totp-setup").click();
    const secret = (await page.getByTestId("totp-secret").textContent()) ?? "";
    const nextCode = authenticatorApp(secret);
    await page.getByTestId("totp-enable-code").fill(await nextCode());
    await page.getByTestId("totp-enable").click();
    await page.getByTestId("recovery-codes").waitFor();
    await page.getByTestId("recovery-codes-done").click();

    // Signed out, the provider signs bob in at once; the auth server sets no cookie and sends the
    // app to its second step instead.
    await signOut(page);
    const urls = recordUrls(context);
    await page.getByTestId("provider-demo").click();
    await backInApp(page, demo);
    await page.getByTestId("mfa-step").waitFor();
    expect(await stateOf(page)).toBe("anonymous");
    expect(urls.some((url) => url.startsWith(`${demo.webUrl}/sign-in#mfa=`))).toBe(true);
    expect(page.url()).toBe(`${demo.webUrl}/sign-in`);
    await page.getByTestId("mfa-code").fill(await nextCode());
    await page.getByTestId("mfa-submit").click();
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("who").textContent()).toContain("bob@example.com");
    await context.close();
  });
});
