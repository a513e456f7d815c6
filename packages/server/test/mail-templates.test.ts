import { describe, expect, it } from "vitest";
import {
  DEFAULT_TEMPLATES,
  defaultMailFrom,
  defaultOutboxDir,
  isTemporaryMailError,
  lifetimeInWords,
  MAIL_KINDS,
  type MailTemplates,
  renderMail,
} from "../src/mail/index.js";

describe("mail templates", () => {
  it("says a lifetime in words", () => {
    expect(lifetimeInWords(1_800)).toBe("30 minutes");
    expect(lifetimeInWords(86_400)).toBe("24 hours");
    expect(lifetimeInWords(900)).toBe("15 minutes");
    expect(lifetimeInWords(3_600)).toBe("1 hour");
    expect(lifetimeInWords(60)).toBe("1 minute");
    expect(lifetimeInWords(45)).toBe("45 seconds");
    expect(lifetimeInWords(7 * 86_400)).toBe("7 days");
    expect(lifetimeInWords(5_400)).toBe("90 minutes");
  });

  it("renders every kind with a subject, a text and an HTML part", () => {
    const vars = {
      appName: "Acme",
      link: "https://app.example/x#t",
      lifetimeSeconds: 1_800,
      newEmail: "new@example.com",
      change: "Your password was changed.",
    };
    for (const kind of MAIL_KINDS) {
      const mail = renderMail(DEFAULT_TEMPLATES, kind, vars as never);
      expect(mail.subject).toContain("Acme");
      expect(mail.text).toContain("Acme");
      expect(mail.html).toMatch(/^<!doctype html>/);
      const hasLink = ["verify_email", "reset_password", "change_email", "signin_link"].includes(kind);
      expect(mail.text.includes(vars.link)).toBe(hasLink);
      expect(mail.html.includes(vars.link)).toBe(hasLink);
      if (hasLink) expect(mail.text).toContain("30 minutes");
    }
    expect(renderMail(DEFAULT_TEMPLATES, "change_email", vars).text).toContain("new@example.com");
    const notice = renderMail(DEFAULT_TEMPLATES, "email_change_notice", vars);
    expect(notice.text).toContain("new@example.com");
    expect(notice.text).toContain("support");
    expect(notice.text.toLowerCase()).not.toContain("undo");
    expect(renderMail(DEFAULT_TEMPLATES, "security_notice", vars).text).toContain("Your password was changed.");
  });

  it("escapes every variable in the HTML part", () => {
    const evil = '<script>alert("x")</script>&\'';
    const mail = renderMail(DEFAULT_TEMPLATES, "change_email", {
      appName: evil,
      link: `https://app.example/c#"><img src=x onerror=alert(1)>`,
      lifetimeSeconds: 3_600,
      newEmail: `${evil}@example.com`,
    });
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<img");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(mail.text).toContain(evil);
    const security = renderMail(DEFAULT_TEMPLATES, "security_notice", { appName: "A", change: "<b>changed</b>" });
    expect(security.html).toContain("&lt;b&gt;changed&lt;/b&gt;");
  });

  it("uses a replacement template and falls back to the defaults for the others", () => {
    const templates: Partial<MailTemplates> = { test: ({ appName }) => ({ subject: `Hi from ${appName}`, text: "t", html: "<p>h</p>" }) };
    expect(renderMail(templates, "test", { appName: "Acme" }).subject).toBe("Hi from Acme");
    expect(renderMail(templates, "account_deleted", { appName: "Acme" }).subject).toBe("Your Acme account was deleted");
  });
});

describe("mail settings defaults", () => {
  it("sends from no-reply at the issuer's host, localhost for an IP address", () => {
    expect(defaultMailFrom("https://auth.example.com")).toBe("Hush <no-reply@auth.example.com>");
    expect(defaultMailFrom("http://127.0.0.1:4000")).toBe("Hush <no-reply@localhost>");
    expect(defaultMailFrom("http://[::1]:4000")).toBe("Hush <no-reply@localhost>");
  });

  it("puts the outbox beside the SQLite file, else into ./data/outbox", () => {
    expect(defaultOutboxDir("sqlite:/srv/hush/hush.db")).toBe("/srv/hush/outbox");
    expect(defaultOutboxDir("postgres://db/hush")).toBe("data/outbox");
    expect(defaultOutboxDir("sqlite::memory:")).toBe("data/outbox");
  });
});

describe("isTemporaryMailError", () => {
  it("retries 4xx replies and connection failures, not 5xx replies", () => {
    expect(isTemporaryMailError({ responseCode: 451, code: "EENVELOPE" })).toBe(true);
    expect(isTemporaryMailError({ responseCode: 421, code: "ECONNECTION" })).toBe(true);
    expect(isTemporaryMailError({ responseCode: 550, code: "EENVELOPE" })).toBe(false);
    expect(isTemporaryMailError({ responseCode: 554, code: "EMESSAGE" })).toBe(false);
    expect(isTemporaryMailError({ responseCode: 535, code: "EAUTH" })).toBe(false);
    for (const code of ["ECONNREFUSED", "ETIMEDOUT", "ECONNECTION", "ESOCKET", "EDNS", "ECONNRESET"]) {
      expect(isTemporaryMailError(Object.assign(new Error(code), { code }))).toBe(true);
    }
    expect(isTemporaryMailError(Object.assign(new Error("x"), { code: "ESOCKET", originalCode: "ECONNREFUSED" }))).toBe(true);
    expect(isTemporaryMailError(Object.assign(new Error("bad"), { code: "EENVELOPE" }))).toBe(false);
  });
});
