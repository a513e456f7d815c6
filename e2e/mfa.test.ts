import * as OTPAuth from "otpauth";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Demo, HAS_CHROMIUM, launchDemo, openApp, PASSWORD, screenshot, signUpInUi, stateOf } from "./demo-fixture.js";

// Passkeys, two-factor authentication and step-up in a real browser, against the demo. The
// passkeys live in Chromium's virtual authenticator (DevTools protocol), which signs real WebAuthn
// ceremonies that the auth server verifies; the authenticator-app codes are computed here from the
// secret the page shows, as the app on a phone would.

const STEP_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A CTAP2 platform authenticator with resident keys that verifies its user, attached to `page`. */
async function addVirtualAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    /**
     * Whether the authenticator answers by itself. It then also answers a conditional (autofill)
     * request at once, as a user picking the passkey from the autofill would; off, such a request
     * waits (and stays waiting when it is turned back on).
     */
    answerByItself: (enabled: boolean) => cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled }),
  };
}

/**
 * The authenticator app: each call gives the code of a later time step than the last (the server
 * refuses a step it has accepted once), waiting when that step is more than the one step of
 * drift the server allows ahead of the clock.
 */
function authenticatorApp(secret: string): () => Promise<string> {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 });
  let last = 0;
  return async () => {
    const step = Math.max(last + 1, Math.floor(Date.now() / STEP_MS));
    const wait = (step - 1) * STEP_MS - Date.now();
    if (wait > 0) await sleep(wait + 250);
    last = step;
    return totp.generate({ timestamp: step * STEP_MS });
  };
}

/** Counts POSTs a context makes to one auth endpoint. */
function countPosts(context: BrowserContext, demo: Demo, path: string): { readonly count: number } {
  let count = 0;
  context.on("request", (request) => {
    if (request.method() === "POST" && request.url() === `${demo.authUrl}${path}`) count++;
  });
  return {
    get count() {
      return count;
    },
  };
}

/** The `amr` of the access token the page holds, as the token timeline shows it. */
async function amrOf(page: Page): Promise<string[]> {
  const text = await page.getByTestId("token-amr").textContent({ timeout: 10_000 });
  return (text ?? "").split(", ").sort();
}

async function signInWithPassword(page: Page, email: string): Promise<void> {
  await page.getByTestId("email").fill(email);
  await page.getByTestId("password").fill(PASSWORD);
  await page.getByTestId("submit").click();
}

/** Opens the newest link to `path` mailed to `to`, from the demo's dev mailbox, as its reader would. */
async function openMailedLink(page: Page, demo: Demo, to: string, path: string): Promise<void> {
  await page.goto(`${demo.webUrl}/dev/mailbox`);
  const link = page
    .getByTestId("mail")
    .filter({ has: page.getByTestId("mail-to").getByText(to, { exact: true }) })
    .locator(`a[href^="${demo.webUrl}${path}#"]`)
    .first();
  await link.waitFor({ timeout: 15_000 });
  await link.click();
  await page.waitForURL((url) => url.pathname === path);
  await page.waitForFunction(() => (window as never as { hush?: { state: string } }).hush?.state !== "loading");
}

async function signOut(page: Page): Promise<void> {
  await page.getByTestId("logout").click();
  await page.getByTestId("sign-in").waitFor();
}

