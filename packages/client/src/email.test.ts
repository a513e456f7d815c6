import { afterEach, describe, expect, it, vi } from "vitest";
import { APP, fakePage, installFakeBrowser, makeToken, respond, settle, tokenResponse, userOf } from "../test/fake-browser.js";
import { BASE, endpoint, outcome, refused } from "../test/fake-endpoint.js";
import type { AuthClient } from "./auth-client.js";
import { createAuthClient } from "./create-auth-client.js";
import { emailActions, readLinkToken } from "./email.js";
import type { AuthEvent } from "./events.js";

const REFRESH = `${BASE}/refresh`;
const PASSWORD = "violet-otter-keeps-42-secrets";

const accepted = (path: string) => () => respond(`${BASE}${path}`, null, { status: 202 });
const verifiedUser = (id: string, email = `${id}@example.com`) => ({ ...userOf(id), email, emailVerified: true });

/** Opens a "tab": a client on the fake page, signed in from the cookie (user u1, session s1) unless the refresh says otherwise. */
async function openTab() {
  const auth = createAuthClient({ baseUrl: BASE });
  const events: AuthEvent[] = [];
  auth.subscribe((event) => events.push(event));
  await settle();
  await auth.ready;
  return { auth, events, email: emailActions(auth) };
}

const anonymousRefresh = () => respond(REFRESH, { error: "invalid_refresh_token", message: "No session." }, { status: 401 });

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("emailActions", () => {
  it("needs a client made by createAuthClient", () => {
    installFakeBrowser();
    expect(() => emailActions({} as AuthClient)).toThrow(TypeError);
  });

  it("requestEmailVerification POSTs with the bearer, the CSRF header and the cookie; already_verified rejects", async () => {
    const route = endpoint("POST", "/email/verification", accepted("/email/verification"));
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const { auth, email } = await openTab();
    await email.requestEmailVerification();
    const token = await auth.getAccessToken();
    expect(route.seen).toEqual([
      {
        method: "POST",
        url: `${BASE}/email/verification`,
        csrf: "1",
        credentials: "include",
        authorization: `Bearer ${token}`,
        contentType: null,
        body: undefined,
      },
    ]);
    browser.route(route.key, refused("/email/verification", 409, "already_verified"));
    expect(await outcome(email.requestEmailVerification())).toBe("already_verified:409");
  });

  it("requestEmailVerification refreshes once and retries after an invalid_token 401", async () => {
    let first = true;
    const browser = installFakeBrowser({
      [`POST ${BASE}/email/verification`]: () => {
        if (!first) return respond(`${BASE}/email/verification`, null, { status: 202 });
        first = false;
        return respond(
          `${BASE}/email/verification`,
          { error: "invalid_token", message: "Expired." },
          { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } },
        );
      },
    });
    const { email } = await openTab();
    await email.requestEmailVerification();
    expect(browser.count("POST", REFRESH)).toBe(2);
    expect(browser.count("POST", `${BASE}/email/verification`)).toBe(2);
  });

  it("verifyEmail sends the token and signs the browser in as login does: state, user, event, other tabs", async () => {
    const route = endpoint("POST", "/email/verify", () =>
      respond(`${BASE}/email/verify`, {
        accessToken: makeToken({ sub: "u7", sid: "s7" }),
        tokenType: "Bearer",
        expiresIn: 600,
        user: verifiedUser("u7"),
      }),
    );
    installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [route.key]: route.handler });
    const first = await openTab();
    const other = await openTab();
    expect(first.auth.state).toBe("anonymous");
    const user = await first.email.verifyEmail("tok-123");
    expect(route.seen).toMatchObject([
      {
        url: `${BASE}/email/verify`,
        csrf: "1",
        credentials: "include",
        contentType: "application/json",
        authorization: null,
        body: { token: "tok-123" },
      },
    ]);
    expect(user).toEqual(verifiedUser("u7"));
    expect(first.auth.state).toBe("authenticated");
    expect(first.auth.user).toEqual(verifiedUser("u7"));
    expect(first.events).toEqual([{ type: "authenticated", user: verifiedUser("u7") }]);
    expect(await first.auth.getAccessToken()).toMatch(/\./);
    await settle(10);
    expect(other.auth.state).toBe("authenticated");
    expect(other.auth.user?.id).toBe("u7");
  });

  it("verifyEmail in a tab already signed in as that user takes the new token and tells subscribers of the verified user", async () => {
    installFakeBrowser({
      [`POST ${BASE}/email/verify`]: () =>
        respond(`${BASE}/email/verify`, {
          accessToken: makeToken({ sub: "u1", sid: "s9", iatOffsetSeconds: 1 }),
          tokenType: "Bearer",
          expiresIn: 600,
          user: verifiedUser("u1"),
        }),
    });
    const { auth, events, email } = await openTab();
    expect(auth.user?.emailVerified).toBe(false);
    await email.verifyEmail("tok");
    expect(auth.user?.emailVerified).toBe(true);
    expect(events.at(-1)).toEqual({ type: "authenticated", user: verifiedUser("u1") });
  });

  it("verifyEmail rejects an invalid link with its AuthError and stays signed out", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/email/verify`]: refused("/email/verify", 400, "invalid_link"),
    });
    const { auth, events, email } = await openTab();
    expect(await outcome(email.verifyEmail("used"))).toBe("invalid_link:400");
    expect(auth.state).toBe("anonymous");
    expect(events).toEqual([]);
  });

  it("a token call whose answer is not a token response rejects with unavailable and signs nobody in", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/signin-link/verify`]: () => respond(`${BASE}/signin-link/verify`, { user: "nope" }),
    });
    const { auth, email } = await openTab();
    expect(await outcome(email.signInWithLink("tok"))).toBe("unavailable:200");
    expect(auth.state).toBe("anonymous");
  });

  it("requestPasswordReset POSTs the address with the CSRF header and resolves on 202; rate_limited rejects", async () => {
    const route = endpoint("POST", "/password/forgot", accepted("/password/forgot"));
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [route.key]: route.handler });
    const { email } = await openTab();
    await email.requestPasswordReset("who@example.com");
    expect(route.seen).toMatchObject([
      { csrf: "1", credentials: "include", contentType: "application/json", body: { email: "who@example.com" } },
    ]);
    browser.route(route.key, refused("/password/forgot", 429, "rate_limited"));
    expect(await outcome(email.requestPasswordReset("who@example.com"))).toBe("rate_limited:429");
  });

  it("resetPassword sends token and new password and signs in, ending a logout still pending", async () => {
    const route = endpoint("POST", "/password/reset", () => tokenResponse("u1", "s5"));
    const browser = installFakeBrowser({
      [`POST ${BASE}/logout`]: refused("/logout", 503, "unavailable"),
      [route.key]: route.handler,
    });
    const { auth, email } = await openTab();
    await auth.logout().catch(() => undefined);
    expect(browser.storage.size).toBe(1);
    const user = await email.resetPassword({ token: "reset-tok", newPassword: PASSWORD });
    expect(route.seen).toMatchObject([{ csrf: "1", credentials: "include", body: { token: "reset-tok", newPassword: PASSWORD } }]);
    expect(user.id).toBe("u1");
    expect(auth.state).toBe("authenticated");
    expect(browser.storage.size).toBe(0);
  });

  it("changeEmail POSTs new address and password with the bearer; reauthentication_required rejects", async () => {
    const route = endpoint("POST", "/email/change", accepted("/email/change"));
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const { auth, email } = await openTab();
    await email.changeEmail({ newEmail: "new@example.com", currentPassword: PASSWORD });
    expect(route.seen).toMatchObject([
      {
        csrf: "1",
        credentials: "include",
        authorization: `Bearer ${await auth.getAccessToken()}`,
        body: { newEmail: "new@example.com", currentPassword: PASSWORD },
      },
    ]);
    browser.route(route.key, refused("/email/change", 403, "reauthentication_required"));
    expect(await outcome(email.changeEmail({ newEmail: "new@example.com", currentPassword: PASSWORD }))).toBe(
      "reauthentication_required:403",
    );
    browser.route(route.key, refused("/email/change", 409, "email_taken"));
    expect(await outcome(email.changeEmail({ newEmail: "new@example.com", currentPassword: PASSWORD }))).toBe("email_taken:409");
    expect(auth.state).toBe("authenticated");
  });

  it("confirmEmailChange resolves with the user; a tab signed in as that user refreshes to show the new address", async () => {
    const route = endpoint("POST", "/email/change/confirm", () =>
      respond(`${BASE}/email/change/confirm`, { user: verifiedUser("u1", "new@example.com") }),
    );
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const { auth, email } = await openTab();
    browser.route(`POST ${REFRESH}`, () =>
      respond(REFRESH, {
        accessToken: makeToken({ sub: "u1", sid: "s1", iatOffsetSeconds: 1 }),
        tokenType: "Bearer",
        expiresIn: 600,
        user: verifiedUser("u1", "new@example.com"),
      }),
    );
    const user = await email.confirmEmailChange("confirm-tok");
    expect(route.seen).toMatchObject([{ csrf: "1", credentials: "include", authorization: null, body: { token: "confirm-tok" } }]);
    expect(user.email).toBe("new@example.com");
    expect(auth.user?.email).toBe("new@example.com");
    expect(browser.count("POST", REFRESH)).toBe(2);
  });

  it("confirmEmailChange signed out (or as another user) refreshes nothing; a malformed answer or invalid link rejects", async () => {
    const browser = installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/email/change/confirm`]: () => respond(`${BASE}/email/change/confirm`, { user: verifiedUser("u1", "new@example.com") }),
    });
    const { auth, email } = await openTab();
    expect((await email.confirmEmailChange("tok")).email).toBe("new@example.com");
    expect(auth.state).toBe("anonymous");
    expect(browser.count("POST", REFRESH)).toBe(1);
    browser.route(`POST ${BASE}/email/change/confirm`, () => respond(`${BASE}/email/change/confirm`, { user: { id: "u1" } }));
    expect(await outcome(email.confirmEmailChange("tok"))).toBe("unavailable:200");
    browser.route(`POST ${BASE}/email/change/confirm`, refused("/email/change/confirm", 400, "invalid_link"));
    expect(await outcome(email.confirmEmailChange("tok"))).toBe("invalid_link:400");
  });

  it("requestSignInLink POSTs the address; not_found when sign-in links are off", async () => {
    const route = endpoint("POST", "/signin-link", accepted("/signin-link"));
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [route.key]: route.handler });
    const { email } = await openTab();
    await email.requestSignInLink("who@example.com");
    expect(route.seen).toMatchObject([{ csrf: "1", credentials: "include", body: { email: "who@example.com" } }]);
    browser.route(route.key, refused("/signin-link", 404, "not_found"));
    expect(await outcome(email.requestSignInLink("who@example.com"))).toBe("not_found:404");
  });

  it("signInWithLink sends the token and signs in", async () => {
    const route = endpoint("POST", "/signin-link/verify", () => tokenResponse("u3", "s3"));
    installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [route.key]: route.handler });
    const { auth, events, email } = await openTab();
    expect((await email.signInWithLink("link-tok")).id).toBe("u3");
    expect(route.seen).toMatchObject([{ csrf: "1", credentials: "include", body: { token: "link-tok" } }]);
    expect(auth.state).toBe("authenticated");
    expect(events.map((e) => e.type)).toEqual(["authenticated"]);
  });

  it("deleteAccount sends DELETE with bearer, CSRF and password, then signs this tab and the others out", async () => {
    const route = endpoint("DELETE", "/account", () => respond(`${BASE}/account`, null, { status: 204 }));
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const a = await openTab();
    const b = await openTab();
    const token = await a.auth.getAccessToken();
    await a.email.deleteAccount({ currentPassword: PASSWORD });
    expect(route.seen).toEqual([
      {
        method: "DELETE",
        url: `${BASE}/account`,
        csrf: "1",
        credentials: "include",
        authorization: `Bearer ${token}`,
        contentType: "application/json",
        body: { currentPassword: PASSWORD },
      },
    ]);
    expect(a.auth.state).toBe("anonymous");
    expect(await a.auth.getAccessToken()).toBeNull();
    expect(a.events.at(-1)).toEqual({ type: "logged-out", source: "this-tab" });
    await settle(10);
    expect(b.auth.state).toBe("anonymous");
    expect(b.events.at(-1)).toEqual({ type: "logged-out", source: "other-tab" });
    // No logout is left to confirm: the server has ended the sessions.
    expect(browser.count("POST", `${BASE}/logout`)).toBe(0);
    expect(browser.storage.size).toBe(0);
  });

  it("deleteAccount with a wrong password rejects and keeps everyone signed in", async () => {
    installFakeBrowser({ [`DELETE ${BASE}/account`]: refused("/account", 401, "invalid_credentials") });
    const a = await openTab();
    const b = await openTab();
    expect(await outcome(a.email.deleteAccount({ currentPassword: "wrong" }))).toBe("invalid_credentials:401");
    await settle(10);
    expect([a.auth.state, b.auth.state]).toEqual(["authenticated", "authenticated"]);
  });
});

describe("signup when the server requires a verified address", () => {
  it("resolves with the unverified user of a 202 and stays signed out", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/signup`]: () => respond(`${BASE}/signup`, { user: userOf("u4") }, { status: 202 }),
    });
    const { auth, events } = await openTab();
    const user = await auth.signup({ email: "u4@example.com", password: PASSWORD });
    expect(user.id).toBe("u4");
    expect(user.emailVerified).toBe(false);
    expect(auth.state).toBe("anonymous");
    expect(auth.user).toBeNull();
    expect(events).toEqual([]);
  });
});

