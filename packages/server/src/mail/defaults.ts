import { isIP } from "node:net";
import { join } from "node:path";
import { dataFolderOf, parseDatabaseUrl } from "../storage/open-storage.js";

/**
 * The default `From`: `Hush <no-reply@HOST>`, HOST being the issuer's host name, or `localhost`
 * when the issuer is an IP address (an address literal makes a poor mail domain).
 */
export function defaultMailFrom(issuer: string): string {
  let host = "localhost";
  try {
    const hostname = new URL(issuer).hostname.replace(/^\[|\]$/g, "");
    if (hostname && isIP(hostname) === 0) host = hostname;
  } catch {
    // Not a URL: keep localhost.
  }
  return `Hush <no-reply@${host}>`;
}

/** The default outbox folder (no SMTP): `outbox` beside the SQLite file, else `./data/outbox`. */
export function defaultOutboxDir(databaseUrl: string | undefined): string {
  const location = databaseUrl ? parseDatabaseUrl(databaseUrl) : undefined;
  const folder = location && dataFolderOf(location);
  return folder ? join(folder, "outbox") : join("data", "outbox");
}
