import { CSRF_HEADER } from "./auth-api.js";
import type { AuthClient } from "./auth-client.js";
import { authErrorOf } from "./auth-error.js";

/** One request of an optional entry point (`/email`, `/mfa`, `/providers`). */
export type EntryRequest = (method: string, path: string, body?: object, bearer?: boolean) => Promise<Response>;

/**
 * How the optional entry points call the auth server: as the client's own calls are sent (the
 * CSRF header, the cookie, a JSON body), through `client.fetch` (with the bearer, refreshed and
 * retried on `invalid_token`) when `bearer`. An error status rejects with its `AuthError`.
 */
export function entryRequest(client: AuthClient, base: string): EntryRequest {
  return async (method, path, body, bearer) => {
    const headers: Record<string, string> = { [CSRF_HEADER]: "1" };
    if (body) headers["content-type"] = "application/json";
    const init: RequestInit = { method, credentials: "include", headers, body: body ? JSON.stringify(body) : undefined };
    const response = bearer ? await client.fetch(`${base}${path}`, init) : await fetch(`${base}${path}`, init);
    if (!response.ok) throw await authErrorOf(response);
    return response;
  };
}
