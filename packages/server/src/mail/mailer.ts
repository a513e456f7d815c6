import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { OutboxMail, Storage } from "../storage/contract.js";
import { type MailContent, type MailKind, type MailTemplates, type MailVars, renderMail } from "./templates.js";
import { describeMailError, isTemporaryMailError, type MailTransport } from "./transport.js";

/** The storage the outbox needs. */
export type MailStorage = Pick<Storage, "queueMail" | "claimMail" | "storeComposedMail" | "retryMail" | "finishMail">;

/** A kind's variables; `appName` defaults to the Mailer's. */
export type MailVarsInput<K extends MailKind> = Omit<MailVars[K], "appName"> & { appName?: string };

/** What a composer makes of a job: one mail of any kind. */
export type ComposedMail = { [K in MailKind]: { kind: K; to: string; vars: MailVarsInput<K> } }[MailKind];

/** A job row as the composer sees it. */
export interface MailJob {
  id: string;
  kind: string;
  recipient: string;
  payload: unknown;
}

/** Turns a job into a mail at sending time; `undefined` when there is nothing to send (an unknown account). */
export type MailComposer = (job: MailJob) => Promise<ComposedMail | undefined>;

/** What `onFailed` hears of a mail that will never go. */
export interface FailedMail {
  kind: string;
  recipient: string;
  error: string;
}

export interface MailerOptions {
  /** The `From` of every mail. */
  from: string;
  /** The product name the mails speak of (the `appName` variable unless a call sets its own). */
  appName: string;
  /** Templates replacing the defaults, kind by kind. */
  templates?: Partial<MailTemplates>;
  transport: MailTransport;
  /** Outbox mode (development): log each mail's link at `info`. Never with real delivery. */
  logLinks: boolean;
  /** Look for due mails this often (crash recovery, other instances' mails, retries). Default 2,000 ms. */
  pollIntervalMs?: number;
  /** A claimed mail is this instance's for this long. Default 60,000 ms. */
  leaseMs?: number;
  /** Mails claimed at once. Default 10. */
  batchSize?: number;
  /** Attempts before a temporary failure counts as final. Default 8. */
  maxAttempts?: number;
  /** Wait after the given failed attempt (1, 2, …). Default 2 s, 4 s, 8 s … at most 10 minutes. */
  backoffMs?: (attempt: number) => number;
  now?: () => number;
}

/** How long after queueing a job the worker is woken (see `queueJob`). */
const JOB_WAKE_DELAY_MS = 250;

/** 2 s, 4 s, 8 s … capped at 10 minutes. */
export const defaultBackoffMs = (attempt: number): number => Math.min(2_000 * 2 ** Math.max(0, attempt - 1), 600_000);

/**
 * The mails of the server: `queue` and `queueJob` store a mail durably in the outbox and return
 * at once; the outbox worker sends it. A mail survives a crash (the next poll, here or on
 * another instance, finds it once its lease ends), temporary failures are retried with back-off,
 * and several instances share one outbox: each claim is a conditional UPDATE in the database.
 */
export class Mailer {
  private readonly templates: Partial<MailTemplates>;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly now: () => number;
  private composer: MailComposer | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Worker runs, one after another: never two at once. */
  private chain: Promise<void> = Promise.resolve();
  /** A run is queued on the chain and has not begun: further wake-ups join it. */
  private runQueued = false;
  private started = false;
  private stopped = false;
  private composerWarned = false;

  constructor(
    private readonly storage: MailStorage,
    private readonly options: MailerOptions,
    private readonly logger: Logger,
    private readonly onFailed?: (mail: FailedMail) => void,
  ) {
    this.templates = options.templates ?? {};
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.batchSize = options.batchSize ?? 10;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoffMs = options.backoffMs ?? defaultBackoffMs;
    this.now = options.now ?? Date.now;
  }

  /** The transport's kind: `smtp`, `outbox` or `custom`. */
  get transportKind(): MailTransport["kind"] {
    return this.options.transport.kind;
  }

  /**
   * Renders a mail now and stores it in the outbox; resolves once it is stored (never waits for
   * the SMTP server), then wakes the worker. Rejects only if the database does.
   */
  async queue<K extends MailKind>(kind: K, to: string, vars: MailVarsInput<K>): Promise<void> {
    const full = this.fullVars(kind, vars);
    const content = renderMail(this.templates, kind, full);
    await this.storage.queueMail({
      id: randomUUID(),
      kind,
      recipient: to,
      payload: null,
      subject: content.subject,
      textBody: content.text,
      htmlBody: content.html,
      createdAt: this.now(),
    });
    this.logLink(kind, to, full, "mail queued");
    this.wake();
  }

  /**
   * Stores a job: the composer makes its mail at sending time (or decides there is none). The
   * enumeration-safe flows queue one for every address, known or not, so that a request does
   * the same work either way.
   */
  async queueJob(kind: string, recipient: string, payload: object): Promise<void> {
    await this.storage.queueMail({
      id: randomUUID(),
      kind,
      recipient,
      payload: JSON.stringify(payload),
      subject: null,
      textBody: null,
      htmlBody: null,
      createdAt: this.now(),
    });
    // The composer's work depends on whether the account exists. Run on the wake-up at once, it
    // would share the event loop with the answer to the very request that queued the job and
    // make it slower for known addresses; a moment later it falls on no answer in particular.
    setTimeout(() => this.wake(), JOB_WAKE_DELAY_MS).unref();
  }

  /** Sets what turns job rows into mails. */
  setComposer(composer: MailComposer): void {
    this.composer = composer;
  }

  /** Starts polling for due mails, and runs at once. */
  start(): void {
    if (this.stopped || this.timer) return;
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Stops polling, waits for the mails being sent, and closes the transport. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
    this.options.transport.close();
  }

