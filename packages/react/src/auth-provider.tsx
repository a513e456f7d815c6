import type { AuthClient, AuthState, PublicUser } from "@hush/client";
import { type EmailActions, emailActions } from "@hush/client/email";
import { type MfaActions, mfaActions } from "@hush/client/mfa";
import { type ProviderActions, providerActions } from "@hush/client/providers";
import { createContext, type ReactNode, useCallback, useContext, useMemo, useSyncExternalStore } from "react";

const ClientContext = createContext<AuthClient | null>(null);

/** Makes a Hush client available to `useAuth` and `useAuthFetch` below it. */
export function AuthProvider({ client, children }: { client: AuthClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

function useClient(): AuthClient {
  const client = useContext(ClientContext);
  if (!client)
    throw new Error(
      "useAuth, useAuthFetch, useEmailActions, useMfaActions and useProviderActions need an <AuthProvider client={…}> above them",
    );
  return client;
}

/** What `useAuth()` returns. `state` starts as "loading" until the silent refresh on load is done. */
export interface UseAuth {
  state: AuthState;
  user: PublicUser | null;
  /** When the current access token expires (this device's clock, ms), or null. */
  expiresAt: number | null;
  signup: AuthClient["signup"];
  login: AuthClient["login"];
  /** Signs out at once; rejects with `logout_failed` when the server did not confirm (the client retries). */
  logout: AuthClient["logout"];
  logoutAll: AuthClient["logoutAll"];
  client: AuthClient;
}

/**
 * The auth state, re-rendering on every client event. While the silent refresh on load runs,
 * `state` is "loading" — render a placeholder then, not the signed-out UI, and nothing flashes.
 */
export function useAuth(): UseAuth {
  const client = useClient();
  // Every event re-renders, and so does the end of the silent refresh on load, which moves
  // "loading" to "anonymous" without an event when there was no session to find.
  const subscribe = useCallback(
    (onChange: () => void) => {
      let live = true;
      void client.ready.then(() => live && onChange());
      const off = client.subscribe(onChange);
      return () => {
        live = false;
        off();
      };
    },
    [client],
  );
  // A snapshot string changes whenever anything the hook returns changes: the user's fields too
  // (a confirmed address change or verification keeps the id).
  // The server snapshot is the client's own: a page rendered on the server with a session
  // (`initialSession`, or `@hush/next`'s provider) hydrates signed in, without a flash.
  const snapshotOf = () => `${client.state}|${client.expiresAt ?? ""}|${client.user ? JSON.stringify(client.user) : ""}`;
  const snapshot = useSyncExternalStore(subscribe, snapshotOf, snapshotOf);
  return useMemo(
    () => ({
      state: client.state,
      user: client.user,
      expiresAt: client.expiresAt,
      signup: client.signup,
      login: client.login,
      logout: client.logout,
      logoutAll: client.logoutAll,
      client,
    }),
    [client, snapshot],
  );
}

/** `fetch` with the bearer token and the refresh-and-retry of `client.fetch`. */
export function useAuthFetch(): AuthClient["fetch"] {
  const client = useClient();
  return useCallback((input, init) => client.fetch(input, init), [client]);
}

/**
 * The email flows of the provider's client (`@hush/client/email`): verification, password reset,
 * email change, sign-in links and account deletion. The functions keep their identity across renders.
 */
export function useEmailActions(): EmailActions {
  const client = useClient();
  return useMemo(() => emailActions(client), [client]);
}

/**
 * The passkey, two-factor and re-authentication calls of the provider's client
 * (`@hush/client/mfa`); `@simplewebauthn/browser` loads on the first passkey call. The functions
 * keep their identity across renders.
 */
export function useMfaActions(): MfaActions {
  const client = useClient();
  return useMemo(() => mfaActions(client), [client]);
}

/**
 * The sign-in-with-other-providers calls of the provider's client (`@hush/client/providers`):
 * `loginWithProvider`, `linkProvider`, `listIdentities`, `unlinkIdentity`, `listProviders`. The
 * functions keep their identity across renders; `readProviderResult` is imported from
 * `@hush/client/providers` itself (call it once, at load).
 */
export function useProviderActions(): ProviderActions {
  const client = useClient();
  return useMemo(() => providerActions(client), [client]);
}
