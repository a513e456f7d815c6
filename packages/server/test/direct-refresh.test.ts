import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, refreshCookieOf, refreshWith, signUp, type TestServer } from "./test-server.js";

/**
 * node:http answers `POST /auth/refresh` itself (node/direct-routes.ts), not through the router.
 * Every case here is sent both ways — over HTTP to the direct route, and to `server.fetch`, the
 * router — and the two answers must agree in status, body and headers.
 */
describe("the direct refresh route answers as the router does", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer({ allowedOrigins: ["https://app.example"] });
  });
  afterAll(() => t.close());

  /** The parts of a response that must agree (the access token, `jti` and cookies differ per call). */
  async function shape(response: Response) {
    const body = (await response.json()) as Record<string, unknown>;
    const headers = [...response.headers]
      .filter(([name]) => !["date", "connection", "keep-alive", "transfer-encoding", "content-length"].includes(name))
      .map(([name, value]) => [name, name === "set-cookie" ? value.replace(/=[^;]*/, "=…") : value]);
    return {
      status: response.status,
      body: { ...body, accessToken: typeof body.accessToken, user: body.user && Object.keys(body.user) },
      headers,
      cookie: refreshCookieOf(response)?.attributes,
    };
  }

  const viaHttp = (headers: Record<string, string>) => fetch(`${t.url}/auth/refresh`, { method: "POST", headers });
  const viaRouter = (headers: Record<string, string>) =>
    t.server.fetch(new Request(`${t.url}/auth/refresh`, { method: "POST", headers }), { remoteAddress: "127.0.0.1" });

  const cases: Array<[string, (cookie: string) => Record<string, string>]> = [
    ["a good refresh from an allowed origin", (cookie) => ({ cookie, "x-hush-csrf": "1", origin: "https://app.example" })],
    ["a good refresh without Origin", (cookie) => ({ cookie, "x-hush-csrf": "1" })],
    ["no CSRF header", (cookie) => ({ cookie, origin: "https://app.example" })],
    ["a foreign origin", (cookie) => ({ cookie, "x-hush-csrf": "1", origin: "https://evil.example" })],
    ["Origin: null", (cookie) => ({ cookie, "x-hush-csrf": "1", origin: "null" })],
    ["cross-site without Origin", (cookie) => ({ cookie, "x-hush-csrf": "1", "sec-fetch-site": "cross-site" })],
    ["no cookie", () => ({ "x-hush-csrf": "1", origin: "https://app.example" })],
    [
      "a forged cookie",
      () => ({ cookie: `__Host-hush_rt=${"A".repeat(22)}.${"B".repeat(43)}`, "x-hush-csrf": "1", origin: "https://app.example" }),
    ],
    ["a malformed cookie", () => ({ cookie: "__Host-hush_rt=%%%", "x-hush-csrf": "1" })],
  ];

  for (const [name, headersFor] of cases) {
    it(name, async () => {
      // Two fresh sessions, one per path, so each answer is the first use of its cookie.
      const [a, b] = [await signUp(t), await signUp(t)];
      const direct = await shape(await viaHttp(headersFor(a.cookie)));
      const routed = await shape(await viaRouter(headersFor(b.cookie)));
      expect(direct).toEqual(routed);
    });
  }

  it("is the route node:http takes (the router's metric and path are not involved)", async () => {
    const { cookie } = await signUp(t);
    const response = await viaHttp({ cookie, "x-hush-csrf": "1" });
    expect(response.status).toBe(200);
    // A query string is not the direct route's path: the router answers, alike.
    const queried = await fetch(`${t.url}/auth/refresh?x=1`, {
      method: "POST",
      headers: { cookie: refreshCookieOf(response)?.pair ?? "", "x-hush-csrf": "1" },
    });
    expect(queried.status).toBe(200);
  });
});

/**
 * On SQLite the refreshes of one turn of the event loop share one commit (storage/sqlite-direct.ts,
 * whose own tests prove that no answer leaves before its commit). Here, over HTTP: every rotation
 * is committed — seen by another connection to the file — by the time its answer arrives, and
 * every successor works.
 */
describe("refreshes that arrive together on SQLite", () => {
  let t: TestServer;
  let reader: Database.Database;
  beforeAll(async () => {
    t = await createTestServer({ rateLimits: false });
    reader = new Database(t.databaseFile, { readonly: true, fileMustExist: true });
  });
  afterAll(async () => {
    reader.close();
    await t.close();
  });

  /** True when another connection sees `cookieValue`'s secret as its session's current one. */
  function committed(cookieValue: string): boolean {
    const [sessionId, secret] = cookieValue.split(".");
    const row = reader.prepare("select current_hash from sessions where id = ?").get(sessionId) as { current_hash: string } | undefined;
    const hash = createHash("sha256")
      .update(Buffer.from(secret ?? "", "base64url"))
      .digest("base64url");
    return row?.current_hash === hash;
  }

  it("answers 16 sessions refreshed at once and 4 more presenters of one token, each rotation committed on arrival", async () => {
    const sessions = [];
    for (let i = 0; i < 16; i++) sessions.push(await signUp(t));
    const shared = sessions[0]?.cookie ?? "";
    const presented = [...sessions.map((s) => s.cookie), shared, shared, shared, shared];
    const answers = await Promise.all(
      presented.map(async (cookie) => {
        const { response, cookie: next } = await refreshWith(t, cookie);
        return { status: response.status, next: next?.value ?? "", seenOnArrival: next ? committed(next.value) : false };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.map((a) => a.seenOnArrival)).toEqual(Array(20).fill(true));
    // The five presenters of one token got one successor; the others each their own.
    expect(new Set(answers.map((a) => a.next)).size).toBe(16);
    expect(t.events.filter((e) => e.type === "refresh_token_reused")).toEqual([]);
    const again = await Promise.all(answers.slice(0, 16).map((a) => refreshWith(t, `__Host-hush_rt=${a.next}`)));
    expect(again.map((a) => a.response.status)).toEqual(Array(16).fill(200));
  });
});
