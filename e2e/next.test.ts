import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerifier } from "@hush/verify";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRefreshes, HAS_CHROMIUM, launchChromium, PASSWORD, screenshot } from "./demo-fixture.js";
import { NEXT_BUILT, type NextExample, startNextExample } from "./next-example.js";

// The Next.js example (examples/next), built with `next build` and served by `next start`, with
// the auth server mounted in it: pages signed in on the server from the refresh cookie, handed
// to the browser client without a second refresh.
const NAVIGATE = { "sec-fetch-mode": "navigate", "sec-fetch-site": "none", "sec-fetch-dest": "document" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A document navigation as a browser sends it, over node:http: `fetch` (undici) always sends its
 * own `Sec-Fetch-Mode: cors`, which no server refreshes for.
 */
function navigate(url: string, cookie: string): Promise<{ status: number; setCookie: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { headers: { cookie, ...NAVIGATE } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, setCookie: response.headers["set-cookie"] ?? [], body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

describe.skipIf(!HAS_CHROMIUM || !NEXT_BUILT)("Next.js (examples/next): server-rendered pages signed in from the cookie", () => {
  let app: NextExample;
  let browser: Browser;
  let counter = 0;
  beforeAll(async () => {
    [app, browser] = await Promise.all([startNextExample(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** A new browser context signed up through the example's own sign-in page; ends on /notes. */
  async function signedIn(): Promise<{ context: BrowserContext; page: Page; email: string }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const email = `next${++counter}-${Date.now()}@example.com`;
    await page.goto(`${app.url}/login`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL(`${app.url}/notes`);
    await page.getByText(`Signed in as ${email}`).waitFor();
    return { context, page, email };
  }

  /** A sign-up straight to the app's auth endpoint, as a script would: the token response. */
  async function signUpOverHttp(email: string): Promise<{ accessToken: string; user: { id: string; email: string } }> {
    const response = await fetch(`${app.url}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hush-csrf": "1" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (response.status !== 201) throw new Error(`signup answered ${response.status}`);
    return (await response.json()) as { accessToken: string; user: { id: string; email: string } };
  }

  /** The refresh cookie of a context, as a `Cookie` header. */
  async function refreshCookieOf(context: BrowserContext): Promise<string> {
    const cookie = (await context.cookies()).find((c) => c.name === "__Host-hush_rt");
    if (!cookie) throw new Error("no refresh cookie");
    return `${cookie.name}=${cookie.value}`;
  }

  it("renders a reloaded protected page signed in, with one refresh in all (the server's), and no-store", async () => {
    const { context, page, email } = await signedIn();
    const browserRefreshes = countRefreshes(context);
    const before = await app.refreshes();
    const response = await page.reload();
    // The server's own answer, not the final DOM: the HTML arrives signed in.
    const html = (await response?.text()) ?? "";
    expect(html).toContain(`Signed in as <!-- -->${email}`);
    expect(html).toContain(`data-testid="client-state">${email}`);
    expect(response?.headers()["cache-control"]).toMatch(/private/);
    expect(response?.headers()["cache-control"]).toMatch(/no-store/);
    // The browser client adopted the rendered session: it calls the app's API with it, no refresh.
    await page.getByTestId("count-notes").click();
    await expect.poll(() => page.getByTestId("notes-count").textContent()).toBe("0");
    await sleep(500);
    expect(browserRefreshes.count).toBe(0);
    expect((await app.refreshes()) - before).toBe(1);
    await screenshot(page, "next-reload-signed-in");
    await context.close();
  });

  it("rotates once for ten parallel navigations with one cookie, and signs nobody out", async () => {
    const { context } = await signedIn();
    const cookie = await refreshCookieOf(context);
    const before = await app.refreshes();
    const answers = await Promise.all(Array.from({ length: 10 }, () => navigate(`${app.url}/notes`, cookie)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toContain("Signed in as");
    }
    expect((await app.refreshes()) - before).toBe(1);
    // Every render forwarded the same rotated cookie.
    const rotated = new Set(answers.map((answer) => answer.setCookie.find((c) => c.startsWith("__Host-hush_rt="))));
    expect(rotated.size).toBe(1);
    expect([...rotated][0]).toMatch(/^__Host-hush_rt=[\w-]+\.[\w-]+; Max-Age=\d+/);

    // And in the browser: ten tabs navigating at once all render signed in; the session lives on.
    const tabs = await Promise.all(Array.from({ length: 10 }, () => context.newPage()));
    const rendered = await Promise.all(tabs.map(async (tab) => (await (await tab.goto(`${app.url}/notes`))?.text()) ?? ""));
    for (const html of rendered) expect(html).toContain("Signed in as");
    const after = await context.newPage();
    await after.goto(`${app.url}/notes`);
    await after.getByText("Signed in as").waitFor();
    await context.close();
  });

  it("renders an anonymous visit signed out with no refresh request at all", async () => {
    const context = await browser.newContext();
    const browserRefreshes = countRefreshes(context);
    const before = await app.refreshes();
    const page = await context.newPage();
    const html = (await (await page.goto(`${app.url}/`))?.text()) ?? "";
    expect(html).toContain("Signed out");
    await page.getByTestId("client-state").getByText("Sign in").waitFor();
    await page.goto(`${app.url}/notes`);
    await page.waitForURL(`${app.url}/login?next=/notes`);
    await sleep(500);
    expect(browserRefreshes.count).toBe(0);
    expect((await app.refreshes()) - before).toBe(0);
    await context.close();
  });

  it("ignores an access-token header sent by the browser, even a genuine token of another user", async () => {
    const { accessToken, user } = await signUpOverHttp(`victim${Date.now()}@example.com`);
    const forged = {
      "x-hush-access-token": accessToken,
      "x-hush-user": encodeURIComponent(JSON.stringify(user)),
      "x-hush-session-checked": "1",
    };

    const anonymous = await browser.newContext({ extraHTTPHeaders: forged });
    const page = await anonymous.newPage();
    const html = (await (await page.goto(`${app.url}/`))?.text()) ?? "";
    expect(html).toContain("Signed out");
    expect(html).not.toContain(user.email);
    await page.goto(`${app.url}/notes`);
    await page.waitForURL(/\/login/);
    await anonymous.close();

    // Signed in as someone else, the forged header does not swap the user either.
    const { context, page: own, email } = await signedIn();
    await context.setExtraHTTPHeaders(forged);
    const mine = (await (await own.goto(`${app.url}/notes`))?.text()) ?? "";
    expect(mine).toContain(email);
    expect(mine).not.toContain(user.email);
    await context.close();
  });

  it("publishes its keys, so another service verifies the app's access tokens on its own", async () => {
    const { accessToken, user } = await signUpOverHttp(`service${Date.now()}@example.com`);
    const verify = createVerifier({ issuer: app.url, audience: "hush", jwksUrl: `${app.url}/.well-known/jwks.json` });
    expect((await verify(accessToken)).sub).toBe(user.id);
    await expect(verify(`${accessToken.slice(0, -4)}AAAA`)).rejects.toMatchObject({ code: "bad_signature" });
    verify.close();
  });

  it("carries a logout in one tab to another tab's server-rendered pages at their next navigation", async () => {
    const { context, page: first } = await signedIn();
    const second = await context.newPage();
    await second.goto(`${app.url}/notes`);
    await second.getByText("Signed in as").waitFor();
    await first.getByRole("button", { name: "Sign out" }).click();
    await first.waitForURL(`${app.url}/`);
    await first.getByText("Signed out").waitFor();
    // The other tab's client hears it at once; its next navigation renders signed out on the server.
    await second.getByTestId("client-state").getByText("Sign in").waitFor();
    const response = await second.goto(`${app.url}/notes`);
    await second.waitForURL(/\/login/);
    expect(response?.url()).toContain("/login");
    expect(await context.cookies().then((all) => all.map((c) => c.name))).not.toContain("__Host-hush_rt");
    await context.close();
  });

  it("runs a server action signed in from this origin, and gives a cross-origin form post no session", async () => {
    const { context, page } = await signedIn();
    await page.getByLabel("New note").fill("written by a server action");
    await page.getByRole("button", { name: "Add" }).click();
    await page.getByText("written by a server action").waitFor();

    // A page of another origin on the same site (another port of localhost: the SameSite=Strict
    // cookie does go along) posts the action's form. The proxy gives it no session.
    const html = await (await page.goto(`${app.url}/notes`))?.text();
    const action = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(html ?? "")?.[1];
    expect(action).toBeDefined();
    const evil: Server = createServer((_request, response) => {
      response.setHeader("content-type", "text/html");
      response.end(
        `<form method="POST" enctype="multipart/form-data" action="${app.url}/notes"><input name="${action}" value=""><input name="text" value="planted by another origin"></form><script>document.forms[0].submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    const before = await app.refreshes();
    const attacker = await context.newPage();
    await attacker.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    await attacker.waitForURL((url) => url.href.startsWith(app.url), { waitUntil: "load" });
    expect((await app.refreshes()) - before).toBe(0);
    await page.reload();
    await page.getByText("written by a server action").waitFor();
    expect(await page.getByText("planted by another origin").count()).toBe(0);
    evil.close();
    await context.close();
  });
});
