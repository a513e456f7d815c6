import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRefreshes, type Demo, HAS_CHROMIUM, launchDemo, openApp, screenshot, signUpInUi, stateOf } from "./demo-fixture.js";

const TTL = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!HAS_CHROMIUM)("one tab: silent refresh in real Chromium", () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await launchDemo(TTL);
  });
  afterAll(() => demo?.stop());

  async function fresh(
    init?: (context: BrowserContext) => Promise<unknown>,
  ): Promise<{ context: BrowserContext; page: Page; refreshes: ReturnType<typeof countRefreshes> }> {
    const context = await demo.browser.newContext();
    await init?.(context);
    const refreshes = countRefreshes(context);
    const page = await openApp(context, demo);
    await signUpInUi(page);
    return { context, page, refreshes };
  }

  /** Everything a page could have stored, outside memory. */
  const stored = (page: Page) =>
    page.evaluate(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
      indexedDb: (await indexedDB.databases()).length,
    }));

  it("keeps the session across a reload, with no token in localStorage, sessionStorage, IndexedDB or document.cookie", async () => {
    const { context, page } = await fresh();
    await page.getByTestId("note-text").fill("survives a reload");
    await page.getByTestId("add-note").click();
    await page.getByText("survives a reload").waitFor();
    // Scripts see only the session hint: a "1", no token.
    expect(await stored(page)).toEqual({ local: 0, session: 0, cookie: "hush_session=1", indexedDb: 0 });
    // The refresh cookie is there, but HttpOnly, Secure and host-only; beside it the device
    // cookie (a signed "this browser signed in here before", no token), just as guarded, and
    // the hint, with the refresh cookie's lifetime and attributes but readable by scripts.
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name).sort()).toEqual(["__Host-hush_device", "__Host-hush_rt", "hush_session"]);
    const refresh = cookies.find((c) => c.name === "__Host-hush_rt");
    for (const cookie of cookies) {
      expect(cookie).toMatchObject({ httpOnly: cookie.name !== "hush_session", secure: true, sameSite: "Strict", path: "/" });
    }
    const hint = cookies.find((c) => c.name === "hush_session");
    expect(hint?.value).toBe("1");
    expect(Math.abs((hint?.expires ?? 0) - (refresh?.expires ?? 0))).toBeLessThan(2);

    await page.reload();
    // During the silent refresh on load the app shows neither the sign-in form nor the notes.
    await page.getByTestId("who").waitFor();
    expect(await page.getByTestId("sign-in").count()).toBe(0);
    await page.getByText("survives a reload").waitFor();
    expect(await stored(page)).toEqual({ local: 0, session: 0, cookie: "hush_session=1", indexedDb: 0 });
    await screenshot(page, "after-reload");
    await context.close();
  });

  it("costs an anonymous visitor no request: the hint is absent, so nothing is refreshed on load", async () => {
    const context = await demo.browser.newContext();
    const refreshes = countRefreshes(context);
    const consoleErrors: string[] = [];
    context.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
    // Five anonymous page loads: without the hint each would have been a POST /auth/refresh and a 401.
    const page = await openApp(context, demo);
    for (let load = 1; load < 5; load++) {
      await page.reload();
      await page.waitForFunction(() => (window as unknown as { hush?: { state: string } }).hush?.state === "anonymous");
    }
    expect(refreshes.count).toBe(0);
    expect(consoleErrors).toEqual([]);
    await page.getByTestId("sign-in").waitFor();

    // Signed in, a load refreshes once; signed out again (the hint is cleared with the cookie), none.
    await signUpInUi(page);
    refreshes.reset();
    await page.reload();
    await page.getByTestId("who").waitFor();
    expect(refreshes.count).toBe(1);
    await page.getByTestId("logout").click();
    await page.getByTestId("sign-in").waitFor();
    refreshes.reset();
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { hush?: { state: string } }).hush?.state === "anonymous");
    expect(refreshes.count).toBe(0);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    console.log("hint: 5 anonymous loads and 1 after logout sent 0 refresh requests (6 saved); a signed-in load sent 1");
    await context.close();
  });

  it("refreshes before expiry, so the app's requests never meet an expired token", async () => {
    const { context, page, refreshes } = await fresh();
    const apiStatuses: number[] = [];
    context.on("response", (response) => {
      if (response.url().startsWith(demo.apiUrl)) apiStatuses.push(response.status());
    });
    const started = Date.now();
    while (Date.now() - started < 2.5 * TTL * 1000) {
      const status = await page.evaluate(
        async (api) => (await (window as never as { hush: { fetch: typeof fetch } }).hush.fetch(`${api}/notes`)).status,
        demo.apiUrl,
      );
      expect(status).toBe(200);
      await sleep(400);
    }
    expect(apiStatuses.filter((s) => s === 401)).toEqual([]);
    expect(refreshes.count).toBeGreaterThanOrEqual(2);
    expect(refreshes.count).toBeLessThanOrEqual(4);
    await page.getByTestId("timeline-events").getByText("Silent refresh").first().waitFor();
    await screenshot(page, "token-timeline");
    await context.close();
  });

  it("makes exactly one refresh request for ten concurrent API calls with an expired token", async () => {
    const { context, page, refreshes } = await fresh((c) =>
      c.addInitScript(() => Object.assign(window, { HUSH_CLIENT_OPTIONS: { autoRefresh: false } })),
    );
    await sleep((TTL + 6) * 1000);
    refreshes.reset();
    const statuses = await page.evaluate(async (api) => {
      const hush = (window as never as { hush: { fetch: typeof fetch } }).hush;
      return Promise.all(Array.from({ length: 10 }, () => hush.fetch(`${api}/notes`).then((r) => r.status)));
    }, demo.apiUrl);
    expect(statuses).toEqual(Array(10).fill(200));
    expect(refreshes.count).toBe(1);
    await context.close();
  });

  it("adopts the token of an assisted refresh (X-Access-Token) and signs the tab back in", async () => {
    const context = await demo.browser.newContext();
    const page = await openApp(context, demo);
    const email = await signUpInUi(page);
    // Reload while the refresh endpoint cannot be reached: the tab ends up signed out, though
    // its cookie is still good.
    await context.route("**/auth/refresh", (route) => route.abort());
    await page.reload();
    await page.waitForFunction(() => (window as never as { hush: { state: string } }).hush.state !== "loading", null, { timeout: 40_000 });
    expect(await stateOf(page)).toBe("anonymous");
    await context.unroute("**/auth/refresh");
    // The app calls its same-process API with the CSRF header: the server refreshes from the
    // cookie and returns the token in X-Access-Token, which the client takes.
    const result = await page.evaluate(async () => {
      const hush = (window as never as { hush: { fetch: typeof fetch; getAccessToken(): Promise<string | null> } }).hush;
      const response = await hush.fetch("/api/me", { headers: { "x-hush-csrf": "1" } });
      return { status: response.status, header: response.headers.get("x-access-token"), held: await hush.getAccessToken() };
    });
    expect(result.status).toBe(200);
    expect(result.header).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(result.held).toBe(result.header);
    await page.getByTestId("who").getByText(email).waitFor();
    expect(await stateOf(page)).toBe("authenticated");
    await context.close();
  });

  it("hands back an application's own 401 untouched: no refresh", async () => {
    const { context, page, refreshes } = await fresh();
    refreshes.reset();
    const status = await page.evaluate(
      async (api) => (await (window as never as { hush: { fetch: typeof fetch } }).hush.fetch(`${api}/notes/locked`)).status,
      demo.apiUrl,
    );
    expect(status).toBe(401);
    expect(refreshes.count).toBe(0);
    expect(await stateOf(page)).toBe("authenticated");
    await context.close();
  });

  it("signs no one out while offline, and recovers when the network returns", async () => {
    const { context, page } = await fresh();
    await page.evaluate(() => {
      const w = window as never as { hush: { subscribe: (f: (e: { type: string }) => void) => void }; seen: string[] };
      w.seen = [];
      w.hush.subscribe((e) => w.seen.push(e.type));
    });
    await context.setOffline(true);
    // Stay offline past the token's expiry: scheduled refreshes fail and back off.
    await sleep((TTL + 2) * 1000);
    expect(await stateOf(page)).toBe("authenticated");
    await context.setOffline(false);
    const status = await page.evaluate(
      async (api) => (await (window as never as { hush: { fetch: typeof fetch } }).hush.fetch(`${api}/notes`)).status,
      demo.apiUrl,
    );
    expect(status).toBe(200);
    const seen = await page.evaluate(() => (window as never as { seen: string[] }).seen);
    expect(seen).not.toContain("session-expired");
    expect(seen).not.toContain("logged-out");
    expect(await stateOf(page)).toBe("authenticated");
    await context.close();
  });

  for (const shiftMinutes of [10, -10]) {
    it(`neither loops nor signs out with the page clock ${shiftMinutes > 0 ? "ahead" : "behind"} by 10 minutes`, async () => {
      const { context, page, refreshes } = await fresh((c) =>
        c.addInitScript((offset: number) => {
          const RealDate = Date;
          const shifted = class extends RealDate {
            constructor(...args: unknown[]) {
              if (args.length === 0) super(RealDate.now() + offset);
              else super(...(args as [number]));
            }
            static override now() {
              return RealDate.now() + offset;
            }
          };
          (window as unknown as { Date: DateConstructor }).Date = shifted as unknown as DateConstructor;
        }, shiftMinutes * 60_000),
      );
      refreshes.reset();
      await sleep(2 * TTL * 1000);
      expect(await stateOf(page)).toBe("authenticated");
      // About one refresh per lifetime: a wrong clock must not cause a refresh loop.
      expect(refreshes.count).toBeGreaterThanOrEqual(1);
      expect(refreshes.count).toBeLessThanOrEqual(4);
      await context.close();
    });
  }
});
