import type { PublicUser } from "@hush/protocol";
import type { AuthClient } from "./auth-client.js";

/**
 * What the `@hush/client/email` and `@hush/client/mfa` entry points need of a client beyond its public API. Kept in a
 * map keyed by the client rather than on the client object, so that it is no member anyone can
 * see, enumerate or depend on.
 */
export interface ClientInternals {
  /** The auth server's `/auth` base, without a trailing slash. */
  readonly base: string;
  /** POSTs `body` to `path` (CSRF header, cookie) and signs the client in with the token response, as `login` does. */
  signIn(path: string, body: object): Promise<PublicUser>;
  /** Signs the client in with the token response of a successful `response` (one made through `client.fetch`, say), as `login` does. */
  take(response: Response): Promise<PublicUser>;
  /** Signs this tab and every other tab out, as `logoutAll` does once the server has ended the sessions. */
  end(): void;
}

/** The internals of every client that `createAuthClient` made (in this copy of the package). */
export const internals = new WeakMap<AuthClient, ClientInternals>();
