import type { SessionSummary } from "@hush/protocol";
import { useAuth, useAuthFetch } from "@hush/react";
import { useCallback, useEffect, useState } from "react";
import { config } from "./config.js";

const when = (iso: string) => new Date(iso).toLocaleString();

/** The user's devices (sessions), from the auth server; any but this one can be signed out. */
export function Sessions() {
  const authFetch = useAuthFetch();
  const { expiresAt } = useAuth();
  const [sessions, setSessions] = useState<SessionSummary[]>([]);

  const load = useCallback(async () => {
    const response = await authFetch(`${config.authBase}/sessions`);
    if (response.ok) setSessions(((await response.json()) as { sessions: SessionSummary[] }).sessions);
  }, [authFetch]);

  // Reload whenever the token changes: a refresh updates "last used".
  useEffect(() => {
    void load();
  }, [load, expiresAt]);

  async function revoke(id: string) {
    await authFetch(`${config.authBase}/sessions/${id}`, { method: "DELETE" });
    await load();
  }

  return (
    <section className="card sessions" data-testid="sessions">
      <h2>Your devices</h2>
      <ul>
        {sessions.map((s) => (
          <li key={s.id} className={s.current ? "current" : ""}>
            <div>
              <strong>{s.current ? "This device" : (s.userAgent ?? "Unknown device").slice(0, 60)}</strong>
              <small>
                signed in {when(s.createdAt)} · last used {when(s.lastUsedAt)}
              </small>
            </div>
            {!s.current && (
              <button type="button" className="secondary" onClick={() => void revoke(s.id)}>
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
