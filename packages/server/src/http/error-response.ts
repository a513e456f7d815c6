import type { ErrorBody } from "@hush/protocol";
import { HushError, isHushError } from "../errors.js";
import { StorageUnavailableError } from "../storage/unavailable.js";

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
  if (error instanceof StorageUnavailableError) {
    return { error: new HushError("unavailable", "The service is temporarily unavailable. Try again shortly."), unexpected: false };
  }
  return { error: new HushError("internal_error", "Something went wrong."), unexpected: true };
}
