import { type AuthEvent, isAuthError } from "@hush/client";
import { useAuth } from "@hush/react";
import { useEffect, useState } from "react";

interface Entry {
  at: number;
  text: string;
  kind: string;
  /** How the sign-in behind the access token this event brought was made (its `amr` claim). */
  amr?: string;
}

/** The `amr` (RFC 8176 methods) and `auth_time` of an access token, read for display only (the demo never trusts them). */
function signInOf(token: string | null): { amr: string; authTime: number | null } | null {
  try {
    const payload: unknown = JSON.parse(atob((token?.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/")));
    const { amr, auth_time } = payload as { amr?: unknown; auth_time?: unknown };
    return {
      amr: Array.isArray(amr) ? amr.join(", ") : "none",
      authTime: typeof auth_time === "number" ? auth_time * 1000 : null,
    };
  } catch {
    return null;
  }
}

function describe(event: AuthEvent): Entry {
  const at = Date.now();
  switch (event.type) {
    case "refreshed":
      return {
        at,
        kind: event.source === "tab" ? "tab" : "refresh",
        text:
          event.source === "network"
            ? "Silent refresh: new access token from the cookie"
            : event.source === "tab"
              ? "New access token shared by another tab (no request)"
              : "New access token from an X-Access-Token header",
      };
    case "authenticated":
      return { at, kind: "auth", text: `Signed in as ${event.user.email}` };
    case "logged-out":
      return { at, kind: "out", text: event.source === "other-tab" ? "Signed out in another tab" : "Signed out" };
    case "session-expired":
      return { at, kind: "out", text: `Session ended by the server (${event.error})` };
    case "step-up-required":
      return {
        at,
        kind: "error",
        text: `Step-up asked by ${new URL(event.url).pathname}: sign in with ${event.amr?.join(", ") ?? "a stronger method"} (no refresh)`,
      };
    case "error":
      if (isAuthError(event.error) && event.error.code === "logout_failed")
        return { at, kind: "error", text: "Sign-out not confirmed by the server yet; retrying (this browser stays signed out)" };
      return { at, kind: "error", text: `Refresh failed for now; retrying (${String(event.error)})` };
  }
}

/** The live token timeline: time left on the access token, and every refresh as it happens. */
export function Timeline() {
  const { client, expiresAt, state } = useAuth();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [now, setNow] = useState(Date.now());
  const [lifetime, setLifetime] = useState(60_000);

  const [signIn, setSignIn] = useState<{ amr: string; authTime: number | null } | null>(null);

  useEffect(
    () =>
      client.subscribe((event) => {
        const entry = describe(event);
        const add = (e: Entry) => setEntries((list) => [e, ...list].slice(0, 50));
        if (event.type !== "authenticated" && event.type !== "refreshed") return add(entry);
        // The token this event brought is the one held now: show how its sign-in was made.
        void client.getAccessToken().then((token) => add({ ...entry, amr: signInOf(token)?.amr }));
      }),
    [client],
  );
  // The token changes with expiresAt (a refresh, a sign-in, a re-authentication).
  useEffect(() => {
    if (!expiresAt) return setSignIn(null);
    void client.getAccessToken().then((token) => setSignIn(signInOf(token)));
  }, [client, expiresAt]);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(id);
  }, []);
  useEffect(() => {
    if (expiresAt) setLifetime(Math.max(1000, expiresAt - Date.now()));
  }, [expiresAt]);

  const left = expiresAt ? Math.max(0, expiresAt - now) : 0;
  const refreshes = entries.filter((e) => e.kind === "refresh").length;
  return (
    <section className="card timeline" data-testid="timeline">
      <h2>Token timeline</h2>
      {state === "authenticated" && expiresAt ? (
        <>
          <div className="meter" aria-hidden="true">
            <div className="fill" style={{ width: `${(100 * left) / lifetime}%` }} />
          </div>
          <p className="hint" data-testid="token-left">
            Access token: {(left / 1000).toFixed(0)} s left · {refreshes} silent refresh{refreshes === 1 ? "" : "es"} in this tab
          </p>
          {signIn && (
            <p className="hint">
              Signed in with <strong data-testid="token-amr">{signIn.amr}</strong>
              {signIn.authTime && <> at {new Date(signIn.authTime).toLocaleTimeString()}</>}
            </p>
          )}
        </>
      ) : (
        <p className="hint">No access token in memory.</p>
      )}
      <ol data-testid="timeline-events">
        {entries.map((e) => (
          <li key={`${e.at}-${e.text}`} className={e.kind}>
            <time>{new Date(e.at).toLocaleTimeString()}</time> {e.text}
            {e.amr && <small className="amr">amr {e.amr}</small>}
          </li>
        ))}
      </ol>
    </section>
  );
}
