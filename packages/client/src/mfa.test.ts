import { build } from "esbuild";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { installFakeBrowser, makeToken, respond, settle, userOf } from "../test/fake-browser.js";
import { BASE, endpoint, outcome, refused } from "../test/fake-endpoint.js";
import type { AuthClient } from "./auth-client.js";
import { isAuthError } from "./auth-error.js";
import { createAuthClient } from "./create-auth-client.js";
import type { AuthEvent } from "./events.js";
import { mfaActions, mfaChallengeOf } from "./mfa.js";

// The browser's side of WebAuthn is stubbed here (the real library, against Chromium's virtual
// authenticator, runs in e2e/mfa.test.ts): these tests check what the client sends, what it
// accepts back, and how it maps the browser's failures.
const webauthn = vi.hoisted(() => ({
  startRegistration: vi.fn(),
  startAuthentication: vi.fn(),
  browserSupportsWebAuthn: vi.fn(() => true),
  browserSupportsWebAuthnAutofill: vi.fn(async () => true),
  WebAuthnAbortService: { cancelCeremony: vi.fn() },
}));
vi.mock("@simplewebauthn/browser", () => webauthn);

const REFRESH = `${BASE}/refresh`;

const json =
  (path: string, body: unknown, status = 200) =>
  () =>
    respond(`${BASE}${path}`, body, { status });
const anonymousRefresh = () => respond(REFRESH, { error: "invalid_refresh_token", message: "No session." }, { status: 401 });
const tokenAnswer = (path: string, sub: string, sid: string, ttlSeconds = 900) =>
  json(path, { accessToken: makeToken({ sub, sid, ttlSeconds }), tokenType: "Bearer", expiresIn: ttlSeconds, user: userOf(sub) });

const CREATION_OPTIONS = {
  challenge: "Y2hhbGxlbmdl",
  rp: { name: "Hush", id: "app.example" },
  user: { id: "dTE", name: "u1@example.com", displayName: "u1@example.com" },
  pubKeyCredParams: [{ type: "public-key", alg: -7 }],
};
const REQUEST_OPTIONS = { challenge: "cmVxdWVzdA", rpId: "app.example", allowCredentials: [], userVerification: "preferred" };
const ATTESTATION = { id: "cred-1", rawId: "cred-1", type: "public-key", response: { clientDataJSON: "x", attestationObject: "y" } };
const ASSERTION = {
  id: "cred-1",
  rawId: "cred-1",
  type: "public-key",
  response: { clientDataJSON: "x", authenticatorData: "y", signature: "z" },
};
const PASSKEY = { id: "cred-1", name: "Laptop", createdAt: "2025-01-02T00:00:00.000Z", lastUsedAt: null, backedUp: true };
const loginOptions = json("/passkeys/login/options", { options: REQUEST_OPTIONS, challengeId: "ch-1" });

/** Opens a "tab": a client on the fake page, signed in from the cookie (user u1, session s1) unless the refresh says otherwise. */
async function openTab() {
  const auth = createAuthClient({ baseUrl: BASE });
  const events: AuthEvent[] = [];
  auth.subscribe((event) => events.push(event));
  await settle();
  await auth.ready;
  return { auth, events, mfa: mfaActions(auth) };
}

/** A DOMException-like error, named as the browser names it. */
const browserError = (name: string, message = name) => Object.assign(new Error(message), { name });