describe.skipIf(!HAS_CHROMIUM)("passkeys, two-factor authentication and step-up in the demo", () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await launchDemo(60);
  });
  afterAll(() => demo?.stop());

  it("registers a passkey, passes a step-up with it, signs in with it from the button and from the autofill, and removes it", async () => {
    const context = await demo.browser.newContext();
    const passkeyLogins = countPosts(context, demo, "/auth/passkeys/login");
    const page = await openApp(context, demo);
    const authenticator = await addVirtualAuthenticator(context, page);
    const email = await signUpInUi(page);
    expect(await amrOf(page)).toEqual(["pwd"]);

    await page.getByTestId("passkey-name-input").fill("Laptop");
    await page.getByTestId("add-passkey").click();
    await page.getByTestId("passkey").filter({ hasText: "Laptop" }).waitFor();
    const [credential, ...others] = await authenticator.credentials();
    expect(others).toEqual([]);
    expect(credential).toMatchObject({ rpId: "localhost", isResidentCredential: true });
    await screenshot(page, "mfa-passkey-added");

    // Step-up: the notes API's secret route wants amr "mfa"; a password sign-in has only "pwd".
    await page.getByTestId("secret-notes-load").click();
    await page.getByTestId("reauth").waitFor();
    // A password alone never satisfies a step-up: the prompt does not offer it.
    expect(await page.getByTestId("reauth-password").count()).toBe(0);
    await screenshot(page, "mfa-step-up-prompt");
    await page.getByTestId("reauth-passkey").click();
    await page.getByTestId("secret-note").waitFor();
    expect(await page.getByTestId("reauth").count()).toBe(0);
    expect(await amrOf(page)).toEqual(expect.arrayContaining(["mfa", "user"]));
    // The same session: a re-authentication issues no new cookie, and logs nobody in again.
    expect(passkeyLogins.count).toBe(0);

    // Sign out, then in with the button. The autofill request the sign-in form starts must not
    // answer first: the authenticator waits for a "touch" until that request is pending.
    await authenticator.answerByItself(false);
    const autofillAsked = page.waitForRequest((request) => request.url() === `${demo.authUrl}/auth/passkeys/login/options`);
    await signOut(page);
    await autofillAsked;
    await sleep(300);
    await authenticator.answerByItself(true);
    await page.getByTestId("passkey-sign-in").click();
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("who").textContent()).toContain(email);
    expect(passkeyLogins.count).toBe(1);
    expect(await amrOf(page)).toEqual(expect.arrayContaining(["mfa", "user"]));

    // Sign out, and the email field's autofill offers the passkey: picking it signs in, no click
    // on any button (the virtual authenticator picks as soon as the request is made).
    await signOut(page);
    await page.getByTestId("who").waitFor();
    expect(passkeyLogins.count).toBe(2);
    expect(await stateOf(page)).toBe("authenticated");
    // A reload signs in from the cookie that passkey sign-in set.
    await page.reload();
    await page.getByTestId("who").waitFor();
    expect(passkeyLogins.count).toBe(2);

    // Remove it (the passkey sign-in is recent): the server forgets it.
    await page.getByTestId("remove-passkey").click();
    await expect.poll(() => page.getByTestId("passkey").count()).toBe(0);
    expect(await page.getByTestId("passkey-message").count()).toBe(0);
    await context.close();
  });

  it("enrols an authenticator app, asks for it to re-authenticate, signs in with a code, a recovery code and a sign-in link, and turns it off", async () => {
    const context = await demo.browser.newContext();
    const page = await openApp(context, demo);
    const email = await signUpInUi(page);

    await page.getByTestId("totp-setup").click();
    const secret = (await page.getByTestId("totp-secret").textContent()) ?? "";
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect(await page.getByTestId("totp-url").textContent()).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect(await page.getByTestId("totp-qr").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await screenshot(page, "mfa-totp-setup");
    const nextCode = authenticatorApp(secret);
    await page.getByTestId("totp-enable-code").fill(await nextCode());
    await page.getByTestId("totp-enable").click();
    await page.getByTestId("recovery-codes").waitFor();
    const firstCodes = await page.getByTestId("recovery-code").allTextContents();
    expect(firstCodes).toHaveLength(10);
    await page.getByTestId("recovery-codes-done").click();
    expect(await page.getByTestId("mfa-status").textContent()).toContain("10 recovery codes left");

    // New recovery codes: with a second factor enrolled, a password sign-in is not enough. The
    // prompt asks, the code re-authenticates, and the operation is retried.
    await page.getByTestId("regenerate-codes").click();
    await page.getByTestId("reauth").waitFor();
    await page.getByTestId("reauth-code").fill(await nextCode());
    await screenshot(page, "mfa-reauth-prompt");
    await page.getByTestId("reauth-code-submit").click();
    await page.getByTestId("recovery-codes").waitFor();
    const codes = await page.getByTestId("recovery-code").allTextContents();
    expect(codes).toHaveLength(10);
    expect(codes.filter((code) => firstCodes.includes(code))).toEqual([]);
    await page.getByTestId("recovery-codes-done").click();
    expect(await amrOf(page)).toEqual(["otp"]);

    // Sign in with a recovery code: the old ones are void, a new one works, once.
    await signOut(page);
    await signInWithPassword(page, email);
    await page.getByTestId("mfa-step").waitFor();
    expect(await stateOf(page)).toBe("anonymous");
    await page.getByTestId("use-recovery-code").click();
    await page.getByTestId("mfa-recovery-code").fill(firstCodes[0] ?? "");
    await page.getByTestId("mfa-submit").click();
    await page.getByTestId("mfa-error").waitFor();
    expect(await page.getByTestId("mfa-error").textContent()).toContain("not right");
    await page.getByTestId("mfa-recovery-code").fill(codes[0] ?? "");
    await page.getByTestId("mfa-submit").click();
    await page.getByTestId("who").waitFor();
    await expect.poll(() => page.getByTestId("mfa-status").textContent()).toContain("9 recovery codes left");

    // Sign in with the authenticator app.
    await signOut(page);
    await signInWithPassword(page, email);
    await page.getByTestId("mfa-code").fill(await nextCode());
    await screenshot(page, "mfa-code-step");
    await page.getByTestId("mfa-submit").click();
    await page.getByTestId("who").waitFor();
    expect(await amrOf(page)).toEqual(["mfa", "otp", "pwd"]);

    // A sign-in link is one factor too: following it asks for the second (here a recovery code).
    await signOut(page);
    await page.getByTestId("sign-in-link-mode").click();
    await page.getByTestId("email").fill(email);
    await page.getByTestId("submit").click();
    await page.getByTestId("auth-notice").waitFor();
    await openMailedLink(page, demo, email, "/sign-in-link");
    await page.getByTestId("sign-in-with-link").click();
    await page.getByTestId("mfa-step").waitFor();
    expect(await stateOf(page)).toBe("anonymous");
    await page.getByTestId("use-recovery-code").click();
    await page.getByTestId("mfa-recovery-code").fill(codes[1] ?? "");
    await page.getByTestId("mfa-submit").click();
    await page.getByTestId("link-done").waitFor();
    expect(await page.getByTestId("link-done").textContent()).toContain(`signed in as ${email}`);
    expect(await stateOf(page)).toBe("authenticated");
    await page.getByTestId("continue").click();
    await page.getByTestId("who").waitFor();
    expect(await amrOf(page)).toEqual(expect.arrayContaining(["email", "mfa"]));

    // Turn it off with a recovery code: the next password sign-in has no second step.
    await page.getByTestId("totp-disable-code").fill(codes[2] ?? "");
    await page.getByTestId("totp-disable").click();
    await expect.poll(() => page.getByTestId("mfa-status").textContent()).toContain("Off");
    await signOut(page);
    await signInWithPassword(page, email);
    await page.getByTestId("who").waitFor();
    expect(await amrOf(page)).toEqual(["pwd"]);
    await context.close();
  });
});
