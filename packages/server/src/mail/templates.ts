/** A rendered mail: its subject and its two parts. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

/** The variables of each kind of mail. */
export interface MailVars {
  /** Proves an address: sent at sign-up (or on request). */
  verify_email: { appName: string; link: string; lifetimeSeconds: number };
  /** Sets a new password. */
  reset_password: { appName: string; link: string; lifetimeSeconds: number };
  /** Confirms a new address; sent to the NEW address. */
  change_email: { appName: string; link: string; lifetimeSeconds: number; newEmail: string };
  /** Tells the OLD address that the account's address changed; no link. */
  email_change_notice: { appName: string; newEmail: string };
  /** Signs in without a password. */
  signin_link: { appName: string; link: string; lifetimeSeconds: number };
  /** A security-relevant change, e.g. "Your password was changed."; no link. */
  security_notice: { appName: string; change: string };
  /** The account and its data are gone. */
  account_deleted: { appName: string };
  /** `hush mail test`. */
  test: { appName: string };
}

export type MailKind = keyof MailVars;

export const MAIL_KINDS: readonly MailKind[] = [
  "verify_email",
  "reset_password",
  "change_email",
  "email_change_notice",
  "signin_link",
  "security_notice",
  "account_deleted",
  "test",
];

/** One template per kind of mail: the variables in, the subject and both parts out. */
export type MailTemplates = { [K in MailKind]: (vars: MailVars[K]) => MailContent };

/** True for a kind of mail that the templates know. */
export function isMailKind(kind: string): kind is MailKind {
  return (MAIL_KINDS as readonly string[]).includes(kind);
}

/** Escapes text for HTML content and (double-quoted) attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** A link's lifetime in words: 1800 → "30 minutes", 86400 → "24 hours", 3600 → "1 hour". */
export function lifetimeInWords(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 2 * 86_400 && s % 86_400 === 0) return plural(s / 86_400, "day");
  if (s >= 3_600 && s % 3_600 === 0) return plural(s / 3_600, "hour");
  if (s >= 60) return plural(Math.round(s / 60), "minute");
  return plural(s, "second");
}

/** Paragraphs of plain text into a small HTML document; every paragraph is escaped here. */
function page(title: string, paragraphs: Array<string | { link: string; label: string }>): string {
  const body = paragraphs
    .map((p) =>
      typeof p === "string"
        ? `<p>${escapeHtml(p)}</p>`
        : `<p><a href="${escapeHtml(p.link)}">${escapeHtml(p.label)}</a></p>\n<p style="font-size:13px;color:#555">If the button does not work, copy this address into your browser:<br>${escapeHtml(p.link)}</p>`,
    )
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family:sans-serif;font-size:15px;line-height:1.5;color:#222;max-width:560px">
${body}
</body></html>
`;
}

/** A mail with a link: the text part puts the link on its own line. */
function linkMail(subject: string, intro: string, label: string, link: string, after: string[]): MailContent {
  return {
    subject,
    text: `${intro}\n\n${link}\n\n${after.join("\n\n")}\n`,
    html: page(subject, [intro, { link, label }, ...after]),
  };
}

function noticeMail(subject: string, paragraphs: string[]): MailContent {
  return { subject, text: `${paragraphs.join("\n\n")}\n`, html: page(subject, paragraphs) };
}

const expiry = (lifetimeSeconds: number) => `The link works once and expires in ${lifetimeInWords(lifetimeSeconds)}.`;

export const DEFAULT_TEMPLATES: MailTemplates = {
  verify_email: ({ appName, link, lifetimeSeconds }) =>
    linkMail(
      `Confirm your email address for ${appName}`,
      `Please confirm your email address for ${appName} by opening this link:`,
      "Confirm email address",
      link,
      [expiry(lifetimeSeconds), `If you did not sign up for ${appName}, you can ignore this mail.`],
    ),
  reset_password: ({ appName, link, lifetimeSeconds }) =>
    linkMail(
      `Reset your ${appName} password`,
      `Someone asked to reset the password of your ${appName} account. To choose a new password, open this link:`,
      "Choose a new password",
      link,
      [expiry(lifetimeSeconds), "If it was not you, ignore this mail: your password stays as it is."],
    ),
  change_email: ({ appName, link, lifetimeSeconds, newEmail }) =>
    linkMail(
      `Confirm your new email address for ${appName}`,
      `To make ${newEmail} the email address of your ${appName} account, open this link:`,
      "Confirm new email address",
      link,
      [expiry(lifetimeSeconds), `If you did not ask for this, ignore this mail: nothing changes.`],
    ),
  email_change_notice: ({ appName, newEmail }) =>
    noticeMail(`The email address of your ${appName} account changed`, [
      `The email address of your ${appName} account was changed to ${newEmail}. Mail about the account now goes there.`,
      `If you did not make this change, contact ${appName} support at once.`,
    ]),
  signin_link: ({ appName, link, lifetimeSeconds }) =>
    linkMail(`Your ${appName} sign-in link`, `To sign in to ${appName}, open this link:`, "Sign in", link, [
      expiry(lifetimeSeconds),
      "If you did not ask to sign in, ignore this mail: nobody can sign in without the link.",
    ]),
  security_notice: ({ appName, change }) =>
    noticeMail(`Security notice for your ${appName} account`, [
      change,
      `If you did not make this change, contact ${appName} support at once.`,
    ]),
  account_deleted: ({ appName }) =>
    noticeMail(`Your ${appName} account was deleted`, [
      `Your ${appName} account and its data were deleted.`,
      `If you did not ask for this, contact ${appName} support.`,
    ]),
  test: ({ appName }) => noticeMail(`${appName} test mail`, [`This is a test mail from ${appName}. Mail delivery works.`]),
};

/** Renders one mail with the given templates (a kind they lack falls back to the default). */
export function renderMail<K extends MailKind>(templates: Partial<MailTemplates>, kind: K, vars: MailVars[K]): MailContent {
  const template = (templates[kind] ?? DEFAULT_TEMPLATES[kind]) as ((v: MailVars[K]) => MailContent) | undefined;
  if (!template) throw new Error(`unknown kind of mail "${kind}"`);
  return template(vars);
}
