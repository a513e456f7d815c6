import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import type { Selectable } from "kysely";
import { simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { type Logger, pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POSTGRES_URL, TEST_DATABASES } from "../../../test-support/databases.js";
import { createDatabase } from "../../../test-support/postgres.js";
import { createMailTransport, type FailedMail, Mailer, type MailerOptions, type MailTransport } from "../src/mail/index.js";
import type { Storage } from "../src/storage/contract.js";
import { openStorage } from "../src/storage/open-storage.js";
import type { MailOutboxTable } from "../src/storage/schema.js";
import { freePort, startSmtpServer, type TestSmtpServer } from "./mail-smtp-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A pino logger whose JSON lines the test reads. */
function captureLogger(level = "trace"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Short timeouts and back-off: every test stays fast. */
const smtp = (url: string, socketTimeoutMs = 3_000): MailTransport =>
  createMailTransport({ smtpUrl: url, connectionTimeoutMs: 1_000, greetingTimeoutMs: 1_000, socketTimeoutMs });

type OutboxRow = Selectable<MailOutboxTable>;

describe("mail delivery over SMTP", () => {
  let folder: string;
  let file: string;
  let storage: Storage;
  const mailers: Mailer[] = [];
  const servers: TestSmtpServer[] = [];

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), "hush-mail-"));
    file = join(folder, "hush.db");
    storage = await openStorage(`sqlite:${file}`);
    await storage.migrate();
  });
  afterEach(async () => {
    for (const m of mailers.splice(0)) await m.stop();
    for (const s of servers.splice(0)) await s.close();
    await storage.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** The outbox rows, read straight from the SQLite file. */
  function rows(): OutboxRow[] {
    const db = new SqliteDatabase(file, { readonly: true });
    try {
      return db.prepare("SELECT * FROM mail_outbox ORDER BY created_at").all() as OutboxRow[];
    } finally {
      db.close();
    }
  }

  async function server(options: Parameters<typeof startSmtpServer>[0] = {}) {
    const s = await startSmtpServer(options);
    servers.push(s);
    return s;
  }

  function mailer(
    transport: MailTransport,
    overrides: Partial<MailerOptions> = {},
    logger: Logger = pino({ level: "silent" }),
    onFailed?: (m: FailedMail) => void,
    on: Storage = storage,
  ) {
    const m = new Mailer(
      on,
      {
        from: "Hush <no-reply@hush.test>",
        appName: "Acme",
        transport,
        logLinks: false,
        pollIntervalMs: 25,
        backoffMs: (attempt) => 20 * attempt,
        ...overrides,
      },
      logger,
      onFailed,
    );
    mailers.push(m);
    return m;
  }

  it("delivers a queued mail with its subject, text and HTML parts and the link, then clears its bodies", async () => {
    const s = await server();
    const m = mailer(smtp(s.url));
    m.start();
    const link = "https://app.example/verify-email#t=abc&u=<1>";
    await m.queue("verify_email", "alice@example.com", { link, lifetimeSeconds: 86_400 });
    const [mail] = await s.waitForMails(1);
    expect(mail?.to).toEqual(["alice@example.com"]);
    expect(mail?.from).toBe("no-reply@hush.test");
    expect(mail?.parsed.subject).toBe("Confirm your email address for Acme");
    expect(mail?.parsed.text).toContain(link);
    expect(mail?.parsed.text).toContain("24 hours");
    const html = mail?.parsed.html as string;
    expect(html).toContain('href="https://app.example/verify-email#t=abc&amp;u=&lt;1&gt;"');
    expect(html).not.toContain("<1>");
    await waitUntil(() => rows()[0]?.sent_at != null, 5_000, "the row to be finished");
    expect(rows()[0]).toMatchObject({ subject: null, text_body: null, html_body: null, payload: null, attempts: 1, failed_at: null });
  });

  it("composes a job at sending time, once: its retries send the same message", async () => {
    const s = await server({ rcptFailures: 1 });
    const m = mailer(smtp(s.url));
    let composed = 0;
    m.setComposer(async (job) => {
      composed++;
      const { userId } = job.payload as { userId: string };
      return {
        kind: "reset_password",
        to: job.recipient,
        vars: { link: `https://app.example/reset-password#${userId}-${composed}`, lifetimeSeconds: 1_800 },
      };
    });
    m.start();
    await m.queueJob("reset_password", "bob@example.com", { userId: "u1" });
    const [mail] = await s.waitForMails(1);
    expect(s.rcptTimes).toHaveLength(2);
    expect(composed).toBe(1);
    expect(mail?.parsed.subject).toBe("Reset your Acme password");
    expect(mail?.parsed.text).toContain("https://app.example/reset-password#u1-1");
    expect(mail?.parsed.text).toContain("30 minutes");
  });

  it("finishes a job whose composer has nothing to send, and sends nothing", async () => {
    const s = await server();
    const m = mailer(smtp(s.url));
    const seen: unknown[] = [];
    m.setComposer(async (job) => {
      seen.push(job.payload);
      return undefined;
    });
    await m.queueJob("reset_password", "nobody@example.com", { email: "nobody@example.com" });
    await m.drain();
    expect(seen).toEqual([{ email: "nobody@example.com" }]);
    expect(s.rcptTimes).toHaveLength(0);
    expect(rows()[0]).toMatchObject({ attempts: 1, failed_at: null, payload: null });
    expect(rows()[0]?.sent_at).not.toBeNull();
  });

  it("retries a temporary failure (451) with back-off and delivers the mail once", async () => {
    const s = await server({ rcptFailures: 3, rcptCode: 451 });
    const failed: FailedMail[] = [];
    const { logger, lines } = captureLogger();
    const m = mailer(smtp(s.url), { backoffMs: (attempt) => 60 * 2 ** (attempt - 1) }, logger, (f) => failed.push(f));
    m.start();
    await m.queue("signin_link", "carol@example.com", { link: "https://app.example/sign-in-link#secret-token", lifetimeSeconds: 900 });
    const [mail] = await s.waitForMails(1);
    expect(mail?.parsed.text).toContain("15 minutes");
    expect(s.rcptTimes).toHaveLength(4);
    const gaps = s.rcptTimes.slice(1).map((t, i) => t - (s.rcptTimes[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(55);
    expect(gaps[1]).toBeGreaterThanOrEqual(115);
    expect(gaps[2]).toBeGreaterThanOrEqual(235);
    await sleep(150);
    expect(s.received).toHaveLength(1);
    expect(failed).toEqual([]);
    await waitUntil(() => rows()[0]?.sent_at != null, 5_000, "the row to be finished");
    expect(rows()[0]?.attempts).toBe(4);
    const retries = lines.filter((l) => l.includes("will retry"));
    expect(retries).toHaveLength(3);
    expect(retries[0]).toContain("451");
    expect(JSON.parse(retries[0] as string).level).toBe(40);
    expect(lines.join("\n")).not.toContain("secret-token");
  });

  it("gives up after maxAttempts temporary failures", async () => {
    const s = await server({ rejectAll: true, rcptCode: 451 });
    const failed: FailedMail[] = [];
    const m = mailer(smtp(s.url), { maxAttempts: 3, backoffMs: () => 5 }, undefined, (f) => failed.push(f));
    m.start();
    await m.queue("test", "dave@example.com", {});
    await waitUntil(() => failed.length > 0, 5_000, "onFailed");
    expect(s.rcptTimes).toHaveLength(3);
    expect(failed[0]).toMatchObject({ kind: "test", recipient: "dave@example.com" });
    expect(rows()[0]).toMatchObject({ attempts: 3, sent_at: null, subject: null, text_body: null, html_body: null });
  });

  it("does not retry a permanent failure (550): onFailed, a warning, and the bodies cleared", async () => {
    const s = await server({ rejectAll: true, rcptCode: 550 });
    const failed: FailedMail[] = [];
    const { logger, lines } = captureLogger();
    const m = mailer(smtp(s.url), {}, logger, (f) => failed.push(f));
    m.start();
    await m.queue("reset_password", "erin@example.com", { link: "https://app.example/reset-password#tok-550", lifetimeSeconds: 1_800 });
    await waitUntil(() => failed.length > 0, 5_000, "onFailed");
    await sleep(150); // several polls: nothing is retried
    expect(s.rcptTimes).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.kind).toBe("reset_password");
    expect(failed[0]?.recipient).toBe("erin@example.com");
    expect(failed[0]?.error).toMatch(/^550 /);
    const row = rows()[0] as OutboxRow;
    expect(row.failed_at).not.toBeNull();
    expect(row.sent_at).toBeNull();
    expect(row.last_error).toContain("550");
    expect(row).toMatchObject({ subject: null, text_body: null, html_body: null, payload: null, attempts: 1 });
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "mail failed for good");
    expect(warning).toMatchObject({ level: 40, kind: "reset_password" });
    expect(lines.join("\n")).not.toContain("tok-550");
  });

  it("queues at once while nothing listens, and delivers once the SMTP server starts on that port", async () => {
    const port = await freePort();
    const m = mailer(smtp(`smtp://127.0.0.1:${port}`), { maxAttempts: 1_000, backoffMs: () => 30 });
    m.start();
    const started = performance.now();
    await m.queue("test", "frank@example.com", {});
    expect(performance.now() - started).toBeLessThan(500);
    await waitUntil(() => (rows()[0]?.attempts ?? 0) >= 2, 5_000, "two refused attempts");
    expect(rows()[0]?.sent_at).toBeNull();
    const s = await server({ port });
    const [mail] = await s.waitForMails(1);
    expect(mail?.parsed.subject).toBe("Acme test mail");
    await waitUntil(() => rows()[0]?.sent_at != null, 5_000, "the row to be finished");
  });

  it("answers queue() in its normal time while a slow SMTP server holds every send", async () => {
    const s = await server({ dataDelayMs: 600 });
    const m = mailer(smtp(s.url, 5_000));
    m.start();
    await m.queue("test", "slow-0@example.com", {});
    await waitUntil(() => s.dataStarted >= 1, 5_000, "the first message to reach DATA");
    const durations: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const started = performance.now();
      await m.queue("test", `slow-${i}@example.com`, {});
      durations.push(performance.now() - started);
    }
    expect(s.received).toHaveLength(0);
    expect(Math.max(...durations)).toBeLessThan(300);
    const mails = await s.waitForMails(6, 10_000);
    expect(new Set(mails.map((r) => r.to[0])).size).toBe(6);
  });

  it("stop() waits for the mail being sent", async () => {
    const s = await server({ dataDelayMs: 400 });
    const m = mailer(smtp(s.url));
    m.start();
    await m.queue("test", "gina@example.com", {});
    await waitUntil(() => s.dataStarted >= 1, 5_000, "DATA");
    await m.stop();
    expect(s.received).toHaveLength(1);
    expect(rows()[0]?.sent_at).not.toBeNull();
  });

  it("survives a database that fails: logs, and delivers at a later poll", async () => {
    const s = await server();
    const { logger, lines } = captureLogger();
    let failures = 3;
    const flaky = new Proxy(storage, {
      get(target, key, receiver) {
        if (key === "claimMail") {
          return (...args: Parameters<Storage["claimMail"]>) => {
            if (failures-- > 0) return Promise.reject(Object.assign(new Error("database unavailable"), { code: "ECONNREFUSED" }));
            return target.claimMail(...args);
          };
        }
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const m = mailer(smtp(s.url), {}, logger, undefined, flaky);
    m.start();
    await m.queue("test", "hank@example.com", {});
    await s.waitForMails(1);
    expect(lines.filter((l) => l.includes("mail outbox unavailable")).length).toBeGreaterThanOrEqual(1);
  });

  it("sends a mail whose holder died once its lease ends", async () => {
    const s = await server();
    await storage.queueMail({
      id: "orphan",
      kind: "test",
      recipient: "ivy@example.com",
      payload: null,
      subject: "orphaned",
      textBody: "text",
      htmlBody: "<p>html</p>",
      createdAt: Date.now(),
    });
    // Another instance claimed it and died.
    expect(await storage.claimMail(Date.now(), 300, 10)).toHaveLength(1);
    const m = mailer(smtp(s.url));
    m.start();
    await sleep(150);
    expect(s.received).toHaveLength(0);
    const [mail] = await s.waitForMails(1, 5_000);
    expect(mail?.parsed.subject).toBe("orphaned");
  });

  it("sends through the application's own nodemailer transporter, and leaves it open", async () => {
    const s = await server();
    const own = nodemailer.createTransport({ host: "127.0.0.1", port: s.port, secure: false, ignoreTLS: true });
    const transport = createMailTransport({ transport: own });
    expect(transport.kind).toBe("custom");
    const m = mailer(transport);
    await m.queue("security_notice", "mia@example.com", { change: "Your password was changed." });
    await m.drain();
    expect(s.received[0]?.parsed.text).toContain("Your password was changed.");
    await m.stop();
    // Still the application's to use (and to close).
    await own.sendMail({ from: "a@hush.test", to: "b@example.com", subject: "after", text: "x" });
    expect(s.received).toHaveLength(2);
    own.close();
  });

  it("writes a parseable .eml in outbox mode and logs the link at info", async () => {
    const outbox = join(folder, "outbox");
    const { logger, lines } = captureLogger("info");
    const m = mailer(createMailTransport({ outboxDir: outbox }), { logLinks: true }, logger);
    const link = "https://app.example/sign-in-link#dev-token";
    await m.queue("signin_link", "jill@example.com", { link, lifetimeSeconds: 900 });
    m.setComposer(async (job) => ({ kind: "verify_email", to: job.recipient, vars: { link: `${link}-job`, lifetimeSeconds: 3_600 } }));
    await m.queueJob("verify_email", "kim@example.com", {});
    await m.drain();
    expect(statSync(outbox).mode & 0o777).toBe(0o700);
    const files = readdirSync(outbox).sort();
    expect(files).toHaveLength(2);
    for (const name of files) {
      expect(name).toMatch(/^\d{13}-\d{4}-[0-9a-f]{8}\.eml$/);
      expect(statSync(join(outbox, name)).mode & 0o777).toBe(0o600);
    }
    const parsed = await Promise.all(files.map((name) => simpleParser(readFileSync(join(outbox, name)))));
    const signin = parsed.find((p) => p.subject === "Your Acme sign-in link");
    expect(signin?.text).toContain(link);
    expect(signin?.html).toContain(link);
    expect(parsed.find((p) => p.subject === "Confirm your email address for Acme")?.text).toContain("1 hour.");
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.link);
    expect(logged).toEqual([
      expect.objectContaining({ level: 30, kind: "signin_link", to: "jill@example.com", link }),
      expect.objectContaining({ level: 30, kind: "verify_email", to: "kim@example.com", link: `${link}-job` }),
    ]);
  });

  it("never logs a link, token or body with SMTP, at any level", async () => {
    const s = await server({ rcptFailures: 1 });
    const { logger, lines } = captureLogger("trace");
    const m = mailer(smtp(s.url), {}, logger);
    m.setComposer(async (job) => ({
      kind: "change_email",
      to: job.recipient,
      vars: { link: "https://app.example/confirm-email#job-secret", lifetimeSeconds: 86_400, newEmail: job.recipient },
    }));
    m.start();
    await m.queue("verify_email", "lee@example.com", { link: "https://app.example/verify-email#queued-secret", lifetimeSeconds: 86_400 });
    await m.queueJob("change_email", "new@example.com", { userId: "u9" });
    await s.waitForMails(2);
    await waitUntil(() => rows().every((r) => r.sent_at != null), 5_000, "both rows finished");
    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join("\n");
    for (const secret of ["queued-secret", "job-secret", "https://app.example", "Confirm your", "expires in"])
      expect(all).not.toContain(secret);
  });
});

for (const database of TEST_DATABASES)
  describe(`two instances on one database [${database}]`, () => {
    it("sends each of 20 mails exactly once", async () => {
      const folder = mkdtempSync(join(tmpdir(), "hush-mail-"));
      const url = database === "postgres" ? await createDatabase(POSTGRES_URL) : `sqlite:${join(folder, "hush.db")}`;
      const a = await openStorage(url);
      await a.migrate();
      const b = await openStorage(url);
      const s = await startSmtpServer();
      const transports = [smtp(s.url), smtp(s.url)];
      const options = (transport: MailTransport): MailerOptions => ({
        from: "Hush <no-reply@hush.test>",
        appName: "Acme",
        transport,
        logLinks: false,
        pollIntervalMs: 10,
        batchSize: 3,
      });
      const silent = pino({ level: "silent" });
      const mailers = [
        new Mailer(a, options(transports[0] as MailTransport), silent),
        new Mailer(b, options(transports[1] as MailTransport), silent),
      ];
      try {
        for (const m of mailers) m.start();
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (mailers[i % 2] as Mailer).queue("verify_email", `user-${i}@example.com`, {
              link: `https://app.example/v#${i}`,
              lifetimeSeconds: 3_600,
            }),
          ),
        );
        await s.waitForMails(20, 15_000);
        await sleep(300); // many polls of both workers: nothing more goes out
        const recipients = s.received.map((r) => r.to[0]);
        expect(recipients).toHaveLength(20);
        expect(new Set(recipients).size).toBe(20);
      } finally {
        for (const m of mailers) await m.stop();
        await s.close();
        await a.close();
        await b.close();
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
