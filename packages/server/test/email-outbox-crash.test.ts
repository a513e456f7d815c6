import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startSmtpServer } from "./mail-smtp-server.js";
import { spawnServe } from "./spawn-serve.js";
import { createTestServer, GOOD_PASSWORD, TEST_SECRET, uniqueEmail } from "./test-server.js";

describe("the outbox across a crash", () => {
  const folder = mkdtempSync(join(tmpdir(), "hush-crash-"));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("sends, once, from the next server, the mails of a server killed after answering and before sending them", async () => {
    // The SMTP server is down while the first server runs: it answers, queues, and cannot send.
    const smtpPort = await freePort();
    const databaseUrl = `sqlite:${join(folder, "hush.db")}`;
    const first = await spawnServe({
      HUSH_SECRET: TEST_SECRET,
      HUSH_DATABASE_URL: databaseUrl,
      HUSH_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      // Killed in the middle of an attempt, it holds that mail this long: then the next server may send it.
      HUSH_MAIL_LEASE: "2s",
    });
    const email = uniqueEmail();
    const headers = { "content-type": "application/json", "x-hush-csrf": "1" };
    try {
      const signup = await fetch(`${first.url}/auth/signup`, {
        method: "POST",
        headers,
        body: JSON.stringify({ email, password: GOOD_PASSWORD }),
      });
      expect(signup.status).toBe(201);
      const forgot = await fetch(`${first.url}/auth/password/forgot`, { method: "POST", headers, body: JSON.stringify({ email }) });
      expect(forgot.status).toBe(202);
    } finally {
      first.child.kill("SIGKILL");
      await new Promise((resolve) => first.child.once("exit", resolve));
    }

    // SMTP comes back, and a new server on the same database finds the mails the dead one had
    // queued and sends each exactly once.
    const smtp = await startSmtpServer({ port: smtpPort });
    const next = await createTestServer({
      databaseUrl,
      mail: { smtpUrl: smtp.url, delivery: { pollIntervalMs: 50, leaseMs: 1_000, backoffMs: () => 50 } },
    });
    try {
      // The test server's clock stands still unless moved: move it past the dead server's
      // back-off and lease.
      next.clock.advance(5_000);
      const mails = await smtp.waitForMails(2, 20_000);
      const subjects = mails.map((m) => m.parsed.subject ?? "");
      expect(subjects.some((s) => /confirm your email/i.test(s))).toBe(true);
      expect(subjects.some((s) => /reset/i.test(s))).toBe(true);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(smtp.received.filter((m) => m.to.includes(email))).toHaveLength(2);
    } finally {
      await next.close({ keepData: true });
      await smtp.close();
    }
  });
});
