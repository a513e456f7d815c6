import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Demo, HAS_CHROMIUM, launchDemo, openApp, PASSWORD, screenshot, signUpInUi, stateOf } from "./demo-fixture.js";

// The email flows in a real browser, against the demo (no SMTP: the auth server writes each mail
// into its outbox folder, and the demo's /dev/mailbox page lists them with their links).

const NEW_PASSWORD = "amber-heron-hides-17-riddles";

type Hush = { user: { email: string; emailVerified: boolean } | null; refresh(): Promise<string | null> };
const userOf = (page: Page) => page.evaluate(() => (window as never as { hush: Hush }).hush.user);

/** Waits until the client of a freshly loaded page has settled (signed in or not). */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as never as { hush?: { state: string } }).hush?.state !== "loading");
}

/**
 * Opens the dev mailbox (through the header link, or by URL), finds the newest mail to `to`
 * whose subject has `subject`, and clicks its link, as a user reading the mail would; resolves
 * with the link's token once the link's page has loaded and its client settled.
 */
async function followMailLink(page: Page, demo: Demo, to: string, subject: RegExp, path: string): Promise<string> {
  if (await page.getByTestId("dev-mailbox-link").count()) await page.getByTestId("dev-mailbox-link").click();
  else await page.goto(`${demo.webUrl}/dev/mailbox`);
  await page.getByTestId("mailbox").waitFor();
  const mail = page
    .getByTestId("mail")
    .filter({ has: page.getByTestId("mail-to").getByText(to, { exact: true }) })
    .filter({ has: page.getByTestId("mail-subject").getByText(subject) })
    .filter({ has: page.locator(`a[href^="${demo.webUrl}${path}#"]`) })
    .first();
  // The page polls the outbox: the mail shows within seconds of being written.
  await mail.waitFor({ timeout: 15_000 });
  await screenshot(page, "dev-mailbox");
  const link = mail.getByTestId("mail-link").first();
  const href = (await link.getAttribute("href")) ?? "";
  expect(href).toMatch(new RegExp(`^${demo.webUrl}${path}#token=[\\w.-]{20,}$`));
  await link.click();
  await page.waitForURL((url) => url.pathname === path);
  await settled(page);
  return href.split("#token=")[1] ?? "";
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

describe.skipIf(!HAS_CHROMIUM)("email flows in the demo", () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await launchDemo(30);
  });
  afterAll(() => demo?.stop());

  it("sign up, open the verification mail in the dev mailbox, click Verify: the user is verified and the banner gone", async () => {
    const context = await demo.browser.newContext();
    const verifies = countPosts(context, demo, "/auth/email/verify");
    const page = await openApp(context, demo);
    const email = await signUpInUi(page);
    await page.getByTestId("verify-banner").waitFor();
    expect((await userOf(page))?.emailVerified).toBe(false);
    await screenshot(page, "verify-banner");

    await followMailLink(page, demo, email, /confirm your email address/i, "/verify-email");
    // Nothing is spent before the click: a scanner that runs the page's script uses no link up.
    await page.getByTestId("verify-email").waitFor();
    expect(verifies.count).toBe(0);
    await page.getByTestId("verify-email").click();
    await page.getByTestId("link-done").waitFor();
    expect(verifies.count).toBe(1);
    expect(await stateOf(page)).toBe("authenticated");
    expect(await userOf(page)).toMatchObject({ email, emailVerified: true });
    await page.getByTestId("continue").click();
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("verify-banner").count()).toBe(0);
    // And after a reload, from the server's own record (the refresh's answer).
    await page.reload();
    await settled(page);
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("verify-banner").count()).toBe(0);
    expect((await userOf(page))?.emailVerified).toBe(true);
    await screenshot(page, "email-verified");

    // Back to the link page: its history entry has no token left to send.
    await page.goBack();
    await page.waitForURL((url) => url.pathname === "/verify-email");
    expect(await page.evaluate(() => location.hash)).toBe("");
    await page.getByTestId("no-token").waitFor();
    expect(verifies.count).toBe(1);
    await context.close();
  });

  it("forgot password: the reset link, opened in another browser, sets a new password and signs the first browser out at its next refresh", async () => {
    const first = await demo.browser.newContext();
    const a = await openApp(first, demo);
    const email = await signUpInUi(a);

    const second = await demo.browser.newContext();
    const b = await openApp(second, demo);
    await b.getByTestId("forgot-password").click();
    await b.getByTestId("email").fill(email);
    await b.getByTestId("submit").click();
    expect(await b.getByTestId("auth-notice").textContent()).toContain("If an account exists");

    await followMailLink(b, demo, email, /reset your/i, "/reset-password");
    await b.getByTestId("new-password").fill(NEW_PASSWORD);
    await b.getByTestId("reset-password").click();
    await b.getByTestId("link-done").waitFor();
    expect(await stateOf(b)).toBe("authenticated");
    expect((await userOf(b))?.email).toBe(email);
    await screenshot(b, "password-reset");

    // The first browser still holds an access token (valid until it expires), but its session
    // is gone: the next refresh signs it out.
    expect(await stateOf(a)).toBe("authenticated");
    expect(await a.evaluate(() => (window as never as { hush: Hush }).hush.refresh())).toBeNull();
    expect(await stateOf(a)).toBe("anonymous");
    await a.getByTestId("sign-in").waitFor();
    await a.reload();
    await settled(a);
    expect(await stateOf(a)).toBe("anonymous");
    // The old password is refused; the new one works.
    await a.getByTestId("email").fill(email);
    await a.getByTestId("password").fill(PASSWORD);
    await a.getByTestId("submit").click();
    expect(await a.getByTestId("auth-error").textContent()).toContain("invalid_credentials");
    await a.getByTestId("password").fill(NEW_PASSWORD);
    await a.getByTestId("submit").click();
    await a.getByTestId("who").waitFor();
    await first.close();
    await second.close();
  });

  it("a link page takes the token out of the address bar and history, and sends it only on a click", async () => {
    const owner = await demo.browser.newContext();
    const email = await signUpInUi(await openApp(owner, demo));
    await owner.close();

    const context = await demo.browser.newContext();
    const uses = countPosts(context, demo, "/auth/signin-link/verify");
    const page = await openApp(context, demo);
    await page.getByTestId("sign-in-link-mode").click();
    await page.getByTestId("email").fill(email);
    await page.getByTestId("submit").click();
    await page.getByTestId("auth-notice").waitFor();
    const linkToken = await followMailLink(page, demo, email, /sign-in link/i, "/sign-in-link");

    // Gone from the address bar…
    expect(await page.evaluate(() => [location.href, location.hash])).toEqual([`${demo.webUrl}/sign-in-link`, ""]);
    expect(page.url()).not.toContain("token");
    await page.waitForTimeout(1000);
    expect(uses.count).toBe(0);
    await page.getByTestId("sign-in-with-link").click();
    await page.getByTestId("link-done").waitFor();
    expect(uses.count).toBe(1);
    expect(await stateOf(page)).toBe("authenticated");
    expect((await userOf(page))?.email).toBe(email);

    // … and from history: Back leads to the mailbox, Forward to the link page without its token.
    const length = await page.evaluate(() => history.length);
    await page.goBack();
    await page.waitForURL((url) => url.pathname === "/dev/mailbox");
    expect(await page.evaluate(() => location.hash)).toBe("");
    await page.goForward();
    await page.waitForURL((url) => url.pathname === "/sign-in-link");
    expect(await page.evaluate(() => [location.href, location.hash, history.length])).toEqual([`${demo.webUrl}/sign-in-link`, "", length]);
    expect(page.url()).not.toContain(linkToken);
    // In-page Back too (no navigation by Playwright): never the token. Scheduled after the
    // evaluation returns: Back leaves this document, which would otherwise end the evaluation.
    await page.evaluate(() => {
      setTimeout(() => history.back(), 0);
    });
    await page.waitForURL((url) => url.pathname === "/dev/mailbox");
    expect(await page.evaluate(() => location.href)).not.toContain("token");
    await context.close();
  });

  it("change email: the confirmation link moves the account to the new address, and the signed-in tab shows it", async () => {
    const context = await demo.browser.newContext();
    const page = await openApp(context, demo);
    const email = await signUpInUi(page);
    const newEmail = `moved-${email}`;
    await page.getByTestId("new-email").fill(newEmail);
    await page.getByTestId("change-email-password").fill(PASSWORD);
    await page.getByTestId("change-email").click();
    expect(await page.getByTestId("change-email-message").textContent()).toContain(newEmail);

    await followMailLink(page, demo, newEmail, /./, "/confirm-email");
    await page.getByTestId("confirm-email").waitFor();
    await page.getByTestId("confirm-email").click();
    expect(await page.getByTestId("link-done").textContent()).toContain(newEmail);
    expect(await userOf(page)).toMatchObject({ email: newEmail, emailVerified: true });
    await page.getByTestId("continue").click();
    expect(await page.getByTestId("who").textContent()).toContain(newEmail);
    await context.close();
  });

  it("delete account: a wrong password changes nothing; the right one signs every tab out, for good", async () => {
    const context = await demo.browser.newContext();
    const a = await openApp(context, demo);
    const email = await signUpInUi(a);
    const b = await openApp(context, demo);
    expect(await stateOf(b)).toBe("authenticated");

    await a.getByTestId("delete-password").fill("not-the-password-at-all");
    await a.getByTestId("delete-confirm").check();
    await a.getByTestId("delete-account").click();
    await a.getByTestId("delete-error").waitFor();
    expect(await stateOf(a)).toBe("authenticated");

    await a.getByTestId("delete-password").fill(PASSWORD);
    await a.getByTestId("delete-account").click();
    await a.getByTestId("sign-in").waitFor();
    await b.getByTestId("sign-in").waitFor({ timeout: 2000 });
    expect((await context.cookies()).map((c) => c.name)).not.toContain("__Host-hush_rt");
    await a.reload();
    await settled(a);
    expect(await stateOf(a)).toBe("anonymous");
    await a.getByTestId("email").fill(email);
    await a.getByTestId("password").fill(PASSWORD);
    await a.getByTestId("submit").click();
    expect(await a.getByTestId("auth-error").textContent()).toContain("invalid_credentials");
    await context.close();
  });
});
