import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";

/** One mail of the development outbox, as the demo's /dev/mailbox page shows it. */
export interface DevMail {
  /** The `.eml` file's name without the extension. */
  id: string;
  to: string;
  subject: string;
  /** ISO 8601. */
  date: string;
  text: string;
  /** Every http(s) link of the mail, text and HTML parts, in order, once each. */
  links: string[];
}

/** The newest mails shown; older ones stay in the folder. */
const SHOWN = 50;
const LINK = /https?:\/\/[^\s<>"'`)\]]+/g;

/** The links of a mail's text and HTML (`href`s included), without trailing punctuation, once each. */
export function linksOf(text: string, html: string): string[] {
  const found = [...text.matchAll(LINK), ...html.matchAll(LINK)].map((m) => m[0].replace(/[.,;:!?]+$/, "").replace(/&amp;/g, "&"));
  return [...new Set(found)];
}

/**
 * The mails the auth server wrote into its development outbox (`HUSH_MAIL_OUTBOX`, one `.eml`
 * file each), newest first. The server names each file `<ms since epoch>-<counter>-<random>.eml`,
 * so names sort by age. A missing folder (no mail yet) is an empty mailbox; a file that cannot be
 * read or parsed is skipped.
 */
export async function readOutbox(dir: string): Promise<DevMail[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const newest = names
    .filter((name) => name.endsWith(".eml"))
    .sort()
    .reverse()
    .slice(0, SHOWN);
  const mails = await Promise.all(
    newest.map(async (name): Promise<DevMail | undefined> => {
      try {
        const mail = await simpleParser(await readFile(join(dir, name)));
        const to = [mail.to ?? []].flat().map((address) => address.text);
        const text = mail.text ?? "";
        return {
          id: name.slice(0, -".eml".length),
          to: to.join(", "),
          subject: mail.subject ?? "(no subject)",
          date: (mail.date ?? new Date(Number(name.split("-")[0]) || 0)).toISOString(),
          text,
          links: linksOf(text, typeof mail.html === "string" ? mail.html : ""),
        };
      } catch {
        return undefined;
      }
    }),
  );
  return mails.filter((mail) => mail !== undefined);
}
