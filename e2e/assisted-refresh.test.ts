import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Demo, HAS_CHROMIUM, launchDemo, openApp, PASSWORD, signUpInUi } from "./demo-fixture.js";

/**
 * A server on another origin (127.0.0.1, while the app is on localhost) that the app trusts
 * with the bearer: it answers with whatever X-Access-Token the test sets, directly or at the
 * end of a redirect to a third origin (the same server reached as `localhost`).
 */
function startTokenServer(): Promise<{ server: Server; origin: string; serve(token: string): void }> {
  let served = "";
  const server = createServer((req, res) => {
    const cors = {
      "access-control-allow-origin": req.headers.origin ?? "*",
      "access-control-allow-headers": "authorization, content-type, x-hush-csrf",
      "access-control-expose-headers": "x-access-token",
    };
    if (req.method === "OPTIONS") return void res.writeHead(204, cors).end();
    const port = (server.address() as AddressInfo).port;
    if (req.url === "/redirect") return void res.writeHead(302, { ...cors, location: `http://localhost:${port}/token` }).end();
    res.writeHead(200, { ...cors, "content-type": "application/json", "x-access-token": served }).end("{}");
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        serve(token) {
          served = token;
        },
      }),
    ),
  );
}

interface Seen {
  status: number;
  url: string;
  header: string | null;
  held: string | null;
  email: string | null;
}

/** Calls `url` through the client's fetch; returns what came back and what the client holds after. */
function callThrough(page: Page, url: string): Promise<Seen> {
  return page.evaluate(async (target) => {
    const hush = (
      window as never as {
        hush: { fetch: typeof fetch; getAccessToken(): Promise<string | null>; user: { email: string } | null };
      }
    ).hush;
    const response = await hush.fetch(target);
    return {
      status: response.status,
      url: response.url,
      header: response.headers.get("x-access-token"),
      held: await hush.getAccessToken(),
      email: hush.user?.email ?? null,
    };
  }, url);
}

/** The `sub` and `sid` claims of a token (a legitimate refresh may replace a token; these stay). */
function claimsOf(token: string | null): { sub?: string; sid?: string } {
  const { sub, sid } = JSON.parse(Buffer.from((token ?? "").split(".")[1] ?? "", "base64url").toString() || "{}");
  return { sub, sid };
}

const heldToken = (page: Page) =>
  page.evaluate(() => (window as never as { hush: { getAccessToken(): Promise<string | null> } }).hush.getAccessToken());

describe.skipIf(!HAS_CHROMIUM)("X-Access-Token: adopted only from the auth server's process, for the signed-in user", () => {
  let demo: Demo;
  let evil: Awaited<ReturnType<typeof startTokenServer>>;
  beforeAll(async () => {
    demo = await launchDemo(30);
    evil = await startTokenServer();
  });
  afterAll(async () => {
    await new Promise((r) => evil?.server.close(r));
    await demo?.stop();
  });

  /** An access token issued by the real auth server, from a login or sign-up made outside the browser. */
  async function issuedToken(path: "/auth/signup" | "/auth/login", email: string): Promise<string> {
    const response = await demo.auth.fetch(
      new Request(`${demo.authUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hush-csrf": "1" },
        body: JSON.stringify({ email, password: PASSWORD }),
      }),
    );
    expect(response.ok).toBe(true);
    return ((await response.json()) as { accessToken: string }).accessToken;
  }

  /** The app signed in in Chromium, its client configured with extra (assisted) origins. */
  async function signedInApp(options: {
    apiOrigins: string[];
    assisted: string[];
  }): Promise<{ context: BrowserContext; page: Page; email: string; before: string }> {
    const context = await demo.browser.newContext();
    await context.addInitScript(
      ({ apiOrigins, assisted }) =>
        Object.assign(window, { HUSH_CLIENT_OPTIONS: { apiOrigins, assistedRefreshOrigins: [location.origin, ...assisted] } }),
      { apiOrigins: [demo.apiUrl, ...options.apiOrigins], assisted: options.assisted },
    );
    const page = await openApp(context, demo);
    const email = await signUpInUi(page);
    const before = await heldToken(page);
    expect(before).toBeTruthy();
    return { context, page, email, before: before as string };
  }

  it("ignores a token from a trusted API origin that is not an assisted-refresh origin", async () => {
    const { context, page, email, before } = await signedInApp({ apiOrigins: [evil.origin], assisted: [] });
    const mallory = await issuedToken("/auth/signup", `mallory-${Date.now()}@example.com`);
    evil.serve(mallory);
    const seen = await callThrough(page, `${evil.origin}/token`);
    // The header did reach the page (CORS exposes it): the client chose not to take it.
    expect(seen.header).toBe(mallory);
    expect(seen.held).not.toBe(mallory);
    expect(claimsOf(seen.held)).toEqual(claimsOf(before));
    expect(seen.email).toBe(email);
    await context.close();
  });

  it("ignores a token reached through a redirect from an assisted-refresh origin: the final URL decides", async () => {
    const { context, page, email, before } = await signedInApp({ apiOrigins: [evil.origin], assisted: [evil.origin] });
    // Even the signed-in user's own (newer) token: it came from an origin that is not the auth server's process.
    const own = await issuedToken("/auth/login", email);
    evil.serve(own);
    const seen = await callThrough(page, `${evil.origin}/redirect`);
    expect(seen.url).toMatch(/^http:\/\/localhost:\d+\/token$/);
    expect(seen.header).toBe(own);
    expect(seen.held).not.toBe(own);
    expect(claimsOf(seen.held).sid).toBe(claimsOf(before).sid);
    await context.close();
  });

  it("ignores another user's token even from an assisted-refresh origin", async () => {
    const { context, page, email, before } = await signedInApp({ apiOrigins: [evil.origin], assisted: [evil.origin] });
    const mallory = await issuedToken("/auth/signup", `mallory-${Date.now()}@example.com`);
    evil.serve(mallory);
    const seen = await callThrough(page, `${evil.origin}/token`);
    expect(seen.header).toBe(mallory);
    expect(seen.held).not.toBe(mallory);
    expect(claimsOf(seen.held)).toEqual(claimsOf(before));
    expect(seen.email).toBe(email);
    // The app's calls still go out as the signed-in user.
    const status = await page.evaluate(
      async (api) => (await (window as never as { hush: { fetch: typeof fetch } }).hush.fetch(`${api}/notes`)).status,
      demo.apiUrl,
    );
    expect(status).toBe(200);
    expect(claimsOf(await heldToken(page))).toEqual(claimsOf(before));
    await context.close();
  });

  it("still adopts the signed-in user's token from an assisted-refresh origin", async () => {
    const { context, page, email } = await signedInApp({ apiOrigins: [evil.origin], assisted: [evil.origin] });
    const own = await issuedToken("/auth/login", email);
    evil.serve(own);
    const seen = await callThrough(page, `${evil.origin}/token`);
    expect(seen.held).toBe(own);
    expect(seen.email).toBe(email);
    await context.close();
  });
});