describe("readLinkToken", () => {
  it("returns the token and removes it from the address bar and the history entry, keeping path, query and state", () => {
    const { location, history, entries } = fakePage(`${APP}/verify-email?from=mail#token=abc-DEF_123`);
    expect(readLinkToken()).toBe("abc-DEF_123");
    expect(location.href).toBe(`${APP}/verify-email?from=mail`);
    expect(location.hash).toBe("");
    expect(entries).toEqual([`${APP}/verify-email?from=mail`]);
    expect(history.state).toEqual({ app: 1 });
    // Read once: a second call finds nothing (and touches nothing).
    expect(readLinkToken()).toBeNull();
    expect(history.replaceState).toHaveBeenCalledTimes(1);
  });

  it("keeps other fragment parameters, decodes the token, and does not turn + into a space", () => {
    const { location } = fakePage(`${APP}/reset-password#a=1&token=x%2Fy+z&b=2`);
    expect(readLinkToken()).toBe("x/y+z");
    expect(location.hash).toBe("#a=1&b=2");
  });

  it("returns null without a token, leaving the URL alone; an empty or malformed token is removed and null", () => {
    const { history } = fakePage(`${APP}/verify-email#section`);
    expect(readLinkToken()).toBeNull();
    expect(history.replaceState).not.toHaveBeenCalled();
    fakePage(`${APP}/verify-email`);
    expect(readLinkToken()).toBeNull();
    const empty = fakePage(`${APP}/verify-email#token=`);
    expect(readLinkToken()).toBeNull();
    expect(empty.location.href).toBe(`${APP}/verify-email`);
    const malformed = fakePage(`${APP}/verify-email#token=%E0%A4%A`);
    expect(readLinkToken()).toBeNull();
    expect(malformed.location.href).toBe(`${APP}/verify-email`);
  });
});
