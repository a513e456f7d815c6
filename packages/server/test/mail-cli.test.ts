import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, startSmtpServer, type TestSmtpServer } from "./mail-smtp-server.js";
import { HUSH_BIN } from "./spawn-serve.js";

/**
 * Runs the built `hush` binary (npx tsc -b packages/server) with a clean environment plus `env`.
 * Asynchronously: the SMTP server it talks to runs in this process.
 */
function hush(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HUSH_BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", HUSH_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("hush mail test", () => {
  let folder: string;
  const servers: TestSmtpServer[] = [];
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "hush-mail-cli-"));
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("is listed in the usage and has its own help", async () => {
    const usage = await hush(["--help"]);
    expect(usage.stdout).toMatch(/^ {2}mail /m);
    const help = await hush(["mail", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hush mail test ADDRESS/);
    expect((await hush(["mail"])).code).toBe(2);
    expect((await hush(["mail", "test"])).code).toBe(2);
  });

  it("sends one test mail over SMTP and prints the server's response", async () => {
    const s = await startSmtpServer();
    servers.push(s);
    const result = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: s.url, HUSH_ISSUER: "https://auth.example.com" });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/the server answered: 250 /);
    expect(s.received).toHaveLength(1);
    const [mail] = s.received;
    expect(mail?.to).toEqual(["ops@example.com"]);
    expect(mail?.from).toBe("no-reply@auth.example.com");
    expect(mail?.parsed.from?.value).toEqual([{ name: "Hush", address: "no-reply@auth.example.com" }]);
    expect(mail?.parsed.subject).toBe("Hush test mail");
    expect(mail?.parsed.text).toContain("test mail");
    expect(mail?.parsed.html).toContain("test mail");
  });

  it("uses HUSH_MAIL_FROM", async () => {
    const s = await startSmtpServer();
    servers.push(s);
    const result = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: s.url, HUSH_MAIL_FROM: "Acme <auth@acme.example>" });
    expect(result.code).toBe(0);
    expect(s.received[0]?.parsed.from?.value).toEqual([{ name: "Acme", address: "auth@acme.example" }]);
  });

  it("exits 1 with the SMTP code when the server refuses the mail (550)", async () => {
    const s = await startSmtpServer({ rejectAll: true, rcptCode: 550 });
    servers.push(s);
    const result = await hush(["mail", "test", "nobody@example.com"], { HUSH_SMTP_URL: s.url });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/not sent \(SMTP 550\): 550 5\.1\.1 Mailbox unavailable/);
    expect(s.received).toHaveLength(0);
  });

  it("exits 1 when nothing listens", async () => {
    const port = await freePort();
    const result = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: `smtp://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not sent: .*ECONNREFUSED/);
  });

  it("writes the mail into the outbox folder without SMTP, From localhost for an IP issuer", async () => {
    const outbox = join(folder, "outbox");
    const result = await hush(["mail", "test", "dev@example.com"], { HUSH_MAIL_OUTBOX: outbox });
    expect(result.code).toBe(0);
    const file = /written to (\S+\.eml)/.exec(result.stdout)?.[1] as string;
    expect(file.startsWith(outbox)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const parsed = await simpleParser(readFileSync(file));
    expect(parsed.subject).toBe("Hush test mail");
    expect(parsed.from?.value).toEqual([{ name: "Hush", address: "no-reply@localhost" }]);
  });
});

/**
 * TLS to the SMTP server, through the real binary: `smtps://` (TLS from the first byte) and
 * `smtp://` against a server that offers STARTTLS, both with a certificate the process trusts
 * (`NODE_EXTRA_CA_CERTS`, how an operator adds a private CA), and both refused — nothing sent,
 * not even in the clear — with a certificate it does not trust.
 */
describe("hush mail test over TLS", () => {
  let folder: string;
  let tls: { key: string; cert: string; certFile: string };
  const servers: TestSmtpServer[] = [];
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "hush-mail-tls-"));
    const keyFile = join(folder, "key.pem");
    const certFile = join(folder, "cert.pem");
    // A self-signed certificate for the loopback address, trusted by the child only when asked.
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        .concat(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .concat(["-keyout", keyFile, "-out", certFile]),
      { stdio: "ignore" },
    );
    tls = { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), certFile };
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  for (const mode of ["implicit", "starttls"] as const) {
    it(`${mode === "implicit" ? "smtps://" : "smtp:// with STARTTLS"}: sends over TLS to a trusted certificate`, async () => {
      const s = await startSmtpServer({ tls: { key: tls.key, cert: tls.cert, mode } });
      servers.push(s);
      expect(s.url.startsWith(mode === "implicit" ? "smtps://" : "smtp://")).toBe(true);
      const result = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: s.url, NODE_EXTRA_CA_CERTS: tls.certFile });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(s.received.map((mail) => [mail.to, mail.secure, mail.parsed.subject])).toEqual([
        [["ops@example.com"], true, "Hush test mail"],
      ]);
    });

    it(`${mode === "implicit" ? "smtps://" : "smtp:// with STARTTLS"}: sends nothing to a certificate it does not trust`, async () => {
      const s = await startSmtpServer({ tls: { key: tls.key, cert: tls.cert, mode } });
      servers.push(s);
      const result = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: s.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/not sent: .*self[- ]signed certificate/i);
      expect(s.received).toHaveLength(0);
      expect(s.dataStarted).toBe(0);
    });
  }

  it("smtp:// with ?requireTLS=true: sends nothing to a server that offers no STARTTLS (a stripped offer)", async () => {
    const s = await startSmtpServer();
    servers.push(s);
    const result = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: `${s.url}?requireTLS=true` });
    expect(result.code).toBe(1);
    // nodemailer asks for STARTTLS anyway, and gives up at the refusal.
    expect(result.stderr).toMatch(/not sent \(SMTP 500\): 500 Error: command not recognized/);
    expect(s.received).toHaveLength(0);
    // Without it, such a server gets the mail in the clear: STARTTLS is used when offered.
    const plain = await hush(["mail", "test", "ops@example.com"], { HUSH_SMTP_URL: s.url });
    expect(plain.code).toBe(0);
    expect(s.received.map((mail) => mail.secure)).toEqual([false]);
  });
});
