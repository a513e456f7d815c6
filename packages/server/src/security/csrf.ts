import { CSRF_HEADER } from "@hush/protocol";
import { HushError } from "../errors.js";
import type { HeaderReader } from "../http/header-reader.js";

/**
 * The CSRF check of every cookie endpoint (docs/api.md, CSRF), in this order:
 * 1. the `X-Hush-Csrf: 1` header — a cross-site form or `no-cors` fetch cannot send it, and a
 *    cross-origin `fetch` that does must pass a CORS preflight first;
 * 2. `Origin`, compared exactly with the allowed origins; `Origin: null` (sandboxed frames,
 *    redirects, `file:`) is never trusted;
 * 3. without `Origin`, `Sec-Fetch-Site: cross-site` is refused. A request with neither header
 *    comes from a non-browser client (curl, a mobile app) and is let through on the header alone.
 */
export function checkCsrf(headers: HeaderReader, allowedOrigins: ReadonlySet<string>): HushError | undefined {
  if (headers.get(CSRF_HEADER) !== "1") {
    return new HushError("csrf_failed", `The ${CSRF_HEADER} header is required on this endpoint.`);
  }
  const origin = headers.get("origin");
  if (origin !== null) {
    if (origin === "null" || !allowedOrigins.has(origin)) {
      return new HushError("csrf_failed", "Requests from this origin are not allowed.");
    }
    return undefined;
  }
  if (headers.get("sec-fetch-site") === "cross-site") {
    return new HushError("csrf_failed", "Cross-site requests are not allowed.");
  }
  return undefined;
}
