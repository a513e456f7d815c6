import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRefreshes, type Demo, HAS_CHROMIUM, launchDemo, openApp, signUpInUi, stateOf } from "./demo-fixture.js";

const TTL = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records every client event of a page, to prove that no tab was ever signed out. */
async function record(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as never as { hush: { subscribe: (f: (e: { type: string; source?: string }) => void) => void }; seen: string[] };
    w.seen = [];
    w.hush.subscribe((e) => w.seen.push(e.source ? `${e.type}:${e.source}` : e.type));
  });
}
const seenOf = (page: Page) => page.evaluate(() => (window as never as { seen: string[] }).seen);

describe.skipIf(!HAS_CHROMIUM)("many tabs of one browser", () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await launchDemo(TTL);
  });
  afterAll(() => demo?.stop());

  it("opens new tabs from their peers, refreshes at most once per token lifetime in all, and never signs a tab out — even in a forced race", async () => {
    const context = await demo.browser.newContext();
    const refreshes = countRefreshes(context);
    const first = await openApp(context, demo);
    await signUpInUi(first);
    refreshes.reset();
    // New tabs ask their peers for the token before the network.
    const tabs = [first, await openApp(context, demo), await openApp(context, demo)];
    for (const tab of tabs) expect(await stateOf(tab)).toBe("authenticated");
    expect(refreshes.count).toBe(0);
    for (const tab of tabs) await record(tab);

    const lifetimes = 4;
    await sleep(lifetimes * TTL * 1000);
    // Steady state: one refresh per lifetime for the whole browser (the tab whose timer fires
    // first refreshes and shares; the others adopt the shared token and stand down). A token is
    // refreshed 70–80 % into its life (refresh-scheduler.ts), so one refresh every 4.2–4.8 s
    // here: at most ceil(24 / 4.2) = 6, plus one for timers slipping on a loaded machine. Three
    // tabs refreshing on their own would make about 15.
    const fastest = TTL * 0.7;
    expect(refreshes.count).toBeGreaterThanOrEqual(lifetimes - 1);
    expect(refreshes.count).toBeLessThanOrEqual(Math.ceil((lifetimes * TTL) / fastest) + 1);
    for (const tab of tabs) {
      expect(await stateOf(tab)).toBe("authenticated");
      expect((await seenOf(tab)).filter((e) => e.startsWith("logged-out") || e.startsWith("session-expired"))).toEqual([]);
    }

    // A forced race: every tab refreshes at the same moment, five times over.
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        tabs.map((tab) => tab.evaluate(() => (window as never as { hush: { refresh(): Promise<string | null> } }).hush.refresh())),
      );
    }
    for (const tab of tabs) {
      expect(await stateOf(tab)).toBe("authenticated");
      expect((await seenOf(tab)).filter((e) => e.startsWith("logged-out") || e.startsWith("session-expired"))).toEqual([]);
      const status = await tab.evaluate(
        async (api) => (await (window as never as { hush: { fetch: typeof fetch } }).hush.fetch(`${api}/notes`)).status,
        demo.apiUrl,
      );
      expect(status).toBe(200);
    }
    await context.close();
  });

  it("signs every tab out within a second of a logout in one", async () => {
    const context = await demo.browser.newContext();
    const a = await openApp(context, demo);
    await signUpInUi(a);
    const b = await openApp(context, demo);
    const c = await openApp(context, demo);
    for (const tab of [b, c]) await record(tab);
    const started = Date.now();
    await a.getByTestId("logout").click();
    await Promise.all([b, c].map((tab) => tab.getByTestId("sign-in").waitFor({ timeout: 1000 })));
    expect(Date.now() - started).toBeLessThan(1500);
    for (const tab of [b, c]) expect(await seenOf(tab)).toContain("logged-out:other-tab");
    await context.close();
  });

  it("reaches a second browser (context) with logout-everywhere at its next refresh", async () => {
    const laptop = await demo.browser.newContext();
    const phone = await demo.browser.newContext();
    const onLaptop = await openApp(laptop, demo);
    const email = await signUpInUi(onLaptop);
    const onPhone = await openApp(phone, demo);
    await onPhone.getByTestId("email").fill(email);
    await onPhone.getByTestId("password").fill("violet-otter-keeps-42-secrets");
    await onPhone.getByTestId("submit").click();
    await onPhone.getByTestId("who").waitFor();
    await record(onPhone);
    await onLaptop.getByTestId("logout-all").click();
    await onLaptop.getByTestId("sign-in").waitFor();
    // The phone learns at its next refresh (within one token lifetime).
    await onPhone.getByTestId("sign-in").waitFor({ timeout: (TTL + 3) * 1000 });
    expect(await seenOf(onPhone)).toContain("session-expired");
    await laptop.close();
    await phone.close();
  });
});
