import type { AuthClient } from "./auth-client.js";
import { AuthError } from "./auth-error.js";
import { internals } from "./client-internals.js";
import { entryRequest } from "./entry-request.js";
import { takeFragmentParams } from "./fragment.js";
import { fieldOf, stringFieldOf } from "./json-guards.js";

// `@hush/client/providers`: signing in with other providers (OpenID Connect, OAuth 2: Google,
// Microsoft, GitHub, a company's own issuer …), kept out of the core entry point. A provider
// sign-in is a full-page navigation through the auth server and the provider, and back to the app
// with the refresh cookie set: the app's load-time silent refresh signs it in. No token is ever
// in a URL.

/** A provider the auth server is configured for (`HUSH_OAUTH_PROVIDERS`): one button each. */
export interface SignInProvider {
  /** What the other calls take: `"google"`, `"github"`, `"demo"` … */
  name: string;
  /** What a button shows: `"Google"`, `"GitHub"` … */
  label: string;
}

/** A provider account linked to the signed-in user (times are ISO 8601). */
export interface Identity {
  /** What `unlinkIdentity` takes. */
  id: string;
  /** The provider's name, as in `SignInProvider`. */
  provider: string;
  /** The address the provider gave when it was linked, or null when it gave none. */
  email: string | null;
  createdAt: string;
}

/** Why a provider sign-in came back to the sign-in page without a session. */
export type ProviderErrorCode = "oauth_denied" | "account_exists" | "oauth_failed";

/**
 * What a provider sign-in left in the sign-in page's fragment (see `readProviderResult`): an
 * error, or — for a user with a second factor — the token to finish the sign-in with
 * (`verifyMfa(mfaToken, …)` of `@hush/client/mfa`; the methods are those of `mfa_required`:
 * an authenticator app's code or a recovery code).
 */
export type ProviderResult =
  | {
      /**
       * `oauth_denied`: the user cancelled at the provider; `account_exists`: an account has this
       * address and the provider could not prove it owns it (sign in, then link the provider);
       * `oauth_failed`: anything else. A newer server may send another code.
       */
      error: ProviderErrorCode | (string & {});
    }
  | { mfaToken: string };

/** The provider calls of one client: see `providerActions`. Every rejection is an `AuthError` (or a network `TypeError`). */
export interface ProviderActions {
  /**
   * Leaves the page for the provider's sign-in (a full-page navigation, `location.assign`); the
   * browser comes back to the app at `returnTo` (a path of the app, `/` by default), signed in by
   * the load-time refresh, or to `/sign-in#error=…` / `/sign-in#mfa=…`: read it with `readProviderResult()`.
   */
  loginWithProvider(name: string, options?: { returnTo?: string }): void;
  /**
   * Links the provider to the signed-in user: asks the auth server for a link URL, then leaves the
   * page for it; the browser comes back as from a sign-in. Needs a recent sign-in:
   * `reauthentication_required` otherwise (re-authenticate, then retry).
   */
  linkProvider(name: string): Promise<void>;
  /** The provider accounts linked to the signed-in user. */
  listIdentities(): Promise<Identity[]>;
  /**
   * Unlinks one of them; needs a recent sign-in. `last_sign_in_method` (409) when it is the only
   * way left into the account (no password, passkey or other provider).
   */
  unlinkIdentity(id: string): Promise<void>;
  /** The providers the auth server offers (public: call it on the sign-in page). */
  listProviders(): Promise<SignInProvider[]>;
}

const isSignInProvider = (value: unknown): value is SignInProvider =>
  stringFieldOf(value, "name") !== undefined && stringFieldOf(value, "label") !== undefined;

const isIdentity = (value: unknown): value is Identity =>
  ["id", "provider", "createdAt"].every((key) => stringFieldOf(value, key) !== undefined) &&
  (fieldOf(value, "email") === null || stringFieldOf(value, "email") !== undefined);

const listOf =
  <T>(guard: (value: unknown) => value is T) =>
  (value: unknown): value is T[] =>
    Array.isArray(value) && value.every(guard);

/** The query of a provider's `…/start` URL. */
const startQuery = (returnTo = "/") => `?returnTo=${encodeURIComponent(returnTo)}`;

/**
 * The provider calls of `client`, which must come from `createAuthClient` (of this copy of the package).
 *
 * @example
 * const providers = providerActions(client);
 * for (const { name, label } of await providers.listProviders())
 *   addButton(`Sign in with ${label}`, () => providers.loginWithProvider(name, { returnTo: "/notes" }));
 */
export function providerActions(client: AuthClient): ProviderActions {
  const hooks = internals.get(client);
  if (!hooks) throw new TypeError("providerActions() needs a client made by createAuthClient() of the same @hush/client");
  const { base } = hooks;

  const request = entryRequest(client, base);
  const call = (method: string, path: string, bearer: boolean) => request(method, path, undefined, bearer);

  /** The answer's `key` field once `guard` accepts it; `unavailable` otherwise. */
  async function read<T>(response: Response, key: string, guard: (value: unknown) => value is T): Promise<T> {
    const value = fieldOf(await response.json().catch(() => undefined), key);
    if (!guard(value)) throw new AuthError("unavailable", "The auth server's answer is not what this call expects.", response.status);
    return value;
  }

  const segment = (name: string) => encodeURIComponent(name);

  return {
    loginWithProvider(name, { returnTo } = {}) {
      location.assign(`${base}/oauth/${segment(name)}/start${startQuery(returnTo)}`);
    },
    async linkProvider(name) {
      const response = await call("POST", `/identities/${segment(name)}/link`, true);
      const url = await read(response, "url", (value): value is string => typeof value === "string" && /^https?:\/\//i.test(value));
      // A top-level navigation, so that the auth server's state cookie is set on it; the
      // single-use ticket in the URL is spent there.
      location.assign(url);
    },
    async listIdentities() {
      return read(await call("GET", "/identities", true), "identities", listOf(isIdentity));
    },
    async unlinkIdentity(id) {
      await call("DELETE", `/identities/${encodeURIComponent(id)}`, true);
    },
    async listProviders() {
      return read(await call("GET", "/oauth/providers", false), "providers", listOf(isSignInProvider));
    },
  };
}

/**
 * What a provider sign-in left in the fragment of the page it came back to
 * (`/sign-in#error=oauth_denied`, `/sign-in#mfa=…`), or null. Both are removed from the address bar
 * and from this page's history entry (`history.replaceState`), so that a reload, Back, a bookmark or
 * a shared URL do not carry them; any other fragment parameters stay. Call it once, at load.
 */
export function readProviderResult(): ProviderResult | null {
  const found = takeFragmentParams(["error", "mfa"]);
  const mfaToken = found?.get("mfa");
  if (mfaToken) return { mfaToken };
  const error = found?.get("error");
  return error ? { error } : null;
}
