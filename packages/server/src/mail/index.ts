import type { Logger } from "pino";
import { type FailedMail, Mailer, type MailerOptions, type MailStorage } from "./mailer.js";
import { createMailTransport, type MailTransport, type MailTransportOptions, type SmtpTimeouts } from "./transport.js";

export { defaultMailFrom, defaultOutboxDir } from "./defaults.js";
export {
  type ComposedMail,
  defaultBackoffMs,
  type FailedMail,
  type MailComposer,
  Mailer,
  type MailerOptions,
  type MailJob,
  type MailStorage,
  type MailVarsInput,
} from "./mailer.js";
export {
  DEFAULT_TEMPLATES,
  escapeHtml,
  isMailKind,
  lifetimeInWords,
  MAIL_KINDS,
  type MailContent,
  type MailKind,
  type MailTemplates,
  type MailVars,
  renderMail,
} from "./templates.js";
export {
  createMailTransport,
  describeMailError,
  isTemporaryMailError,
  type MailSendResult,
  type MailTransport,
  type MailTransportOptions,
  mailErrorCode,
  type OutgoingMail,
  type SmtpTimeouts,
} from "./transport.js";

/** `createMailer` options: the Mailer's, with the transport described rather than built. */
export interface CreateMailerOptions extends Omit<MailerOptions, "transport" | "logLinks"> {
  /** The application's nodemailer transporter, transport plugin or options: used before anything else. */
  transport?: Extract<MailTransportOptions, { transport: unknown }>["transport"] | MailTransport;
  /** `smtp://…` or `smtps://…`. */
  smtpUrl?: string;
  /** SMTP connection limits (tests shorten them). */
  smtp?: SmtpTimeouts;
  /** Without a transport or SMTP URL: write each mail into this folder. */
  outboxDir?: string;
  /** Log links at `info`; default: in outbox mode only. */
  logLinks?: boolean;
}

const isMailTransport = (value: unknown): value is MailTransport =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as MailTransport).send === "function" &&
  ["smtp", "outbox", "custom"].includes((value as MailTransport).kind);

/** The transport the options describe: a custom one, else SMTP, else the outbox folder. */
export function mailTransportFor(options: Pick<CreateMailerOptions, "transport" | "smtpUrl" | "smtp" | "outboxDir">): MailTransport {
  if (options.transport) {
    return isMailTransport(options.transport) ? options.transport : createMailTransport({ transport: options.transport });
  }
  if (options.smtpUrl) return createMailTransport({ smtpUrl: options.smtpUrl, ...options.smtp });
  if (options.outboxDir) return createMailTransport({ outboxDir: options.outboxDir });
  throw new Error("mail needs a transport, an SMTP URL or an outbox folder");
}

/** A Mailer with the transport its options describe (not yet started: call `start()`). */
export function createMailer(
  storage: MailStorage,
  options: CreateMailerOptions,
  logger: Logger,
  onFailed?: (mail: FailedMail) => void,
): Mailer {
  const { transport: _t, smtpUrl: _s, smtp: _l, outboxDir: _o, logLinks, ...rest } = options;
  const transport = mailTransportFor(options);
  return new Mailer(storage, { ...rest, transport, logLinks: logLinks ?? transport.kind === "outbox" }, logger, onFailed);
}
