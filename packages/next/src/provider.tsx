"use client";

import { type AuthClient, type AuthClientOptions, createAuthClient } from "@hush/client";
import { AuthProvider } from "@hush/react";
import { type ReactNode, useState } from "react";
import type { EmbeddedSession } from "./index.js";

export interface HushProviderProps extends Omit<AuthClientOptions, "initialSession" | "baseUrl"> {
  /** The auth server's `/auth` base. Default `/auth`: mounted in this app. */
  baseUrl?: string;
  /** `await hush.getInitialSession()` from the layout: the session the page was rendered with. */
  session: EmbeddedSession | null | undefined;
  children: ReactNode;
}

/**
 * What `useAuth()` sees while the page renders on the server: the session it was rendered with,
 * read only. Its actions belong to the browser, where the real client replaces it.
 */
function serverView(session: EmbeddedSession | null | undefined): AuthClient {
  const browserOnly = () => Promise.reject(new Error("@hush/next: auth actions run in the browser"));
  return {
    ready: Promise.resolve(),
    state: session ? "authenticated" : session === null ? "anonymous" : "loading",
    user: session?.user ?? null,
    expiresAt: null,
    signup: browserOnly,
    login: browserOnly,
    logout: browserOnly,
    logoutAll: browserOnly,
    getAccessToken: () => Promise.resolve(null),
    refresh: () => Promise.resolve(null),
    fetch: browserOnly,
    subscribe: () => () => undefined,
    dispose: () => undefined,
  };
}

/**
 * Hands the session the page was rendered with to `@hush/react` (`useAuth`, `useAuthFetch` …):
 * the browser client adopts it instead of refreshing on load, so a server-rendered page is signed
 * in from its first paint and the browser does not ask the server again.
 */
export function HushProvider({ session, baseUrl = "/auth", children, ...options }: HushProviderProps) {
  const [client] = useState(() =>
    typeof window === "undefined" ? serverView(session) : createAuthClient({ ...options, baseUrl, initialSession: session }),
  );
  return <AuthProvider client={client}>{children}</AuthProvider>;
}
