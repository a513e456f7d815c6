import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type RunningDemo, startDemo } from "../apps/demo/server/start-demo.js";

export const CHROMIUM = process.env.HUSH_CHROMIUM ?? "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  console.warn(
    `\n*** e2e SKIPPED: no Chromium at ${CHROMIUM}. Install it with:  apt-get update && apt-get install -y chromium  (CI does, and fails if these tests do not run) ***\n`,
  );
}

export const ARTIFACTS = new URL("./.artifacts/", import.meta.url).pathname;
export const PASSWORD = "violet-otter-keeps-42-secrets";

export interface Demo extends RunningDemo {
  browser: Browser;
  dataDir: string;
  stop(): Promise<void>;
}

/** A headless Chromium, from the system's package, without a byte of traffic beyond loopback. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-background-timer-throttling",
    ],
  });
}

/** Starts the demo on free ports with a short access-token lifetime, and a headless Chromium. */
export async function launchDemo(accessTokenTtlSeconds: number): Promise<Demo> {
  const dataDir = mkdtempSync(join(tmpdir(), "hush-e2e-"));
  const demo = await startDemo({
    authPort: 0,
    apiPort: 0,
    webPort: 0,
    dataDir,
    accessTokenTtlSeconds,
    env: { HUSH_RATE_LIMITS: "off", HUSH_LOG_LEVEL: "warn" },
  });
  const browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    ...demo,
    browser,
    dataDir,
    async stop() {
      await browser.close();
      await demo.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Counts requests to the auth server's refresh endpoint made by a browser context. */
export function countRefreshes(context: BrowserContext): { readonly count: number; reset(): void } {
  let count = 0;
  context.on("request", (request) => {
    if (request.method() === "POST" && request.url().endsWith("/auth/refresh")) count++;
  });
  return {
    get count() {
      return count;
    },
    reset() {
      count = 0;
    },
  };
}

/** The client's state as the page sees it. */
export function stateOf(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { hush: { state: string } }).hush.state);
}

export async function openApp(context: BrowserContext, demo: Demo): Promise<Page> {
  const page = await context.newPage();
  await page.goto(demo.webUrl);
  await page.waitForFunction(() => (window as unknown as { hush?: { state: string } }).hush?.state !== "loading");
  return page;
}

let counter = 0;
export async function signUpInUi(page: Page): Promise<string> {
  counter += 1;
  const email = `e2e${counter}-${Date.now()}@example.com`;
  await page.getByTestId("switch-mode").click();
  await page.getByTestId("email").fill(email);
  await page.getByTestId("password").fill(PASSWORD);
  await page.getByTestId("submit").click();
  await page.getByTestId("who").waitFor();
  return email;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