beforeEach(() => {
  vi.clearAllMocks();
  webauthn.browserSupportsWebAuthn.mockReturnValue(true);
  webauthn.browserSupportsWebAuthnAutofill.mockResolvedValue(true);
  webauthn.startRegistration.mockResolvedValue(ATTESTATION);
  webauthn.startAuthentication.mockResolvedValue(ASSERTION);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("mfaActions", () => {
  it("needs a client made by createAuthClient", () => {
    installFakeBrowser();
    expect(() => mfaActions({} as AuthClient)).toThrow(TypeError);
  });
});

describe("mfa_required and verifyMfa", () => {
  it("login's mfa_required rejection carries the mfaToken and methods, read by mfaChallengeOf; nobody is signed in", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/login`]: refused("/login", 403, "mfa_required", { mfaToken: "mfa-1", methods: ["totp", "recovery_code", 7] }),
    });
    const { auth, events } = await openTab();
    const error = await auth.login({ email: "u1@example.com", password: "pw" }).catch((e: unknown) => e);
    expect(isAuthError(error) && [error.code, error.status]).toEqual(["mfa_required", 403]);
    expect(mfaChallengeOf(error)).toEqual({ mfaToken: "mfa-1", methods: ["totp", "recovery_code"] });
    expect(auth.state).toBe("anonymous");
    expect(events).toEqual([]);
  });

  it("mfaChallengeOf is null for any other error, and for an mfa_required without a token", async () => {
    installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [`POST ${BASE}/login`]: refused("/login", 401, "invalid_credentials") });
    const { auth } = await openTab();
    expect(mfaChallengeOf(await auth.login({ email: "a@example.com", password: "x" }).catch((e: unknown) => e))).toBeNull();
    expect(mfaChallengeOf(new Error("mfa_required"))).toBeNull();
    expect(mfaChallengeOf(null)).toBeNull();
    expect(
      mfaChallengeOf(Object.assign(new Error("x"), { __hushAuthError: true, code: "mfa_required", details: { mfaToken: 5 } })),
    ).toBeNull();
  });

  it("verifyMfa sends the token and exactly one proof (CSRF, cookie, no bearer) and signs in as login does", async () => {
    const route = endpoint("POST", "/mfa/verify", tokenAnswer("/mfa/verify", "u1", "s3"));
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [route.key]: route.handler });
    const { auth, events, mfa } = await openTab();
    const user = await mfa.verifyMfa("mfa-1", { code: "123456", recoveryCode: "ignored" } as { code: string });
    expect(user).toEqual(userOf("u1"));
    expect(route.seen).toEqual([
      {
        method: "POST",
        url: `${BASE}/mfa/verify`,
        csrf: "1",
        credentials: "include",
        authorization: null,
        contentType: "application/json",
        body: { mfaToken: "mfa-1", code: "123456" },
      },
    ]);
    expect(auth.state).toBe("authenticated");
    expect(events).toEqual([{ type: "authenticated", user: userOf("u1") }]);

    await mfa.verifyMfa("mfa-2", { recoveryCode: "abcd-efgh" });
    expect(route.seen[1]?.body).toEqual({ mfaToken: "mfa-2", recoveryCode: "abcd-efgh" });
    browser.route(route.key, refused("/mfa/verify", 401, "invalid_code"));
    expect(await outcome(mfa.verifyMfa("mfa-3", { code: "000000" }))).toBe("invalid_code:401");
  });

  it("verifyMfa with a dead token rejects with invalid_mfa_token and stays signed out", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/mfa/verify`]: refused("/mfa/verify", 401, "invalid_mfa_token"),
    });
    const { auth, mfa } = await openTab();
    expect(await outcome(mfa.verifyMfa("used", { code: "123456" }))).toBe("invalid_mfa_token:401");
    expect(auth.state).toBe("anonymous");
  });
});

