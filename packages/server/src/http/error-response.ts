import type { ErrorBody } from "@hush/protocol";
import type { Logger } from "pino";
import { HushError, isHushError } from "../errors.js";
import { StorageUnavailableError } from "../storage/unavailable.js";

/** A response as plain parts, for the node route that writes them without a `Response` (see `node/direct-routes.ts`). */
export interface PlainResponse {
  status: number;
  /** Name/value pairs; a name may repeat (`Set-Cookie`). */
  headers: [string, string][];
  body: string;
}

/** The JSON error of the contract as plain parts, with the status from `ERROR_STATUS`. */
export function errorParts(error: HushError, extraHeaders?: Record<string, string>, cookies: readonly string[] = []): PlainResponse {
  const body: ErrorBody = { ...error.details, error: error.code, message: error.message };
  return {
    status: error.status,
    headers: [
      ...Object.entries({
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        ...error.headers,
        ...extraHeaders,
      }),
      ...cookies.map((cookie): [string, string] => ["set-cookie", cookie]),
    ],
    body: JSON.stringify(body),
  };
}

/** The JSON error response of the contract, with the status from `ERROR_STATUS`. */
export function errorResponse(error: HushError, extraHeaders?: Record<string, string>, cookies: readonly string[] = []): Response {
  const { status, headers, body } = errorParts(error, extraHeaders, cookies);
  return new Response(body, { status, headers });
}

/**
 * Maps anything a request threw to its contract error and logs what needs an operator: an
 * unexpected error at `error`, an unreachable database at `warn`. The router's error handler
 * and the node direct routes both use it.
 */
export function reportedError(thrown: unknown, logger: Logger): HushError {
  const { error, unexpected } = toHushError(thrown);
  if (unexpected) logger.error({ err: thrown }, "unhandled error");
  else if (error.code === "unavailable") logger.warn({ err: thrown }, "database unavailable");
  return error;
}

/** Turns anything thrown into a contract error: a `HushError` as is, an unreachable database as 503, the rest as 500. */
export function toHushError(error: unknown): { error: HushError; unexpected: boolean } {
  if (isHushError(error)) return { error, unexpected: false };
  if (error instanceof StorageUnavailableError) {
    return { error: new HushError("unavailable", "The service is temporarily unavailable. Try again shortly."), unexpected: false };
  }
  return { error: new HushError("internal_error", "Something went wrong."), unexpected: true };
}
