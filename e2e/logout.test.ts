import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { internalsOf } from "../packages/server/src/internals.js";
import { countRefreshes, type Demo, HAS_CHROMIUM, launchDemo, openApp, screenshot, signUpInUi, stateOf } from "./demo-fixture.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records every client event of a page, with the error code of `error` events. */
async function record(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Event = { type: string; source?: string; error?: { code?: string } };
    const w = window as never as { hush: { subscribe: (f: (e: Event) => void) => void }; seen: string[] };
    w.seen = [];
    w.hush.subscribe((e) => w.seen.push([e.type, e.source ?? e.error?.code].filter(Boolean).join(":")));
  });
}
const seenOf = (page: Page) => page.evaluate(() => (window as never as { seen: string[] }).seen);

describe.skipIf(!HAS_CHROMIUM)("logout while the auth server cannot confirm it", () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await launchDemo(30);
  });
  afterAll(() => demo?.stop());

  /**
   * Only the transport is faked: `POST /auth/logout` answers 503 (with the CORS headers the real
   * server sends, so the page can read the status); every other request reaches the real server.
   */
  async function failLogouts(context: BrowserContext): Promise<void> {
    await context.route(`${demo.authUrl}/auth/logout`, (route) =>
      route.request().method() === "POST"
        ? route.fulfill({
            status: 503,
            contentType: "application/json",
            headers: { "access-control-allow-origin": demo.webUrl, "access-control-allow-credentials": "true" },
            body: JSON.stringify({ error: "unavailable", message: "The database is unreachable." }),
          })
        : route.continue(),
    );
  }

  const sessionOf = async (page: Page) => {
    const token = await page.evaluate(() =>
      (window as never as { hush: { getAccessToken(): Promise<string | null> } }).hush.getAccessToken(),
    );
    const sid = JSON.parse(Buffer.from((token as string).split(".")[1] as string, "base64url").toString()).sid as string;
    const revokedAt = async () => (await internalsOf(demo.auth).storage.findSessionWithUser(sid))?.session.revokedAt ?? null;
    return Object.assign(revokedAt, { sid });
  };

  it("signs every tab out at once, rejects with logout_failed, keeps reloads and new tabs signed out, and retries until the server confirms", async () => {
    const context = await demo.browser.newContext();
    const a = await openApp(context, demo);
    await signUpInUi(a);
    const b = await openApp(context, demo);
    expect(await stateOf(b)).toBe("authenticated");
    const revokedAt = await sessionOf(a);
    for (const tab of [a, b]) await record(tab);

    await failLogouts(context);
    const outcome = await a.evaluate(() =>
      (window as never as { hush: { logout(): Promise<void> } }).hush.logout().then(
        () => "resolved",
        (error: { code?: string; status?: number }) => `${error.code}:${error.status}`,
      ),
    );
    expect(outcome).toBe("logout_failed:503");
    await a.getByTestId("sign-in").waitFor();
    await b.getByTestId("sign-in").waitFor({ timeout: 1000 });
    // (A peer's shared token may show up first: the second tab may have refreshed on opening.)
    const ofLogout = (await seenOf(a)).filter((e) => e.startsWith("logged-out") || e.startsWith("error"));
    expect(ofLogout.slice(0, 2)).toEqual(["logged-out:this-tab", "error:logout_failed"]);
    expect(await seenOf(b)).toContain("logged-out:other-tab");
    await screenshot(a, "logout-unconfirmed");
    // The server never heard of it: the session and its cookie are alive.
    expect(await revokedAt()).toBeNull();
    expect((await context.cookies()).map((c) => c.name)).toContain("__Host-hush_rt");
    // The one thing written to web storage is the pending-logout mark: the session id, never a token.
    const stored = await a.evaluate(() => Object.keys(localStorage).map((key) => localStorage.getItem(key)));
    expect(stored).toEqual([revokedAt.sid]);

    // A reload, and a new tab, must not sign the user back in from that cookie.
    const refreshes = countRefreshes(context);
    await a.reload();
    await a.waitForFunction(() => (window as never as { hush?: { state: string } }).hush?.state !== "loading");
    const c = await openApp(context, demo);
    await sleep(1500);
    for (const tab of [a, b, c]) {
      expect(await stateOf(tab)).toBe("anonymous");
      expect(await tab.getByTestId("sign-in").count()).toBe(1);
    }
    expect(refreshes.count).toBe(0);
    expect(await revokedAt()).toBeNull();

    // The server comes back: the next retry (here prompted by `online`) ends the session.
    await context.unroute(`${demo.authUrl}/auth/logout`);
    await a.evaluate(() => dispatchEvent(new Event("online")));
    const started = Date.now();
    while (!(await revokedAt()) && Date.now() - started < 40_000) await sleep(200);
    expect(await revokedAt()).not.toBeNull();
    await a.waitForFunction(() => localStorage.length === 0);
    expect((await context.cookies()).map((c) => c.name)).not.toContain("__Host-hush_rt");

    // Confirmed: a reload is simply signed out (no session to find), with nothing left in storage.
    await a.reload();
    await a.waitForFunction(() => (window as never as { hush?: { state: string } }).hush?.state !== "loading");
    expect(await stateOf(a)).toBe("anonymous");
    expect(await a.evaluate(() => localStorage.length)).toBe(0);
    await context.close();
  });

  it("rejects with logout_failed on a network failure too, and still signs the tab out", async () => {
    const context = await demo.browser.newContext();
    const page = await openApp(context, demo);
    await signUpInUi(page);
    await context.route(`${demo.authUrl}/auth/logout`, (route) => route.abort("connectionrefused"));
    const outcome = await page.evaluate(() =>
      (window as never as { hush: { logout(): Promise<void> } }).hush.logout().then(
        () => "resolved",
        (error: { code?: string; status?: number }) => `${error.code}:${error.status}`,
      ),
    );
    expect(outcome).toBe("logout_failed:0");
    await page.getByTestId("sign-in").waitFor();
    await page.reload();
    await page.waitForFunction(() => (window as never as { hush?: { state: string } }).hush?.state !== "loading");
    expect(await stateOf(page)).toBe("anonymous");
    await context.close();
  });
});
