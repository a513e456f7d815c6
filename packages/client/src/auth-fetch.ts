/**
 * The response header of a server-assisted refresh (docs/api.md, server.protect), as named by `@hush/protocol` and
 * inlined so that the client has no runtime dependency (a test keeps it equal to the protocol's).
 */
export const ACCESS_TOKEN_HEADER = "x-access-token";

/** The server's own verdict on a token (`WWW-Authenticate: Bearer error="invalid_token"`): the only 401 that triggers a refresh. */
const INVALID_TOKEN = /error="?invalid_token/;

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
}

/** The origin of a response's URL; "" for none (a response that no network produced). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

/**
 * Creates `client.fetch`: `fetch` with the bearer token for trusted origins only, adopting a
 * server-assisted refresh's token, and on a `401` with `error="invalid_token"` refreshing once and
 * retrying once. An application's own 401 or 403 is handed back untouched, so there is no refresh loop.
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
      const assisted = deps.assistedOrigins.has(originOf(response.url)) ? response.headers.get(ACCESS_TOKEN_HEADER) : null;
      if (assisted) deps.adoptAssisted(assisted);
      return response;
    };
    const used = await deps.getAccessToken();
    const response = await send(used);
    if (response.status !== 401 || !INVALID_TOKEN.test(response.headers.get("www-authenticate") ?? "")) return response;
    // Replaced since it was sent (another caller refreshed): retry with that one, no second refresh.
    const current = deps.heldToken();
    const next = current && current !== used ? current : await deps.refresh();
    return next ? send(next) : response;
  };
}
