/** What the demo server writes into /config.js. */
export interface DemoConfig {
  authBase: string;
  apiBase: string;
  /** The auth server has password-less sign-in links on (`HUSH_SIGNIN_LINKS=on`). */
  signInLinks: boolean;
  /** The server shows its development outbox at /dev/mailbox.json (no SMTP, not production). */
  devMailbox: boolean;
}

export const config = (window as unknown as { HUSH_DEMO: DemoConfig }).HUSH_DEMO;
