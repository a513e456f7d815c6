import { isAuthError } from "../src/auth-error.js";
import { AUTH, respond } from "./fake-browser.js";

/** The auth server's `/auth` base on the fake page. */
export const BASE = `${AUTH}/auth`;

/** A request as a fake endpoint saw it: what the client must send (CSRF header, credentials, bearer, JSON body). */
export interface SeenRequest {
  method: string;
  url: string;
  csrf: string | null;
  credentials: RequestCredentials;
  authorization: string | null;
  contentType: string | null;
  /** The JSON body, parsed; `undefined` without one. */
  body: unknown;
}

/**
 * A fake endpoint of the auth server for `installFakeBrowser`: routes `METHOD path` (under
 * `BASE`) to `answer`, recording each request in `seen`. Install it with
 * `installFakeBrowser({ [route.key]: route.handler })` or `browser.route(route.key, route.handler)`.
 */
export function endpoint(method: string, path: string, answer: (body: unknown) => Response | Promise<Response>) {
  const seen: SeenRequest[] = [];
  const handler = async (request: Request) => {
    const text = await request.text();
    const body: unknown = text ? JSON.parse(text) : undefined;
    seen.push({
      method: request.method,
      url: request.url,
      csrf: request.headers.get("x-hush-csrf"),
      credentials: request.credentials,
      authorization: request.headers.get("authorization"),
      contentType: request.headers.get("content-type"),
      body,
    });
    return answer(body);
  };
  return { key: `${method} ${BASE}${path}`, handler, seen };
}

/** An answer of `status` with the contract's error body (and any `extra` fields). */
export const refused =
  (path: string, status: number, error: string, extra: object = {}) =>
  () =>
    respond(`${BASE}${path}`, { error, message: `Refused: ${error}.`, ...extra }, { status });

/** What `promise` settled with: `code:status` of the AuthError it rejected with, or "resolved". */
export const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (isAuthError(error) ? `${error.code}:${error.status}` : `not an AuthError: ${String(error)}`),
  );
