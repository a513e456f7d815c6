import { useEffect, useState } from "react";

/** One mail as the demo server's /dev/mailbox.json lists it (apps/demo/server/dev-mailbox.ts). */
interface DevMail {
  id: string;
  to: string;
  subject: string;
  date: string;
  text: string;
  links: string[];
}

/** How often the page looks for new mail, in ms. */
const POLL_MS = 2_000;

/**
 * The development mailbox: the mails the auth server wrote into its outbox folder (no SMTP
 * server in the demo), newest first, with their links ready to click.
 */
export function Mailbox() {
  const [mails, setMails] = useState<DevMail[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    async function load() {
      try {
        const response = await fetch("/dev/mailbox.json", { cache: "no-store" });
        if (!response.ok) throw new Error(`The demo server answered ${response.status}`);
        const body = (await response.json()) as { mails: DevMail[] };
        if (live) {
          setMails(body.mails);
          setError(null);
        }
      } catch (e) {
        if (live) setError(e instanceof Error ? e.message : String(e));
      }
    }
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <section className="card mailbox" data-testid="mailbox">
      <h2>Dev mailbox</h2>
      <p className="hint">
        The demo has no mail server: the auth server writes each mail into its outbox folder (<code>HUSH_MAIL_OUTBOX</code>) and this page
        shows them, newest first. Click a link as if you had opened the mail.
      </p>
      {error && (
        <p className="error" role="alert">
          {error} (the mailbox exists only in development, without SMTP)
        </p>
      )}
      {mails?.length === 0 && <p data-testid="mailbox-empty">No mail yet.</p>}
      <ol className="mails">
        {mails?.map((mail) => (
          <li key={mail.id} data-testid="mail">
            <div className="mail-head">
              <strong data-testid="mail-subject">{mail.subject}</strong>
              <small>
                to <span data-testid="mail-to">{mail.to}</span> · {new Date(mail.date).toLocaleString()}
              </small>
            </div>
            {mail.links.map((link) => (
              <a key={link} href={link} className="mail-link" data-testid="mail-link">
                {link}
              </a>
            ))}
            <details>
              <summary>Text</summary>
              <pre>{mail.text}</pre>
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
