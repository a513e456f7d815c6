import { useAuthFetch } from "@hush/react";
import { useState } from "react";
import { config } from "./config.js";
import { CANCELLED, errorText } from "./errors.js";
import { useStepUp } from "./reauth.js";

interface SecretNote {
  id: string;
  text: string;
}

/** The answer of the notes API's step-up route. */
function notesOf(body: unknown): SecretNote[] {
  const notes = typeof body === "object" && body !== null ? (body as { notes?: unknown }).notes : undefined;
  return Array.isArray(notes) ? notes.filter((n): n is SecretNote => typeof n?.id === "string" && typeof n?.text === "string") : [];
}

/**
 * Notes behind a step-up (RFC 9470): the notes API asks for `amr: ["mfa"]`. A password sign-in
 * gets `401 insufficient_user_authentication` — which the client never answers with a refresh —
 * and the app asks for a second factor, then retries.
 */
export function SecretNotes() {
  const authFetch = useAuthFetch();
  const stepUp = useStepUp();
  const [notes, setNotes] = useState<SecretNote[] | null>(null);
  const [status, setStatus] = useState("");

  async function load() {
    setStatus("");
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await authFetch(`${config.apiBase}/secret-notes`);
      const body: unknown = await response.json().catch(() => undefined);
      if (response.ok) return setNotes(notesOf(body));
      const { error, amr } = (body ?? {}) as { error?: string; amr?: string[] };
      if (response.status !== 401 || error !== "insufficient_user_authentication")
        return setStatus(`The notes API answered ${response.status}`);
      try {
        await stepUp(
          `The notes API asks for a sign-in with ${(amr ?? []).join(", ") || "a stronger method"}: a code from your authenticator app, or a passkey.`,
        );
      } catch (e) {
        return setStatus(e === CANCELLED ? "" : errorText(e));
      }
    }
  }

  return (
    <section className="card secret-notes" data-testid="secret-notes">
      <h2>Secret notes</h2>
      <p className="hint">The notes API shows these only to a sign-in with two factors (its route asks for amr "mfa").</p>
      {notes === null ? (
        <button type="button" onClick={() => void load()} data-testid="secret-notes-load">
          Show secret notes
        </button>
      ) : (
        <ul data-testid="secret-note-list">
          {notes.map((note) => (
            <li key={note.id} data-testid="secret-note">
              {note.text}
            </li>
          ))}
        </ul>
      )}
      {status && (
        <p className="error" data-testid="secret-notes-status">
          {status}
        </p>
      )}
    </section>
  );
}
