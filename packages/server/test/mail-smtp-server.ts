import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { freePort } from "../../../test-support/free-port.js";

/** One mail a test SMTP server accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: Buffer;
  parsed: ParsedMail;
  /** Whether the connection it came over was encrypted. */
  secure: boolean;
}

export interface TestSmtpServerOptions {
  /** Listen on this port (default: a free one). */
  port?: number;
  /** Answer RCPT TO with `rcptCode` this many times first (default 0). */
  rcptFailures?: number;
  /** The code of those answers: 451 (temporary) or 550 (permanent). Default 451. */
  rcptCode?: number;
  /** Every RCPT TO answered with `rcptCode`. */
  rejectAll?: boolean;
  /** Hold each message this long before answering 250. */
  dataDelayMs?: number;
  /**
   * TLS with this key and certificate (PEM): from the first byte (`implicit`, what `smtps://`
   * expects) or after STARTTLS (`starttls`). Default: no TLS, and STARTTLS not offered.
   */
  tls?: { key: string; cert: string; mode: "implicit" | "starttls" };
}

/** A loopback SMTP server (no authentication needed, TLS when asked) that keeps what it receives. */
export interface TestSmtpServer {
  port: number;
  url: string;
  received: ReceivedMail[];
  /** When each RCPT TO arrived (ms since epoch). */
  rcptTimes: number[];
  /** Messages whose DATA began. */
  dataStarted: number;
  /** Resolves once `count` mails have arrived; rejects after `timeoutMs`. */
  waitForMails(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export { freePort };

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

export async function startSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const rcptTimes: number[] = [];
  let failuresLeft = options.rcptFailures ?? 0;
  const rcptCode = options.rcptCode ?? 451;
  const waiters = new Set<() => void>();
  const state = { dataStarted: 0 };
  const server = new SMTPServer({
    authOptional: true,
    ...(options.tls
      ? { key: options.tls.key, cert: options.tls.cert, secure: options.tls.mode === "implicit" }
      : { disabledCommands: ["STARTTLS"] }),
    logger: false,
    closeTimeout: 100,
    onRcptTo(_address, _session, callback) {
      rcptTimes.push(Date.now());
      if (options.rejectAll || failuresLeft > 0) {
        failuresLeft--;
        const text = rcptCode >= 500 ? "5.1.1 Mailbox unavailable" : "4.7.1 Try again later";
        callback(smtpError(rcptCode, text));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      state.dataStarted++;
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        const finish = async () => {
          const parsed = await simpleParser(raw);
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw, parsed, secure: session.secure });
          for (const wake of waiters) wake();
          callback();
        };
        const run = () => finish().catch((error: Error) => callback(error));
        if (options.dataDelayMs) setTimeout(run, options.dataDelayMs);
        else run();
      });
    },
  });
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actualPort = (server.server.address() as { port: number }).port;
  return {
    port: actualPort,
    url: `${options.tls?.mode === "implicit" ? "smtps" : "smtp"}://127.0.0.1:${actualPort}`,
    received,
    rcptTimes,
    get dataStarted() {
      return state.dataStarted;
    },
    waitForMails(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(received.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} mails within ${timeoutMs} ms, got ${received.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
