import { describe, expect, it } from "vitest";
import { TEST_DATABASES } from "../../../test-support/databases.js";
import { createTestServer, refreshWith, signUp } from "./test-server.js";

for (const database of TEST_DATABASES) {
  describe(`GET /metrics [${database}]`, () => {
    it("is off unless enabled", async () => {
      const t = await createTestServer({ database, rateLimits: false });
      try {
        expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
      } finally {
        await t.close();
      }
    });

    it("counts requests by route and status, refreshes, reuse detections, rate-limit hits, and database latency", async () => {
      const t = await createTestServer({ database, metrics: true, rateLimits: { signupsPerIp: { points: 2, durationSeconds: 60 } } });
      try {
        const { cookie } = await signUp(t);
        await refreshWith(t, cookie);
        t.clock.advance(20_000);
        await refreshWith(t, cookie);
        await signUp(t);
        await t.request("/auth/signup", {
          method: "POST",
          json: { email: "third@example.com", password: "violet-otter-keeps-42-secrets" },
        });
        const response = await fetch(`${t.url}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toContain("text/plain");
        const text = await response.text();
        expect(text).toMatch(/hush_http_requests_total\{route="\/auth\/refresh",method="POST",status="200"\} 1/);
        expect(text).toMatch(/hush_http_requests_total\{route="\/auth\/refresh",method="POST",status="401"\} 1/);
        expect(text).toMatch(/hush_refreshes_total 1/);
        expect(text).toMatch(/hush_refresh_reuse_detected_total 1/);
        expect(text).toMatch(/hush_rate_limit_hits_total\{limit="signupsPerIp"\} 1/);
        expect(text).toMatch(/hush_db_query_duration_seconds_count\{outcome="ok"\} [1-9]/);
        if (database === "postgres") expect(text).toMatch(/hush_db_pool_connections\{state="total"\} [1-9]/);
      } finally {
        await t.close();
      }
    });
  });
}
