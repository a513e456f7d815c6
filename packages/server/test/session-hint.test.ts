import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, loginWith, refreshCookieOf, refreshWith, signUp, type TestServer } from "./test-server.js";

/** The `hush_session` hint of a response: its raw `Set-Cookie`, if any. */
const hintOf = (response: Response) => response.headers.getSetCookie().find((c) => c.startsWith("hush_session="));

/** The hint must live exactly as long as the refresh cookie: same Max-Age, Path, Secure, SameSite. */
function expectHintBeside(response: Response, value: "1" | "") {
  const refresh = refreshCookieOf(response);
  const hint = hintOf(response);
  expect(refresh).toBeDefined();
  expect(hint).toBe(`hush_session=${value}; ${refresh?.attributes.replace("HttpOnly; ", "")}`);
  expect(hint).not.toMatch(/HttpOnly|Domain/i);
}

describe("the session hint cookie (hush_session)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer({ database: "sqlite", rateLimits: false });
  });
  afterAll(() => t.close());

  it("is set beside the refresh cookie at signup, login and refresh, script-readable and without a secret", async () => {
    const signup = await t.request("/auth/signup", {
      method: "POST",
      json: { email: "hint@example.com", password: "correct horse battery staple" },
    });
    expectHintBeside(signup, "1");
    const login = await loginWith(t, "hint@example.com", "correct horse battery staple");
    expectHintBeside(login, "1");
    const cookie = refreshCookieOf(login)?.pair ?? "";
    const { response } = await refreshWith(t, cookie);
    expect(response.status).toBe(200);
    expectHintBeside(response, "1");
  });

  it("is cleared with the refresh cookie at logout, logout-all and a refused refresh", async () => {
    const { cookie, accessToken } = await signUp(t);
    const logout = await t.request("/auth/logout", { method: "POST", headers: { cookie } });
    expect(logout.status).toBe(204);
    expectHintBeside(logout, "");
    const refused = await refreshWith(t, cookie);
    expect(refused.response.status).toBe(401);
    expectHintBeside(refused.response, "");

    const other = await signUp(t);
    const all = await t.request("/auth/logout-all", { method: "POST", headers: { authorization: `Bearer ${other.accessToken}` } });
    expect(all.status).toBe(204);
    expectHintBeside(all, "");
    expect(accessToken).not.toBe(other.accessToken);
  });

  it("is never evidence of a session: the hint alone refreshes nothing", async () => {
    const response = await t.request("/auth/refresh", { method: "POST", headers: { cookie: "hush_session=1" } });
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe("invalid_refresh_token");
  });

  it("is not set where no session begins (a wrong password)", async () => {
    const { email } = await signUp(t);
    const wrong = await loginWith(t, email, "not the password at all");
    expect(wrong.status).toBe(401);
    expect(hintOf(wrong)).toBeUndefined();
  });
});
