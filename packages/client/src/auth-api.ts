import type { PublicUser } from "@hush/protocol";
import { authErrorOf } from "./auth-error.js";
import { fieldOf, isPublicUser } from "./json-guards.js";

/**
 * The CSRF header of `@hush/protocol`, inlined so that the client has no runtime dependency (a
 * test keeps it equal to the protocol's). A cross-site form cannot set it, and a cross-site
 * `fetch` that does needs a CORS preflight the auth server refuses.
 */
export const CSRF_HEADER = "x-hush-csrf";

/** The requests the client makes of the auth server, relative to its `/auth` base. */
export interface AuthApi {
  /**
   * POSTs to `path` with the CSRF header and the refresh cookie (and a JSON `body`, a bearer
   * `token` when given). Rejects only when no answer arrives; any status resolves.
   */
  send(path: string, body?: unknown, token?: string): Promise<Response>;
  /** Like `send`, but an error status rejects with its `AuthError`. */
  post(path: string, body?: unknown, token?: string): Promise<Response>;
  /** `GET /me` with `token`: the user it names, or `undefined` on any failure or malformed answer. */
  me(token: string): Promise<PublicUser | undefined>;
}

/** Creates the requests to the auth server whose `/auth` base is `base` (no trailing slash). */
export function createAuthApi(base: string): AuthApi {
  const send: AuthApi["send"] = (path, body, token) => {
    const headers: Record<string, string> = { [CSRF_HEADER]: "1" };
    if (body) headers["content-type"] = "application/json";
    if (token) headers.authorization = `Bearer ${token}`;
    // The refresh cookie is HttpOnly and scoped to the auth server: "include" sends it cross-origin.
    return fetch(`${base}${path}`, { method: "POST", credentials: "include", headers, body: body ? JSON.stringify(body) : undefined });
  };
  return {
    send,
    async post(path, body, token) {
      const response = await send(path, body, token);
      if (!response.ok) throw await authErrorOf(response);
      return response;
    },
    async me(token) {
      const response = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
      const body: unknown = response?.ok ? await response.json().catch(() => undefined) : undefined;
      const user = fieldOf(body, "user");
      return isPublicUser(user) ? user : undefined;
    },
  };
}
