import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  refreshCookieOf as cookieOfResponse,
  createTestServer,
  refreshWith,
  signUp,
  type TestServer,
} from "../../server/test/test-server.js";
import { createSessionReader, embedSession, isPageNavigation, withSession } from "../src/index.js";

const navigation = (cookie: string, extra: Record<string, string> = {}) =>
  new Request("http://app.test/notes", { headers: { cookie, "sec-fetch-mode": "navigate", "sec-fetch-site": "same-origin", ...extra } });

describe("@hush/ssr: a page render signs in from the refresh cookie", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
  });
  afterAll(() => t.close());
  const refreshes = () => t.events.filter((e) => e.type === "refresh").length;

  for (const mode of ["in process", "over HTTP"] as const) {
    it(`rotates the cookie once and returns the session and the rotated Set-Cookie (${mode})`, async () => {
      const { cookie, email } = await signUp(t);
      const reader = createSessionReader({ auth: mode === "in process" ? t.server : t.url });
      const before = refreshes();
      const session = await reader.getSession(navigation(cookie));
      expect(session?.user.email).toBe(email);
      expect(session?.accessToken.split(".")).toHaveLength(3);
      expect(refreshes() - before).toBe(1);
      const rotated = session?.setCookie.find((c) => c.startsWith("__Host-hush_rt="));
      expect(rotated).toMatch(/HttpOnly; Secure; SameSite=Strict/);
      // The rotated cookie is what the browser carries next; the old one is within the grace.
      const next = `__Host-hush_rt=${rotated?.split(";")[0]?.split("=").slice(1).join("=")}`;
      expect((await refreshWith(t, next)).response.status).toBe(200);
    });
  }

  it("shares one rotation among ten parallel renders with one cookie: nobody is signed out", async () => {
    const { cookie } = await signUp(t);
    const reader = createSessionReader({ auth: t.server });
    const before = refreshes();
    const sessions = await Promise.all(Array.from({ length: 10 }, () => reader.getSession(navigation(cookie))));
    expect(refreshes() - before).toBe(1);
    expect(new Set(sessions.map((s) => s?.accessToken)).size).toBe(1);
    expect(sessions.every((s) => s !== null)).toBe(true);
    expect(t.events.some((e) => e.type === "refresh_token_reused")).toBe(false);
  });

  it("never refreshes for prefetches, RSC or asset requests, cross-site requests, or without a cookie", async () => {
    const { cookie } = await signUp(t);
    const reader = createSessionReader({ auth: t.server });
    const before = refreshes();
    const refused = [
      navigation(cookie, { "sec-purpose": "prefetch" }),
      navigation(cookie, { "next-router-prefetch": "1" }),
      navigation(cookie, { rsc: "1" }),
      navigation(cookie, { "sec-fetch-site": "cross-site" }),
      navigation(cookie, { "sec-fetch-mode": "no-cors" }),
      new Request("http://app.test/logo.png", { headers: { cookie } }),
      navigation(""),
    ];
    for (const request of refused) expect(await reader.getSession(request)).toBeNull();
    expect(refreshes() - before).toBe(0);
    expect(isPageNavigation(navigation(cookie, { "sec-fetch-site": "none" }).headers)).toBe(true);
  });

  it("renders signed out for a refused cookie, and when the auth server does not answer in time", async () => {
    const reader = createSessionReader({ auth: t.server });
    expect(await reader.getSession(navigation(`__Host-hush_rt=${"A".repeat(22)}.${"B".repeat(43)}`))).toBeNull();
    const slow = createSessionReader({ auth: { fetch: () => new Promise<Response>(() => undefined) }, timeoutMs: 50 });
    expect(await slow.getSession(navigation("__Host-hush_rt=x"))).toBeNull();
  });

  it("readSession hands back the clearing cookies of a refused token, and clears nothing when the server is busy", async () => {
    const reader = createSessionReader({ auth: t.server });
    const refused = await reader.readSession(
      new Request("http://app.test/", { method: "POST", headers: { cookie: `__Host-hush_rt=${"A".repeat(22)}.${"C".repeat(43)}` } }),
    );
    expect(refused.session).toBeNull();
    expect(refused.setCookie.map((c) => c.split(";")[0])).toEqual(["__Host-hush_rt=", "hush_session="]);
    const busy = createSessionReader({
      auth: { fetch: async () => Response.json({ error: "unavailable" }, { status: 503, headers: { "set-cookie": "x=1" } }) },
    });
    expect(await busy.readSession(navigation("__Host-hush_rt=x"))).toEqual({ session: null, setCookie: [] });
    // Not a navigation, but the caller judged it (a same-origin action): it rotates.
    const { cookie, email } = await signUp(t);
    const action = await reader.readSession(new Request("http://app.test/notes", { method: "POST", headers: { cookie } }));
    expect(action.session?.user.email).toBe(email);
    expect(action.setCookie.map((c) => c.split("=")[0])).toEqual(["__Host-hush_rt", "hush_session"]);
  });

  it("sends pages with a session private and no-store, with the rotated cookie; embeds safely", async () => {
    const { cookie } = await signUp(t);
    const session = await createSessionReader({ auth: t.server }).getSession(navigation(cookie));
    const page = withSession(new Response("<html></html>", { headers: { "cache-control": "public, max-age=600" } }), session);
    expect(page.headers.get("cache-control")).toBe("private, no-store");
    expect(cookieOfResponse(page)).toBeDefined();
    const embedded = embedSession({
      ...(session as NonNullable<typeof session>),
      user: { ...(session as NonNullable<typeof session>).user, email: "</script><b>@x" },
    });
    expect(embedded).not.toContain("</script>");
    expect(JSON.parse(embedded).user.email).toBe("</script><b>@x");
  });
});