describe("passkeys", () => {
  it("registerPasskey: creation options with the bearer, the browser's ceremony on them, then the attestation and name", async () => {
    const options = endpoint("POST", "/passkeys/register/options", json("/passkeys/register/options", { options: CREATION_OPTIONS }));
    const register = endpoint("POST", "/passkeys/register", json("/passkeys/register", { passkey: PASSKEY }, 201));
    installFakeBrowser({ [options.key]: options.handler, [register.key]: register.handler });
    const { auth, mfa } = await openTab();
    const token = await auth.getAccessToken();
    expect(await mfa.registerPasskey("Laptop")).toEqual(PASSKEY);
    expect(options.seen).toMatchObject([{ csrf: "1", authorization: `Bearer ${token}`, body: undefined }]);
    expect(webauthn.startRegistration).toHaveBeenCalledWith({ optionsJSON: CREATION_OPTIONS });
    expect(register.seen).toMatchObject([{ csrf: "1", authorization: `Bearer ${token}`, body: { response: ATTESTATION, name: "Laptop" } }]);
    await mfa.registerPasskey();
    expect(register.seen[1]?.body).toEqual({ response: ATTESTATION });
  });

  it("registerPasskey without a recent sign-in rejects before any prompt", async () => {
    installFakeBrowser({
      [`POST ${BASE}/passkeys/register/options`]: refused("/passkeys/register/options", 403, "reauthentication_required"),
    });
    const { mfa } = await openTab();
    expect(await outcome(mfa.registerPasskey("x"))).toBe("reauthentication_required:403");
    expect(webauthn.startRegistration).not.toHaveBeenCalled();
  });

  it("malformed options or a malformed passkey answer reject with unavailable; malformed options prompt nobody", async () => {
    const browser = installFakeBrowser({
      [`POST ${BASE}/passkeys/register/options`]: json("/passkeys/register/options", { options: { challenge: "c" } }),
      [`POST ${BASE}/passkeys/register`]: json("/passkeys/register", { passkey: { ...PASSKEY, backedUp: "yes" } }, 201),
      [`POST ${BASE}/passkeys/login/options`]: json("/passkeys/login/options", { options: REQUEST_OPTIONS }),
    });
    const { mfa } = await openTab();
    expect(await outcome(mfa.registerPasskey())).toBe("unavailable:200");
    expect(await outcome(mfa.loginWithPasskey())).toBe("unavailable:200");
    expect(webauthn.startRegistration).not.toHaveBeenCalled();
    expect(webauthn.startAuthentication).not.toHaveBeenCalled();
    browser.route(`POST ${BASE}/passkeys/register/options`, json("/passkeys/register/options", { options: CREATION_OPTIONS }));
    expect(await outcome(mfa.registerPasskey())).toBe("unavailable:201");
  });

  it("maps the browser's failures: dismissed or aborted → passkey_cancelled, any other → passkey_failed with its cause", async () => {
    const register = endpoint("POST", "/passkeys/register", json("/passkeys/register", { passkey: PASSKEY }, 201));
    installFakeBrowser({
      [`POST ${BASE}/passkeys/register/options`]: json("/passkeys/register/options", { options: CREATION_OPTIONS }),
      [register.key]: register.handler,
    });
    const { mfa } = await openTab();
    for (const name of ["NotAllowedError", "AbortError"]) {
      webauthn.startRegistration.mockRejectedValueOnce(browserError(name));
      expect(await outcome(mfa.registerPasskey())).toBe("passkey_cancelled:0");
    }
    const previously = browserError("InvalidStateError", "The authenticator was previously registered");
    webauthn.startRegistration.mockRejectedValueOnce(previously);
    const error = await mfa.registerPasskey().catch((e: unknown) => e);
    expect(isAuthError(error) && [error.code, error.status, error.message, error.cause]).toEqual([
      "passkey_failed",
      0,
      "The authenticator was previously registered",
      previously,
    ]);
    expect(register.seen).toEqual([]);
  });

  it("a browser without WebAuthn rejects with passkey_unsupported before asking the server for a challenge", async () => {
    const browser = installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [`POST ${BASE}/passkeys/login/options`]: loginOptions });
    const { mfa } = await openTab();
    webauthn.browserSupportsWebAuthn.mockReturnValue(false);
    expect(await outcome(mfa.loginWithPasskey())).toBe("passkey_unsupported:0");
    expect(await outcome(mfa.registerPasskey())).toBe("passkey_unsupported:0");
    webauthn.browserSupportsWebAuthn.mockReturnValue(true);
    webauthn.browserSupportsWebAuthnAutofill.mockResolvedValue(false);
    expect(await outcome(mfa.loginWithPasskey({ conditional: true }))).toBe("passkey_unsupported:0");
    expect(browser.count("POST", `${BASE}/passkeys/login/options`)).toBe(0);
  });

  it("loginWithPasskey: a challenge (CSRF, no bearer), the browser's assertion, then a sign-in as login does", async () => {
    const options = endpoint("POST", "/passkeys/login/options", loginOptions);
    const login = endpoint("POST", "/passkeys/login", tokenAnswer("/passkeys/login", "u5", "s5"));
    installFakeBrowser({ [`POST ${REFRESH}`]: anonymousRefresh, [options.key]: options.handler, [login.key]: login.handler });
    const { auth, events, mfa } = await openTab();
    expect(await mfa.loginWithPasskey()).toEqual(userOf("u5"));
    expect(options.seen).toMatchObject([{ csrf: "1", credentials: "include", authorization: null, body: undefined }]);
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: REQUEST_OPTIONS, useBrowserAutofill: false });
    expect(login.seen).toMatchObject([{ csrf: "1", authorization: null, body: { challengeId: "ch-1", response: ASSERTION } }]);
    expect(auth.state).toBe("authenticated");
    expect(events).toEqual([{ type: "authenticated", user: userOf("u5") }]);
  });

  it("loginWithPasskey({ conditional: true }) uses the browser's autofill", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/passkeys/login/options`]: loginOptions,
      [`POST ${BASE}/passkeys/login`]: tokenAnswer("/passkeys/login", "u5", "s5"),
    });
    const { mfa } = await openTab();
    await mfa.loginWithPasskey({ conditional: true });
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: REQUEST_OPTIONS, useBrowserAutofill: true });
  });

  it("a passkey without user verification for an account with a second factor rejects with mfa_required", async () => {
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/passkeys/login/options`]: loginOptions,
      [`POST ${BASE}/passkeys/login`]: refused("/passkeys/login", 403, "mfa_required", { mfaToken: "m", methods: ["totp"] }),
    });
    const { auth, mfa } = await openTab();
    const error = await mfa.loginWithPasskey().catch((e: unknown) => e);
    expect(mfaChallengeOf(error)).toEqual({ mfaToken: "m", methods: ["totp"] });
    expect(auth.state).toBe("anonymous");
  });

  it("aborting a waiting conditional sign-in cancels the browser's request and signs nobody in", async () => {
    const login = endpoint("POST", "/passkeys/login", tokenAnswer("/passkeys/login", "u5", "s5"));
    installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/passkeys/login/options`]: loginOptions,
      [login.key]: login.handler,
    });
    const { auth, mfa } = await openTab();
    let reject: (error: Error) => void = () => undefined;
    webauthn.startAuthentication.mockImplementationOnce(() => new Promise((_, fail) => (reject = fail)));
    webauthn.WebAuthnAbortService.cancelCeremony.mockImplementationOnce(() => reject(browserError("AbortError")));
    const typing = new AbortController();
    const waiting = outcome(mfa.loginWithPasskey({ conditional: true, signal: typing.signal }));
    await vi.waitFor(() => expect(webauthn.startAuthentication).toHaveBeenCalled());
    typing.abort();
    expect(await waiting).toBe("passkey_cancelled:0");
    expect(webauthn.WebAuthnAbortService.cancelCeremony).toHaveBeenCalledTimes(1);
    expect(login.seen).toEqual([]);
    expect(auth.state).toBe("anonymous");
  });

  it("an abort after a newer ceremony started leaves the newer one alone; an already aborted signal asks for no challenge", async () => {
    const browser = installFakeBrowser({
      [`POST ${REFRESH}`]: anonymousRefresh,
      [`POST ${BASE}/passkeys/login/options`]: loginOptions,
      [`POST ${BASE}/passkeys/login`]: tokenAnswer("/passkeys/login", "u5", "s5"),
    });
    const { mfa } = await openTab();
    // The library rejects the older ceremony itself when the newer one starts.
    let rejectOlder: (error: Error) => void = () => undefined;
    let resolveNewer: (value: unknown) => void = () => undefined;
    webauthn.startAuthentication
      .mockImplementationOnce(() => new Promise((_, fail) => (rejectOlder = fail)))
      .mockImplementationOnce(() => new Promise((done) => (resolveNewer = done)));
    const typing = new AbortController();
    const older = outcome(mfa.loginWithPasskey({ conditional: true, signal: typing.signal }));
    await vi.waitFor(() => expect(webauthn.startAuthentication).toHaveBeenCalledTimes(1));
    const newer = mfa.loginWithPasskey();
    await vi.waitFor(() => expect(webauthn.startAuthentication).toHaveBeenCalledTimes(2));
    typing.abort();
    rejectOlder(browserError("AbortError"));
    expect(await older).toBe("passkey_cancelled:0");
    expect(webauthn.WebAuthnAbortService.cancelCeremony).not.toHaveBeenCalled();
    resolveNewer(ASSERTION);
    expect(await newer).toEqual(userOf("u5"));

    const count = browser.count("POST", `${BASE}/passkeys/login/options`);
    expect(await outcome(mfa.loginWithPasskey({ signal: AbortSignal.abort() }))).toBe("passkey_cancelled:0");
    expect(browser.count("POST", `${BASE}/passkeys/login/options`)).toBe(count);
  });

  it("listPasskeys reads the list with the bearer; removePasskey DELETEs the encoded id; errors reject", async () => {
    const list = endpoint(
      "GET",
      "/passkeys",
      json("/passkeys", { passkeys: [PASSKEY, { ...PASSKEY, id: "cred-2", lastUsedAt: "2025-02-01T00:00:00.000Z" }] }),
    );
    const remove = endpoint("DELETE", "/passkeys/a%2Fb%3D", () => respond(`${BASE}/passkeys/a%2Fb%3D`, null, { status: 204 }));
    const browser = installFakeBrowser({ [list.key]: list.handler, [remove.key]: remove.handler });
    const { auth, mfa } = await openTab();
    const token = await auth.getAccessToken();
    expect((await mfa.listPasskeys()).map((passkey) => passkey.id)).toEqual(["cred-1", "cred-2"]);
    expect(list.seen).toMatchObject([{ method: "GET", authorization: `Bearer ${token}` }]);
    await mfa.removePasskey("a/b=");
    expect(remove.seen).toMatchObject([{ method: "DELETE", authorization: `Bearer ${token}`, body: undefined }]);
    browser.route(remove.key, refused("/passkeys/a%2Fb%3D", 404, "not_found"));
    expect(await outcome(mfa.removePasskey("a/b="))).toBe("not_found:404");
    browser.route(list.key, json("/passkeys", { passkeys: [{ id: "x" }] }));
    expect(await outcome(mfa.listPasskeys())).toBe("unavailable:200");
  });
});

describe("TOTP and recovery codes", () => {
  const CODES = Array.from({ length: 10 }, (_, i) => `code-${i}`);

  it("setupTotp, enableTotp, regenerateRecoveryCodes, disableTotp and mfaStatus send the bearer and read their answers", async () => {
    const setup = endpoint(
      "POST",
      "/mfa/totp/setup",
      json("/mfa/totp/setup", { secret: "JBSWY3DPEHPK3PXP", otpauthUrl: "otpauth://totp/Hush:u1?secret=JBSWY3DPEHPK3PXP" }),
    );
    const enable = endpoint("POST", "/mfa/totp/enable", json("/mfa/totp/enable", { recoveryCodes: CODES }));
    const regenerate = endpoint("POST", "/mfa/recovery-codes", json("/mfa/recovery-codes", { recoveryCodes: CODES }));
    const disable = endpoint("POST", "/mfa/totp/disable", () => respond(`${BASE}/mfa/totp/disable`, null, { status: 204 }));
    const status = endpoint("GET", "/mfa", json("/mfa", { totp: true, recoveryCodesLeft: 9 }));
    installFakeBrowser(Object.fromEntries([setup, enable, regenerate, disable, status].map((route) => [route.key, route.handler])));
    const { auth, mfa } = await openTab();
    const bearer = `Bearer ${await auth.getAccessToken()}`;
    expect(await mfa.setupTotp()).toEqual({ secret: "JBSWY3DPEHPK3PXP", otpauthUrl: "otpauth://totp/Hush:u1?secret=JBSWY3DPEHPK3PXP" });
    expect(await mfa.enableTotp("123456")).toEqual(CODES);
    expect(await mfa.regenerateRecoveryCodes()).toEqual(CODES);
    await mfa.disableTotp("654 321");
    await mfa.disableTotp(" abcde-23456 ");
    expect(await mfa.mfaStatus()).toEqual({ totp: true, recoveryCodesLeft: 9 });
    expect(setup.seen).toMatchObject([{ csrf: "1", authorization: bearer, body: undefined }]);
    expect(enable.seen).toMatchObject([{ authorization: bearer, body: { code: "123456" } }]);
    expect(regenerate.seen).toMatchObject([{ authorization: bearer, body: undefined }]);
    // Six digits are the app's code; anything else is a recovery code.
    expect(disable.seen).toMatchObject([
      { authorization: bearer, body: { code: "654321" } },
      { authorization: bearer, body: { recoveryCode: "abcde-23456" } },
    ]);
    expect(status.seen).toMatchObject([{ method: "GET", authorization: bearer }]);
  });

  it("refusals reject with their code; malformed answers with unavailable", async () => {
    installFakeBrowser({
      [`POST ${BASE}/mfa/totp/setup`]: refused("/mfa/totp/setup", 403, "reauthentication_required"),
      [`POST ${BASE}/mfa/totp/enable`]: refused("/mfa/totp/enable", 401, "invalid_code"),
      [`POST ${BASE}/mfa/recovery-codes`]: json("/mfa/recovery-codes", { recoveryCodes: [1, 2] }),
      [`GET ${BASE}/mfa`]: json("/mfa", { totp: "yes", recoveryCodesLeft: 1 }),
    });
    const { mfa } = await openTab();
    expect(await outcome(mfa.setupTotp())).toBe("reauthentication_required:403");
    expect(await outcome(mfa.enableTotp("1"))).toBe("invalid_code:401");
    expect(await outcome(mfa.regenerateRecoveryCodes())).toBe("unavailable:200");
    expect(await outcome(mfa.mfaStatus())).toBe("unavailable:200");
  });
});

describe("reauthenticate", () => {
  it("with a password or a code: the bearer, exactly one proof, and the answer's token adopted for the same session", async () => {
    const route = endpoint("POST", "/reauthenticate", tokenAnswer("/reauthenticate", "u1", "s1"));
    const browser = installFakeBrowser({ [route.key]: route.handler });
    const { auth, mfa } = await openTab();
    const before = await auth.getAccessToken();
    expect(await mfa.reauthenticate({ password: "pw", code: "extra" } as { password: string })).toEqual(userOf("u1"));
    expect(route.seen).toMatchObject([{ csrf: "1", authorization: `Bearer ${before}`, body: { password: "pw" } }]);
    const after = await auth.getAccessToken();
    expect(after).not.toBe(before);
    expect(auth.state).toBe("authenticated");
    await mfa.reauthenticate({ code: "123456" });
    expect(route.seen[1]).toMatchObject({ authorization: `Bearer ${after}`, body: { code: "123456" } });
    await mfa.reauthenticate({ recoveryCode: "abcde-23456" });
    expect(route.seen[2]?.body).toEqual({ recoveryCode: "abcde-23456" });
    // No new cookie: the client asked the refresh endpoint only once, at load.
    expect(browser.count("POST", REFRESH)).toBe(1);
  });

  it("with a passkey: a challenge without the bearer, the browser's assertion, then the assertion with the bearer", async () => {
    const options = endpoint("POST", "/passkeys/login/options", loginOptions);
    const route = endpoint("POST", "/reauthenticate", tokenAnswer("/reauthenticate", "u1", "s1"));
    installFakeBrowser({ [options.key]: options.handler, [route.key]: route.handler });
    const { auth, mfa } = await openTab();
    const before = await auth.getAccessToken();
    await mfa.reauthenticate({ passkey: true });
    expect(options.seen).toMatchObject([{ authorization: null }]);
    expect(webauthn.startAuthentication).toHaveBeenCalledWith({ optionsJSON: REQUEST_OPTIONS, useBrowserAutofill: false });
    expect(route.seen).toMatchObject([{ authorization: `Bearer ${before}`, body: { challengeId: "ch-1", response: ASSERTION } }]);
  });

  it("a wrong code rejects and keeps the token; an expired token is refreshed once and the call retried", async () => {
    let expired = true;
    const browser = installFakeBrowser({
      [`POST ${BASE}/reauthenticate`]: async (request) => {
        const body: unknown = await request.json();
        if (expired) {
          expired = false;
          return respond(
            `${BASE}/reauthenticate`,
            { error: "invalid_token", message: "Expired." },
            {
              status: 401,
              headers: { "www-authenticate": 'Bearer error="invalid_token"' },
            },
          );
        }
        return (body as { code: string }).code === "111111"
          ? tokenAnswer("/reauthenticate", "u1", "s1")()
          : refused("/reauthenticate", 401, "invalid_code")();
      },
    });
    const { auth, mfa } = await openTab();
    await mfa.reauthenticate({ code: "111111" });
    expect(browser.count("POST", REFRESH)).toBe(2);
    expect(browser.count("POST", `${BASE}/reauthenticate`)).toBe(2);
    const held = await auth.getAccessToken();
    expect(await outcome(mfa.reauthenticate({ code: "999999" }))).toBe("invalid_code:401");
    expect(await auth.getAccessToken()).toBe(held);
  });
});

describe("@hush/client/mfa bundle", () => {
  it("loads @simplewebauthn/browser only when a passkey function runs, in a chunk of its own; the core never references it", async () => {
    const bundle = await build({
      entryPoints: [new URL("./mfa.ts", import.meta.url).pathname, new URL("./index.ts", import.meta.url).pathname],
      bundle: true,
      splitting: true,
      format: "esm",
      write: false,
      outdir: "/bundle",
      conditions: ["source"],
      logLevel: "silent",
    });
    const file = (name: RegExp) => bundle.outputFiles.filter((output) => name.test(output.path));
    const [mfa, core] = [file(/\/mfa\.js$/)[0]?.text ?? "", file(/\/index\.js$/)[0]?.text ?? ""];
    const webauthnChunks = bundle.outputFiles.filter((output) => output.text.includes("navigator.credentials"));
    expect(webauthnChunks).toHaveLength(1);
    const chunk = webauthnChunks[0]?.path.split("/").at(-1) ?? "?";
    // The entry names the chunk only in a dynamic import(), never in a static one.
    expect(mfa).toContain(`import("./${chunk}")`);
    expect(mfa).not.toMatch(new RegExp(`from\\s*"\\./${chunk.replace(".", "\\.")}"`));
    expect(mfa).not.toContain("navigator.credentials");
    expect(core).not.toContain(chunk);
    expect(core).not.toContain("navigator.credentials");
  });
});
