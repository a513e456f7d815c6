"use client";

import { useAuth } from "@hush/react";

/** Who is signed in, as the browser client sees it; rendered on the server from the same session. */
export function SessionStatus() {
  const { state, user, logout } = useAuth();
  if (state === "loading") return <span data-testid="client-state">…</span>;
  if (!user)
    return (
      <a href="/login" data-testid="client-state">
        Sign in
      </a>
    );
  return (
    <span data-testid="client-state">
      {user.email}{" "}
      <button type="button" onClick={() => logout().finally(() => window.location.assign("/"))}>
        Sign out
      </button>
    </span>
  );
}
