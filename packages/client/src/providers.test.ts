import { afterEach, describe, expect, it, vi } from "vitest";
import { APP, AUTH, fakePage, installFakeBrowser, respond, settle } from "../test/fake-browser.js";
import { BASE, endpoint, outcome, refused } from "../test/fake-endpoint.js";
import type { AuthClient } from "./auth-client.js";
import { createAuthClient } from "./create-auth-client.js";
import { providerActions, readProviderResult } from "./providers.js";

const REFRESH = `${BASE}/refresh`;

/** The fake page's location, with an `assign` that records where the page would go. */
function stubLocation(url = `${APP}/sign-in`) {
  const assign = vi.fn();
  vi.stubGlobal("location", Object.assign(new URL(url), { assign }));
  return assign;
}

/** A signed-in "tab" (user u1 from the cookie) and its provider calls. */
async function openTab() {
  const auth = createAuthClient({ baseUrl: `${BASE}/` });
  await settle();
  await auth.ready;
  return { auth, providers: providerActions(auth) };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("providerActions", () => {
  it("needs a client made by createAuthClient", () => {
    installFakeBrowser();
    expect(() => providerActions({} as AuthClient)).toThrow(TypeError);
  });

  it("loginWithProvider navigates the whole page to the provider's start URL, with returnTo encoded (/ by default), and fetches nothing", async () => {
    const browser = installFakeBrowser();
    const { providers } = await openTab();
    const assign = stubLocation();
    const before = browser.seen.length;
    providers.loginWithProvider("demo", { returnTo: "/notes?tab=a b&x=1#top" });
    providers.loginWithProvider("google");
    providers.loginWithProvider("odd/name");
    expect(assign.mock.calls).toEqual([
      [`${BASE}/oauth/demo/start?returnTo=%2Fnotes%3Ftab%3Da%20b%26x%3D1%23top`],
      [`${BASE}/oauth/google/start?returnTo=%2F`],
      [`${BASE}/oauth/odd%2Fname/start?returnTo=%2F`],
    ]);
    expect(browser.seen.length).toBe(before);
  });

  it("linkProvider POSTs with the bearer and the CSRF header, then navigates to the URL the server answers", async () => {
    const link = `${AUTH}/auth/oauth/demo/start?ticket=t1`;
    const route = endpoint("POST", "/identities/demo/link", () => respond(`${BASE}/identities/demo/link`, { url: link }));
    installFakeBrowser({ [route.key]: route.handler });
    const { auth, providers } = await openTab();
    const assign = stubLocation();
    await providers.linkProvider("demo");
    expect(route.seen).toEqual([
      {
        method: "POST",
        url: `${BASE}/identities/demo/link`,
        csrf: "1",
        credentials: "include",
        authorization: `Bearer ${await auth.getAccessToken()}`,
        contentType: null,
        body: undefined,
      },
    ]);
    expect(assign.mock.calls).toEqual([[link]]);
  });

  it("linkProvider rejects reauthentication_required and an answer without an http(s) URL, and navigates nowhere", async () => {
    const browser = installFakeBrowser({
      [`POST ${BASE}/identities/demo/link`]: refused("/identities/demo/link", 403, "reauthentication_required"),
    });
    const { providers } = await openTab();
    const assign = stubLocation();
    expect(await outcome(providers.linkProvider("demo"))).toBe("reauthentication_required:403");
    for (const url of ["javascript:alert(1)", 42, undefined]) {
      browser.route(`POST ${BASE}/identities/demo/link`, () => respond(`${BASE}/identities/demo/link`, { url }));
      expect(await outcome(providers.linkProvider("demo"))).toBe("unavailable:200");
    }
    expect(assign).not.toHaveBeenCalled();
  });

  it("listIdentities reads the signed-in user's identities with the bearer; a malformed answer is unavailable", async () => {
    const identities = [
      { id: "i1", provider: "demo", email: "u1@example.com", createdAt: "2025-01-01T00:00:00.000Z" },
      { id: "i2", provider: "github", email: null, createdAt: "2025-01-02T00:00:00.000Z" },
    ];
    const route = endpoint("GET", "/identities", () => respond(`${BASE}/identities`, { identities }));
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const { providers } = await openTab();
    expect(await providers.listIdentities()).toEqual(identities);
    expect(route.seen).toMatchObject([
      { method: "GET", csrf: "1", credentials: "include", authorization: expect.stringMatching(/^Bearer /) },
    ]);
    browser.route(route.key, () => respond(`${BASE}/identities`, { identities: [{ id: "i1", provider: "demo" }] }));
    expect(await outcome(providers.listIdentities())).toBe("unavailable:200");
  });

  it("listIdentities refreshes once and retries after an invalid_token 401", async () => {
    let first = true;
    const browser = installFakeBrowser({
      [`GET ${BASE}/identities`]: () => {
        if (!first) return respond(`${BASE}/identities`, { identities: [] });
        first = false;
        return respond(
          `${BASE}/identities`,
          { error: "invalid_token", message: "Expired." },
          { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } },
        );
      },
    });
    const { providers } = await openTab();
    expect(await providers.listIdentities()).toEqual([]);
    expect(browser.count("POST", REFRESH)).toBe(2);
  });

  it("unlinkIdentity DELETEs the identity by its encoded id with the bearer; 409 last_sign_in_method and 404 reject", async () => {
    const route = endpoint("DELETE", "/identities/i%2F1", () => respond(`${BASE}/identities/i%2F1`, null, { status: 204 }));
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const { providers } = await openTab();
    await providers.unlinkIdentity("i/1");
    expect(route.seen).toMatchObject([{ method: "DELETE", csrf: "1", authorization: expect.stringMatching(/^Bearer /) }]);
    browser.route(route.key, refused("/identities/i%2F1", 409, "last_sign_in_method"));
    expect(await outcome(providers.unlinkIdentity("i/1"))).toBe("last_sign_in_method:409");
    browser.route(route.key, refused("/identities/i%2F1", 404, "not_found"));
    expect(await outcome(providers.unlinkIdentity("i/1"))).toBe("not_found:404");
  });

  it("listProviders asks without a bearer (signed out too) and checks the answer", async () => {
    const providersList = [{ name: "demo", label: "Demo IdP" }];
    const route = endpoint("GET", "/oauth/providers", () => respond(`${BASE}/oauth/providers`, { providers: providersList }));
    const browser = installFakeBrowser({
      [`POST ${REFRESH}`]: () => respond(REFRESH, { error: "invalid_refresh_token", message: "No session." }, { status: 401 }),
      [route.key]: route.handler,
    });
    const { auth, providers } = await openTab();
    expect(auth.state).toBe("anonymous");
    expect(await providers.listProviders()).toEqual(providersList);
    expect(route.seen).toMatchObject([{ method: "GET", csrf: "1", credentials: "include", authorization: null }]);
    browser.route(route.key, () => respond(`${BASE}/oauth/providers`, { providers: [{ name: "demo" }] }));
    expect(await outcome(providers.listProviders())).toBe("unavailable:200");
    browser.route(route.key, () => respond(`${BASE}/oauth/providers`, "<html>", { status: 200 }));
    expect(await outcome(providers.listProviders())).toBe("unavailable:200");
  });
});