  /** Runs the worker until no mail is due now (tests and the CLI). Rejects if the database does. */
  drain(): Promise<void> {
    const run = this.chain.then(() => this.runUntilIdle());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Asks for a worker run soon (once started); joins a run that is queued and has not begun. */
  private wake(): void {
    if (!this.started || this.stopped || this.runQueued) return;
    this.runQueued = true;
    this.chain = this.chain.then(async () => {
      this.runQueued = false;
      try {
        await this.runUntilIdle();
      } catch (error) {
        // The database is down or slow: the next poll tries again.
        this.logger.warn({ err: describeMailError(error) }, "mail outbox unavailable; will retry");
      }
    });
  }

  /** Claims and sends batches until none is due. */
  private async runUntilIdle(): Promise<void> {
    for (;;) {
      const claimed = await this.storage.claimMail(this.now(), this.leaseMs, this.batchSize);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((mail) => this.deliver(mail)));
      if (this.stopped) return;
    }
  }

  private fullVars<K extends MailKind>(_kind: K, vars: MailVarsInput<K>): MailVars[K] {
    return { appName: this.options.appName, ...vars } as MailVars[K];
  }

  /** Outbox mode only: the link of a mail, at `info`, so a developer can follow it. */
  private logLink(kind: string, to: string, vars: object, message: string): void {
    if (!this.options.logLinks) return;
    const link = (vars as { link?: unknown }).link;
    if (typeof link === "string") this.logger.info({ kind, to, link }, message);
  }

  /** One claimed mail: compose it if it is a job, send it, and record what happened. Never throws. */
  private async deliver(mail: OutboxMail): Promise<void> {
    let kind = mail.kind;
    let content: MailContent & { to: string };
    try {
      if (mail.subject !== null && mail.textBody !== null && mail.htmlBody !== null) {
        content = { to: mail.recipient, subject: mail.subject, text: mail.textBody, html: mail.htmlBody };
      } else {
        const composed = await this.compose(mail);
        if (composed === "nothing") {
          await this.storage.finishMail(mail.id, { sentAt: this.now() });
          this.logger.debug({ mailId: mail.id, kind }, "mail job needs no mail");
          return;
        }
        kind = composed.kind;
        content = composed.content;
      }
    } catch (error) {
      await this.failed(mail, kind, error, isTemporaryCompose(error));
      return;
    }
    let response: string;
    try {
      ({ response } = await this.options.transport.send({ from: this.options.from, ...content }));
    } catch (error) {
      await this.failed(mail, kind, error, isTemporaryMailError(error), content.to);
      return;
    }
    this.logger.info({ mailId: mail.id, kind, to: content.to, attempt: mail.attempts, response }, "mail sent");
    try {
      await this.storage.finishMail(mail.id, { sentAt: this.now() });
    } catch (error) {
      // Sent, but not recorded: it goes again once its lease ends (at least once, never lost).
      this.logger.warn({ mailId: mail.id, kind, err: describeMailError(error) }, "mail sent but not recorded; it may be sent again");
    }
  }

  /** Renders a job's mail and stores it, so that its retries send the same message and link. */
  private async compose(mail: OutboxMail): Promise<"nothing" | { kind: string; content: MailContent & { to: string } }> {
    if (mail.payload === null) throw new PermanentError("an outbox row without a message or a job payload");
    if (!this.composer) {
      if (!this.composerWarned) this.logger.error({ kind: mail.kind }, "mail job queued but no composer is set");
      this.composerWarned = true;
      throw new Error("no composer for mail jobs");
    }
    let payload: unknown;
    try {
      payload = JSON.parse(mail.payload);
    } catch {
      throw new PermanentError("the job payload is not JSON");
    }
    const composed = await this.composer({ id: mail.id, kind: mail.kind, recipient: mail.recipient, payload });
    if (!composed) return "nothing";
    const vars = this.fullVars(composed.kind, composed.vars);
    const content = renderMail(this.templates, composed.kind, vars as never);
    await this.storage.storeComposedMail(mail.id, {
      recipient: composed.to,
      subject: content.subject,
      textBody: content.text,
      htmlBody: content.html,
    });
    this.logLink(composed.kind, composed.to, vars, "mail composed");
    return { kind: composed.kind, content: { ...content, to: composed.to } };
  }

  /** A failed attempt: retried with back-off while temporary and attempts remain, else final. */
  private async failed(mail: OutboxMail, kind: string, error: unknown, temporary: boolean, to = mail.recipient): Promise<void> {
    const description = describeMailError(error);
    const now = this.now();
    try {
      if (temporary && mail.attempts < this.maxAttempts) {
        const delay = Math.max(0, this.backoffMs(mail.attempts));
        await this.storage.retryMail(mail.id, now + delay, description);
        this.logger.warn(
          { mailId: mail.id, kind, to, attempt: mail.attempts, retryInMs: delay, err: description },
          "mail not sent; will retry",
        );
        return;
      }
      await this.storage.finishMail(mail.id, { failedAt: now, error: description });
    } catch (storageError) {
      // The mail stays claimed until its lease ends, then it is tried again.
      this.logger.warn({ mailId: mail.id, kind, err: describeMailError(storageError) }, "mail outbox unavailable; will retry");
      return;
    }
    this.logger.warn({ mailId: mail.id, kind, to, attempts: mail.attempts, err: description }, "mail failed for good");
    try {
      this.onFailed?.({ kind, recipient: to, error: description });
    } catch (callbackError) {
      this.logger.error({ err: describeMailError(callbackError) }, "mail onFailed callback threw");
    }
  }
}

/** A failure that no retry mends. */
class PermanentError extends Error {}

const isTemporaryCompose = (error: unknown) => !(error instanceof PermanentError);
