import { NextRequest } from "next/server.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, type TestServer } from "../../server/test/test-server.js";
import {
  ACCESS_TOKEN_REQUEST_HEADER,
  CHECKED_REQUEST_HEADER,
  createHushNext,
  isSameOriginAction,
  USER_REQUEST_HEADER,
} from "../src/index.js";

const APP = "http://app.test";
const NAVIGATE = { "sec-fetch-mode": "navigate", "sec-fetch-site": "same-origin" };

/** What the proxy passes to the render: Next.js carries overridden request headers on the response. */
const passed = (response: Response, name: string) => response.headers.get(`x-middleware-request-${name}`);

describe("@hush/next: which requests the proxy signs in", () => {
  const post = (headers: Record<string, string>, method = "POST") => new NextRequest(`${APP}/notes`, { method, headers });

  it("takes a same-origin server action or CSRF-headed call, and nothing cross-origin or cross-site", () => {
    expect(isSameOriginAction(post({ "next-action": "abc", origin: APP, "sec-fetch-site": "same-origin" }))).toBe(true);
    expect(isSameOriginAction(post({ "x-hush-csrf": "1", origin: APP }))).toBe(true);
    const refused: Record<string, string>[] = [
      { "next-action": "abc", origin: "http://evil.test", "sec-fetch-site": "cross-site" },
      // Same site, another origin (a sibling host or port): still refused.
      { "next-action": "abc", origin: "http://app.test:8080", "sec-fetch-site": "same-site" },
      { "next-action": "abc", origin: APP, "sec-fetch-site": "same-site" },
      { "next-action": "abc" },
      { "next-action": "abc", origin: "null" },
      { origin: APP, "sec-fetch-site": "same-origin" },
      { "x-hush-csrf": "0", origin: APP },
    ];
    for (const headers of refused) {
      expect(isSameOriginAction(post(headers)), JSON.stringify(headers)).toBe(false);
    }
    expect(isSameOriginAction(post({ "next-action": "abc", origin: APP }, "GET"))).toBe(false);
  });
});

describe("@hush/next: the proxy against a real auth server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
  });
  afterAll(() => t.close());
  const refreshes = () => t.events.filter((e) => e.type === "refresh").length;

  it("strips forged headers from every request, and refreshes only navigations and same-origin actions", async () => {
    const hush = createHushNext({ auth: t.server, issuer: t.url });
    const forged = { [ACCESS_TOKEN_REQUEST_HEADER]: "forged", [USER_REQUEST_HEADER]: "x", [CHECKED_REQUEST_HEADER]: "1" };
    const { cookie, email } = await signUp(t);
    const before = refreshes();
    for (const headers of [
      { ...forged, cookie, rsc: "1", ...NAVIGATE },
      { ...forged, cookie, "next-router-prefetch": "1", ...NAVIGATE },
      { ...forged, cookie, "sec-fetch-mode": "cors", "sec-fetch-site": "same-origin" },
    ]) {
      const response = await hush.proxy(new NextRequest(`${APP}/notes`, { headers }));
      // Deleted: Next.js lists the overridden headers, and the forged ones are not carried.
      expect(passed(response, ACCESS_TOKEN_REQUEST_HEADER)).toBeNull();
      expect(passed(response, CHECKED_REQUEST_HEADER)).toBeNull();
      expect(response.headers.get("x-middleware-override-headers")).not.toContain(ACCESS_TOKEN_REQUEST_HEADER);
      expect(response.headers.getSetCookie()).toEqual([]);
    }
    // Nothing under the auth server's own path either.
    await hush.proxy(new NextRequest(`${APP}/auth/refresh`, { method: "POST", headers: { cookie, "x-hush-csrf": "1", origin: APP } }));
    expect(refreshes() - before).toBe(0);

    const navigation = await hush.proxy(new NextRequest(`${APP}/notes`, { headers: { ...forged, cookie, ...NAVIGATE } }));
    expect(refreshes() - before).toBe(1);
    expect(passed(navigation, ACCESS_TOKEN_REQUEST_HEADER)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.parse(decodeURIComponent(passed(navigation, USER_REQUEST_HEADER) ?? "")).email).toBe(email);
    expect(passed(navigation, CHECKED_REQUEST_HEADER)).toBe("1");
    expect(navigation.headers.get("cache-control")).toBe("private, no-store");
    expect(navigation.headers.getSetCookie().map((c) => c.split("=")[0])).toEqual(["__Host-hush_rt", "hush_session"]);
  });

  it("says it looked and found nobody for a navigation without a cookie, and clears a refused one", async () => {
    const hush = createHushNext({ auth: () => t.server, issuer: t.url });
    const anonymous = await hush.proxy(new NextRequest(`${APP}/`, { headers: NAVIGATE }));
    expect(passed(anonymous, CHECKED_REQUEST_HEADER)).toBe("1");
    expect(passed(anonymous, ACCESS_TOKEN_REQUEST_HEADER)).toBeNull();
    const refused = await hush.proxy(
      new NextRequest(`${APP}/`, { headers: { cookie: `__Host-hush_rt=${"A".repeat(22)}.${"B".repeat(43)}`, ...NAVIGATE } }),
    );
    expect(passed(refused, ACCESS_TOKEN_REQUEST_HEADER)).toBeNull();
    expect(refused.headers.getSetCookie().map((c) => c.split(";")[0])).toEqual(["__Host-hush_rt=", "hush_session="]);
  });

  it("serves the auth server from its route handlers: a sign-up with its body, and the keys", async () => {
    const hush = createHushNext({ auth: t.server, issuer: t.url });
    const signup = await hush.handlers.POST(
      new Request(`${APP}/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hush-csrf": "1" },
        body: JSON.stringify({ email: "handlers@example.com", password: "violet-otter-keeps-42-secrets" }),
      }),
    );
    expect(signup.status).toBe(201);
    expect(signup.headers.getSetCookie().map((c) => c.split("=")[0])).toContain("hush_session");
    const keys = await hush.handlers.GET(new Request(`${APP}/.well-known/jwks.json`));
    expect(((await keys.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });
});