describe("readProviderResult", () => {
  it("returns the error and removes it from the address bar and the history entry, keeping path, query and state", () => {
    const { location, history, entries } = fakePage(`${APP}/sign-in?from=idp#error=oauth_denied`);
    expect(readProviderResult()).toEqual({ error: "oauth_denied" });
    expect(location.href).toBe(`${APP}/sign-in?from=idp`);
    expect(entries).toEqual([`${APP}/sign-in?from=idp`]);
    expect(history.state).toEqual({ app: 1 });
    // Read once: a second call finds nothing and touches nothing.
    expect(readProviderResult()).toBeNull();
    expect(history.replaceState).toHaveBeenCalledTimes(1);
  });

  it("returns the mfa token (decoded, + kept) and removes it; other fragment parameters stay", () => {
    const { location } = fakePage(`${APP}/sign-in#a=1&mfa=tok%2Fen+x_-&b=2`);
    expect(readProviderResult()).toEqual({ mfaToken: "tok/en+x_-" });
    expect(location.hash).toBe("#a=1&b=2");
  });

  it("prefers the mfa token when both are there, and removes both", () => {
    const { location } = fakePage(`${APP}/sign-in#error=oauth_failed&mfa=m1`);
    expect(readProviderResult()).toEqual({ mfaToken: "m1" });
    expect(location.href).toBe(`${APP}/sign-in`);
  });

  it("returns null without either, leaving the URL alone; an empty or malformed value is removed and null", () => {
    for (const url of [`${APP}/sign-in#errors=1`, `${APP}/sign-in#section`, `${APP}/sign-in`, `${APP}/sign-in#token=abc`]) {
      const { history, location } = fakePage(url);
      expect(readProviderResult()).toBeNull();
      expect(history.replaceState).not.toHaveBeenCalled();
      expect(location.href).toBe(url);
    }
    const empty = fakePage(`${APP}/sign-in#mfa=`);
    expect(readProviderResult()).toBeNull();
    expect(empty.location.href).toBe(`${APP}/sign-in`);
    const malformed = fakePage(`${APP}/sign-in#error=%E0%A4%A`);
    expect(readProviderResult()).toBeNull();
    expect(malformed.location.href).toBe(`${APP}/sign-in`);
  });
});
