import { afterEach, describe, expect, it, vi } from "vitest";
import { API, APP, AUTH, installFakeBrowser, makeToken, respond, settle } from "../test/fake-browser.js";
import type { AuthClientOptions } from "./client-options.js";
import { createAuthClient } from "./create-auth-client.js";

/** The claims of the token a client holds now. */
async function heldClaims(auth: ReturnType<typeof createAuthClient>): Promise<{ sub: string; sid: string } | null> {
  const token = await auth.getAccessToken();
  return token ? JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) : null;
}

/** A page signed in as `u1` (session `s1`), whose client talks to AUTH and API. */
async function signedIn(browser: ReturnType<typeof installFakeBrowser>, options: Partial<AuthClientOptions> = {}) {
  const auth = createAuthClient({ baseUrl: `${AUTH}/auth`, apiOrigins: [API], ...options });
  await settle();
  await auth.ready;
  expect(auth.state).toBe("authenticated");
  expect(browser.count("POST", `${AUTH}/auth/refresh`)).toBe(1);
  return auth;
}

/** An endpoint that answers with an X-Access-Token, from `finalUrl` (where a redirect ended). */
const withToken = (finalUrl: string, token: string) => () => respond(finalUrl, { ok: true }, { headers: { "x-access-token": token } });

describe("createAuthClient: X-Access-Token of a server-assisted refresh (docs/api.md, server.protect)", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("adopts the header from the auth server's origin when it carries the signed-in user's token", async () => {
    const browser = installFakeBrowser();
    const auth = await signedIn(browser);
    const assisted = makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 5 });
    browser.route(`GET ${AUTH}/app/data`, withToken(`${AUTH}/app/data`, assisted));
    await auth.fetch(`${AUTH}/app/data`);
    expect(await auth.getAccessToken()).toBe(assisted);
  });

  it("ignores the header from an API origin that is not an assisted-refresh origin, though that API gets the bearer", async () => {
    const browser = installFakeBrowser();
    const auth = await signedIn(browser);
    const before = await auth.getAccessToken();
    browser.route(`GET ${API}/notes`, withToken(`${API}/notes`, makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 5 })));
    await auth.fetch(`${API}/notes`);
    expect(browser.seen.at(-1)?.authorization).toBe(`Bearer ${before}`);
    expect(await auth.getAccessToken()).toBe(before);
  });

  it("adopts the header from an origin listed in assistedRefreshOrigins, and sends that origin the bearer", async () => {
    const browser = installFakeBrowser();
    const sameProcess = "https://app-api.example";
    const auth = await signedIn(browser, { assistedRefreshOrigins: [sameProcess] });
    const before = await auth.getAccessToken();
    const assisted = makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 5 });
    browser.route(`GET ${sameProcess}/me`, withToken(`${sameProcess}/me`, assisted));
    await auth.fetch(`${sameProcess}/me`);
    expect(browser.seen.at(-1)?.authorization).toBe(`Bearer ${before}`);
    expect(await auth.getAccessToken()).toBe(assisted);
  });

  it("judges the response by its final URL: a redirect away from the auth server is not the auth server", async () => {
    const browser = installFakeBrowser();
    const auth = await signedIn(browser);
    const before = await auth.getAccessToken();
    // Sent to the auth server's origin, answered (after a redirect) by another origin.
    browser.route(`GET ${AUTH}/go`, withToken("https://evil.example/token", makeToken({ sub: "u1", sid: "s9", iatOffsetSeconds: 5 })));
    await auth.fetch(`${AUTH}/go`);
    expect(await auth.getAccessToken()).toBe(before);

    // Sent to an API, answered by the auth server at the end of a redirect: the auth server spoke.
    const assisted = makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 10 });
    browser.route(`GET ${API}/login-hop`, withToken(`${AUTH}/auth/landing`, assisted));
    await auth.fetch(`${API}/login-hop`);
    expect(await auth.getAccessToken()).toBe(assisted);
  });

  it("ignores another user's token, even from the auth server", async () => {
    const browser = installFakeBrowser();
    const auth = await signedIn(browser);
    const before = await auth.getAccessToken();
    browser.route(`GET ${AUTH}/app/data`, withToken(`${AUTH}/app/data`, makeToken({ sub: "mallory", sid: "s7", iatOffsetSeconds: 5 })));
    await auth.fetch(`${AUTH}/app/data`);
    expect(await auth.getAccessToken()).toBe(before);
    expect(await heldClaims(auth)).toMatchObject({ sub: "u1" });
    expect(auth.user?.id).toBe("u1");
  });

  it("ignores a header that is not a token with a subject", async () => {
    const browser = installFakeBrowser();
    const auth = await signedIn(browser);
    const before = await auth.getAccessToken();
    const noSub = `h.${Buffer.from(JSON.stringify({ iat: 9e9, exp: 9e9 + 60 })).toString("base64url")}.s`;
    for (const bad of [noSub, "garbage", ""]) {
      browser.route(`GET ${AUTH}/app/data`, withToken(`${AUTH}/app/data`, bad));
      await auth.fetch(`${AUTH}/app/data`);
      expect(await auth.getAccessToken()).toBe(before);
    }
  });

  it("when anonymous, adopts the token and loads the user it names", async () => {
    const browser = installFakeBrowser({
      [`POST ${AUTH}/auth/refresh`]: () => respond(`${AUTH}/auth/refresh`, { error: "invalid_refresh_token" }, { status: 401 }),
    });
    // The page's own origin serves an API from the auth server's process here (the demo's setup).
    const auth = createAuthClient({ baseUrl: `${AUTH}/auth`, assistedRefreshOrigins: [APP] });
    await settle();
    await auth.ready;
    expect(auth.state).toBe("anonymous");
    const seen: string[] = [];
    auth.subscribe((event) => seen.push(event.type));
    const assisted = makeToken({ sub: "u2", sid: "s3" });
    browser.route(`GET ${APP}/api/me`, withToken(`${APP}/api/me`, assisted));
    await auth.fetch(`${APP}/api/me`);
    await settle();
    expect(auth.state).toBe("authenticated");
    expect(auth.user?.id).toBe("u2");
    expect(seen).toEqual(["refreshed", "authenticated"]);
    expect(await auth.getAccessToken()).toBe(assisted);
  });

  it("never takes a user from /me that is not the one the token names", async () => {
    const browser = installFakeBrowser({
      [`POST ${AUTH}/auth/refresh`]: () => respond(`${AUTH}/auth/refresh`, { error: "invalid_refresh_token" }, { status: 401 }),
      [`GET ${AUTH}/auth/me`]: () =>
        respond(`${AUTH}/auth/me`, {
          user: { id: "someone-else", email: "x@example.com", createdAt: "2025-01-01T00:00:00.000Z", emailVerified: true },
        }),
    });
    const auth = createAuthClient({ baseUrl: `${AUTH}/auth` });
    await settle();
    await auth.ready;
    browser.route(`GET ${AUTH}/app/data`, withToken(`${AUTH}/app/data`, makeToken({ sub: "u2", sid: "s3" })));
    await auth.fetch(`${AUTH}/app/data`);
    await settle();
    expect(auth.user).toBeNull();
  });
});
