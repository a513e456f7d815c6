import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, GOOD_PASSWORD, signUp, type TestServer } from "./test-server.js";

for (const database of TEST_DATABASES)
  describe(`request bodies and errors [${database}]`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await createTestServer({ database, rateLimits: false });
    });
    afterAll(() => t.close());

    it("refuses malformed JSON with 400 invalid_request", async () => {
      const response = await t.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"email": "a@b.c",',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: "invalid_request", message: expect.any(String) });
    });

    it("refuses invalid UTF-8 with 400 invalid_request", async () => {
      const response = await t.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      });
      expect(response.status).toBe(400);
    });

    it("refuses a body over 16 KiB with 413 payload_too_large, declared or streamed", async () => {
      const big = JSON.stringify({ email: "a@example.com", password: "x".repeat(17_000) });
      const declared = await t.request("/auth/signup", { method: "POST", headers: { "content-type": "application/json" }, body: big });
      expect(declared.status).toBe(413);
      expect((await declared.json()).error).toBe("payload_too_large");
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(1024)));
          controller.close();
        },
      });
      const streamed = await t.request("/auth/signup", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);
    });

    it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])(
      "refuses %s with 415 unsupported_media_type",
      async (type) => {
        const response = await t.request("/auth/signup", { method: "POST", headers: { "content-type": type }, body: "email=a" });
        expect(response.status).toBe(415);
        expect((await response.json()).error).toBe("unsupported_media_type");
      },
    );

    it("accepts application/json with a charset", async () => {
      const response = await t.request("/auth/signup", {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify({ email: "charset@example.com", password: GOOD_PASSWORD }),
      });
      expect(response.status).toBe(201);
    });

    it("answers an unknown path with a JSON 404", async () => {
      const response = await fetch(`${t.url}/auth/nope`);
      expect(response.status).toBe(404);
      expect((await response.json()).error).toBe("not_found");
    });

    it("answers GET /health with 200 {status: ok}", async () => {
      const response = await fetch(`${t.url}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ok" });
    });
  });

for (const database of TEST_DATABASES)
  describe(`an unreachable database [${database}]`, () => {
    it("turns into 503 unavailable on /health and on cookie endpoints, never a bare 500 or a crash", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      const { email, cookie } = await signUp(t);
      // Close the database under the running server: every query now fails at the driver.
      await t.server.storage.close();
      try {
        const health = await fetch(`${t.url}/health`);
        expect(health.status).toBe(503);
        expect((await health.json()).error).toBe("unavailable");
        const login = await t.request("/auth/login", { method: "POST", json: { email, password: GOOD_PASSWORD } });
        expect(login.status).toBe(503);
        expect((await login.json()).error).toBe("unavailable");
        const refresh = await t.request("/auth/refresh", { method: "POST", headers: { cookie } });
        expect(refresh.status).toBe(503);
        // A 503 never clears the refresh cookie.
        expect(refresh.headers.getSetCookie()).toEqual([]);
      } finally {
        await t.close().catch(() => undefined);
      }
    });
  });
