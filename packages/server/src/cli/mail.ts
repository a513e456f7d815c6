import { defaultMailFrom, defaultOutboxDir } from "../mail/defaults.js";
import { renderMail } from "../mail/templates.js";
import { createMailTransport, describeMailError, type MailTransport, mailErrorCode } from "../mail/transport.js";
import type { Command } from "./command.js";

const text = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

export const mailCommand: Command = {
  summary: "send a test mail with the configured mail settings",
  help: `Usage: hush mail test ADDRESS

Sends one test mail to ADDRESS at once (not through the outbox) and prints what happened: the
SMTP server's response line, or in outbox mode the file written. On failure it prints the
server's code and message and exits with 1. The database is not opened.

Reads HUSH_SMTP_URL (smtp://user:pass@host:port, STARTTLS when offered, or smtps://…),
HUSH_MAIL_FROM (default Hush <no-reply@ISSUER-HOST>), and without SMTP HUSH_MAIL_OUTBOX (default
outbox beside the SQLite file of HUSH_DATABASE_URL, else ./data/outbox).`,
  async run(args, io) {
    const [action, address, ...rest] = args;
    if (action !== "test") {
      io.err(`hush mail: expected "test"${action ? `, got "${action}"` : ""}. See hush mail --help`);
      return 2;
    }
    if (!address || rest.length > 0 || !/^[^\s@]+@[^\s@]+$/.test(address)) {
      io.err("hush mail test: expected one ADDRESS (name@example.com). See hush mail --help");
      return 2;
    }
    const env = io.env;
    const host = text(env.HOST) ?? "127.0.0.1";
    const issuer = text(env.HUSH_ISSUER) ?? `http://${host.includes(":") ? `[${host}]` : host}:${text(env.PORT) ?? "4000"}`;
    const from = text(env.HUSH_MAIL_FROM) ?? defaultMailFrom(issuer);
    const smtpUrl = text(env.HUSH_SMTP_URL);
    if (!smtpUrl && env.NODE_ENV === "production") {
      io.err("hush mail test: HUSH_SMTP_URL is not set (required with NODE_ENV=production)");
      return 1;
    }
    const transport: MailTransport = smtpUrl
      ? createMailTransport({ smtpUrl, maxConnections: 1 })
      : createMailTransport({
          outboxDir: text(env.HUSH_MAIL_OUTBOX) ?? defaultOutboxDir(text(env.HUSH_DATABASE_URL) ?? "sqlite:./data/hush.db"),
        });
    const content = renderMail({}, "test", { appName: "Hush" });
    try {
      const result = await transport.send({ from, to: address, ...content });
      if (result.file) io.out(`written to ${result.file} (outbox mode: HUSH_SMTP_URL is not set)`);
      else io.out(`sent to ${address} from ${from}; the server answered: ${result.response}`);
      return 0;
    } catch (error) {
      const code = mailErrorCode(error);
      io.err(`hush mail test: not sent${code === undefined ? "" : ` (SMTP ${code})`}: ${describeMailError(error)}`);
      return 1;
    } finally {
      transport.close();
    }
  },
};
