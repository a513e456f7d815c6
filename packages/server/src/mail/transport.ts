import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import nodemailer, { type Transport, type Transporter } from "nodemailer";

/** One message as the transport sends it. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** What a transport reports of a sent mail. */
export interface MailSendResult {
  /** The SMTP server's final response line (`250 …`), or in outbox mode where the file went. */
  response: string;
  /** Outbox mode: the `.eml` file written. */
  file?: string;
}

/** How mail leaves the server. */
export interface MailTransport {
  readonly kind: "smtp" | "outbox" | "custom";
  send(mail: OutgoingMail): Promise<MailSendResult>;
  /** Connects (and authenticates) without sending, where the transport can. */
  verify?(): Promise<void>;
  /** Closes pooled connections; a send in progress finishes first. */
  close(): void;
}

/** Connection limits of the SMTP transport. */
export interface SmtpTimeouts {
  /** Most simultaneous connections to the server. Default 3. */
  maxConnections?: number;
  /** Give up opening a connection after this long. Default 10,000 ms. */
  connectionTimeoutMs?: number;
  /** Give up waiting for the server's greeting after this long. Default 10,000 ms. */
  greetingTimeoutMs?: number;
  /** Give up on a connection that is silent this long. Default 20,000 ms. */
  socketTimeoutMs?: number;
}

export type MailTransportOptions =
  /** `smtp://user:pass@host:port` (STARTTLS when the server offers it) or `smtps://…` (TLS from the start). */
  | ({ smtpUrl: string } & SmtpTimeouts)
  /** Development without SMTP: each mail written into this folder as an `.eml` file. */
  | { outboxDir: string }
  /** The application's own nodemailer transporter, transport plugin or transport options. */
  // biome-ignore lint/suspicious/noExplicitAny: nodemailer's own transports are generic over their result
  | { transport: Transporter<any, any> | Transport<any, any> | Record<string, unknown> };

// biome-ignore lint/suspicious/noExplicitAny: as above
type AnyTransporter = Transporter<any, any>;

const isTransporter = (value: unknown): value is AnyTransporter =>
  typeof value === "object" && value !== null && typeof (value as { sendMail?: unknown }).sendMail === "function";

/**
 * A transport's own `error` events would crash the process without a listener; every failure
 * that matters reaches the caller as the rejection of its send.
 */
function quiet<T extends AnyTransporter>(transporter: T): T {
  transporter.on("error", () => undefined);
  return transporter;
}

/** What every message is: strings only, never a file or URL nodemailer would fetch. */
const message = (mail: OutgoingMail) => ({
  from: mail.from,
  to: mail.to,
  subject: mail.subject,
  text: mail.text,
  html: mail.html,
  disableFileAccess: true,
  disableUrlAccess: true,
});

/** Creates the transport the options describe. Nothing connects until the first send (or `verify`). */
export function createMailTransport(options: MailTransportOptions): MailTransport {
  if ("smtpUrl" in options) return smtpTransport(options);
  if ("outboxDir" in options) return outboxTransport(options.outboxDir);
  return customTransport(options.transport);
}

