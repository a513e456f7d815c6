import type { ErrorBody } from "@hush/protocol";
import { HushError, isHushError } from "./hush-error.js";

const UNAVAILABLE_CODES = new Set([
  // SQLite: the file is locked past busy_timeout, cannot be opened, or the disk failed.
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  // Network-level failures of a database client.
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
  "57P01",
  "57P03",
  "08000",
  "08003",
  "08006",
]);

/** True for an error that means the database cannot be reached, as opposed to a bug. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("SQLITE_IOERR"))) return true;
  const message = (error as { message?: unknown }).message;
  return (
    typeof message === "string" &&
    /connection (terminated|timeout)|timeout exceeded when trying to connect|Connection terminated|driver has already been destroyed|pool after calling end|the database system is (shutting down|starting up)|terminating connection/i.test(
      message,
    )
  );
}

/** The JSON error response of the contract, with the status from `ERROR_STATUS`. */
export function errorResponse(error: HushError, extraHeaders?: Record<string, string>): Response {
  const body: ErrorBody = { error: error.code, message: error.message };
  const headers = new Headers({
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    ...error.headers,
    ...extraHeaders,
  });
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

/** Turns anything thrown into a contract error: a `HushError` as is, an unreachable database as 503, the rest as 500. */
export function toHushError(error: unknown): { error: HushError; unexpected: boolean } {
  if (isHushError(error)) return { error, unexpected: false };
  if (isDatabaseUnavailable(error)) {
    return { error: new HushError("unavailable", "The service is temporarily unavailable. Try again shortly."), unexpected: false };
  }
  return { error: new HushError("internal_error", "Something went wrong."), unexpected: true };
}
