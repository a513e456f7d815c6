import type { AuthEvent } from "./events.js";
import { fieldOf } from "./json-guards.js";

/**
 * The response header of a server-assisted refresh (docs/api.md, server.protect), as named by `@hush/protocol` and
 * inlined so that the client has no runtime dependency (a test keeps it equal to the protocol's).
 */
export const ACCESS_TOKEN_HEADER = "x-access-token";

/** What `createAuthFetch` needs of the client. */
export interface AuthFetchDeps {
  /** Origins that get the bearer: the page's, the auth server's, `apiOrigins`, `assistedRefreshOrigins`. */
  trustedOrigins: ReadonlySet<string>;
  /** Origins whose `X-Access-Token` counts: the auth server's and `assistedRefreshOrigins`. */
  assistedOrigins: ReadonlySet<string>;
  /** A valid access token (refreshed first when near expiry), or null. */
  getAccessToken(): Promise<string | null>;
  /** The token held right now, without waiting or refreshing. */
  heldToken(): string | undefined;
  /** Refreshes, sharing any refresh under way. */
  refresh(): Promise<string | null>;
  /** Offers the client a token from an `X-Access-Token` header; the client decides whether to take it. */
  adoptAssisted(token: string): void;
  /** Tells subscribers (a `step-up-required` event). */
  emit(event: AuthEvent): void;
}

/** The auth-param `name` of a `401`'s `WWW-Authenticate`, quoted or not (RFC 9110 §11.2); none for other statuses. */
const paramOf = (response: Response, name: string) =>
  response.status === 401 ? response.headers.get("www-authenticate")?.match(`${name}="?([^",]*)`)?.[1] : undefined;

/**
 * Creates `client.fetch`: `fetch` with the bearer token for trusted origins only, adopting a
 * server-assisted refresh's token, and on a `401` with `error="invalid_token"` refreshing once and
 * retrying once. An application's own 401 or 403 is handed back untouched, so there is no refresh loop.
 * A `401` with `error="insufficient_user_authentication"` (RFC 9470 step-up) is handed back too,
 * never refreshed or retried, after a `step-up-required` event.
 */
export function createAuthFetch(deps: AuthFetchDeps): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const request = new Request(input, init);
    // The bearer goes only to the page's origin, the auth server and the configured APIs.
    if (!deps.trustedOrigins.has(new URL(request.url).origin)) return fetch(request);
    const send = async (token: string | null) => {
      const headers = new Headers(request.headers);
      if (token) headers.set("authorization", `Bearer ${token}`);
      const response = await fetch(new Request(request.clone(), { headers }));
      // Judge the header by who answered: the final URL after any redirect, not the one asked.
      const assisted = deps.assistedOrigins.has(response.url && new URL(response.url).origin)
        ? response.headers.get(ACCESS_TOKEN_HEADER)
        : null;
      if (assisted) deps.adoptAssisted(assisted);
      // RFC 9470: the sign-in behind the token is not strong or recent enough. Only signing in again helps, never a refresh.
      if (paramOf(response, "error") === "insufficient_user_authentication") {
        // What the server asks for: `acr_values` and `max_age` from the RFC 9470 challenge, and
        // `amr` from the JSON body, where `@hush/verify` guards put it. The body stays unread.
        const amr = fieldOf(
          await response
            .clone()
            .json()
            .catch(() => 0),
          "amr",
        );
        const maxAge = paramOf(response, "max_age");
        deps.emit({
          type: "step-up-required",
          url: request.url,
          amr: Array.isArray(amr) && amr.every((method) => typeof method === "string") ? amr : undefined,
          acrValues: paramOf(response, "acr_values")?.split(" "),
          maxAgeSeconds: maxAge ? +maxAge : undefined,
        });
      }
      return response;
    };
    const used = await deps.getAccessToken();
    const response = await send(used);
    // The server's own verdict on the token (`error="invalid_token"`): the only 401 that triggers a refresh.
    if (paramOf(response, "error") !== "invalid_token") return response;
    // Replaced since it was sent (another caller refreshed): retry with that one, no second refresh.
    const current = deps.heldToken();
    const next = current && current !== used ? current : await deps.refresh();
    return next ? send(next) : response;
  };
}