function smtpTransport(options: { smtpUrl: string } & SmtpTimeouts): MailTransport {
  let url: URL;
  try {
    url = new URL(options.smtpUrl);
  } catch {
    throw new Error("the SMTP URL is not a URL (expected smtp://user:pass@host:port or smtps://…)");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new Error(`the SMTP URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  }
  const transporter = quiet(
    nodemailer.createTransport({
      url: options.smtpUrl,
      pool: true,
      maxConnections: options.maxConnections ?? 3,
      connectionTimeout: options.connectionTimeoutMs ?? 10_000,
      greetingTimeout: options.greetingTimeoutMs ?? 10_000,
      socketTimeout: options.socketTimeoutMs ?? 20_000,
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
      debug: false,
    }),
  );
  return {
    kind: "smtp",
    async send(mail) {
      const info = await transporter.sendMail(message(mail));
      return { response: String(info.response ?? "") };
    },
    async verify() {
      await transporter.verify();
    },
    close: () => transporter.close(),
  };
}

let fileCounter = 0;

function outboxTransport(dir: string): MailTransport {
  const folder = resolve(dir);
  const transporter = quiet(
    nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      newline: "windows",
      disableFileAccess: true,
      disableUrlAccess: true,
    }),
  );
  return {
    kind: "outbox",
    async send(mail) {
      const info = await transporter.sendMail(message(mail));
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      // Names sort by the time written: milliseconds, then a counter within this process.
      fileCounter = (fileCounter + 1) % 10_000;
      const name = `${Date.now()}-${String(fileCounter).padStart(4, "0")}-${randomBytes(4).toString("hex")}.eml`;
      const file = join(folder, name);
      // Written under another name, then renamed: whoever lists the folder's .eml files (the
      // demo's dev mailbox, a test) never reads a mail half written.
      const partial = join(folder, `.${name}.partial`);
      await writeFile(partial, info.message as Buffer, { mode: 0o600, flag: "wx" });
      await rename(partial, file);
      return { response: `written to ${file}`, file };
    },
    async verify() {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
    },
    close: () => transporter.close(),
  };
}

function customTransport(transport: AnyTransporter | Transport<unknown> | Record<string, unknown>): MailTransport {
  // A transporter belongs to the application, which closes it; one created here is closed here.
  const owned = !isTransporter(transport);
  const transporter: AnyTransporter = quiet(
    isTransporter(transport)
      ? transport
      : // biome-ignore lint/suspicious/noExplicitAny: any nodemailer transport or options object
        nodemailer.createTransport(transport as any),
  );
  return {
    kind: "custom",
    async send(mail) {
      const info = await transporter.sendMail(message(mail));
      const response = (info as { response?: unknown } | undefined)?.response;
      return { response: response === undefined ? "accepted" : String(response) };
    },
    async verify() {
      // Not every transport can verify; those that cannot are taken on trust.
      if (typeof (transporter.transporter as { verify?: unknown }).verify === "function") await transporter.verify();
    },
    close: () => {
      if (owned) transporter.close();
    },
  };
}

/** Error codes of failures to reach or talk to the server, as nodemailer and Node set them. */
const CONNECTION_CODES = new Set([
  "ECONNECTION",
  "ESOCKET",
  "ETIMEDOUT",
  "EDNS",
  "ETLS",
  "EPROXY",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);

/** Failures that the same message will meet again: the message or the configuration is at fault. */
const PERMANENT_CODES = new Set(["EENVELOPE", "EMESSAGE", "ECONFIG", "EMAXRECIPIENTS", "EFILEACCESS", "EURLACCESS", "EOTP"]);

interface ErrorLike {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/**
 * True when a later attempt may succeed: an SMTP 4xx reply (and 503, "bad sequence", which a
 * fresh connection clears), or a failure to connect or to keep the connection (refused,
 * timed out, reset, DNS, TLS). False for a 5xx reply and for a message or configuration that
 * can never go. An error of unknown origin (a custom transport's) counts as temporary: the
 * attempts are limited anyway.
 */
export function isTemporaryMailError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return true;
  const e = error as ErrorLike;
  if (typeof e.responseCode === "number" && e.responseCode >= 400) {
    return (e.responseCode >= 400 && e.responseCode < 500) || e.responseCode === 503;
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  const original =
    typeof (error as { originalCode?: unknown }).originalCode === "string" ? (error as { originalCode: string }).originalCode : undefined;
  if ((code && CONNECTION_CODES.has(code)) || (original && CONNECTION_CODES.has(original))) return true;
  if (code && PERMANENT_CODES.has(code)) return false;
  if (code === "EAUTH" || code === "ENOAUTH") return false;
  return true;
}

/** The SMTP code of a failure, when the server answered. */
export function mailErrorCode(error: unknown): number | undefined {
  const code = (error as ErrorLike | undefined)?.responseCode;
  return typeof code === "number" ? code : undefined;
}

/**
 * One line describing a failure, for the log and the outbox row: the server's reply (`550 5.1.1
 * …`) when it answered, else the error code and message. Never a mail body.
 */
export function describeMailError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);
  const e = error as ErrorLike;
  const oneLine = (s: string) => s.replace(/\s+/g, " ").trim().slice(0, 500);
  if (typeof e.responseCode === "number" && typeof e.response === "string" && e.response) return oneLine(e.response);
  const code = typeof e.code === "string" ? e.code : undefined;
  const text = typeof e.message === "string" ? e.message : String(error);
  return oneLine(code && !text.startsWith(code) ? `${code}: ${text}` : text);
}
