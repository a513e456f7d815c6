import { useAuthFetch } from "@hush/react";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { config } from "./config.js";

interface Note {
  id: string;
  text: string;
  createdAt: string;
}

/** Notes from the resource API, which checks the access token with @hush/verify. */
export function Notes() {
  const authFetch = useAuthFetch();
  const [notes, setNotes] = useState<Note[]>([]);
  const [status, setStatus] = useState<string>("");

  const load = useCallback(async () => {
    const response = await authFetch(`${config.apiBase}/notes`);
    if (response.ok) setNotes(((await response.json()) as { notes: Note[] }).notes);
    setStatus(response.ok ? "" : `The notes API answered ${response.status}`);
  }, [authFetch]);

  useEffect(() => {
    void load();
  }, [load]);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const text = String(new FormData(form).get("text") ?? "");
    const response = await authFetch(`${config.apiBase}/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (response.ok) {
      form.reset();
      await load();
    } else setStatus(`The notes API answered ${response.status}`);
  }

  async function remove(id: string) {
    await authFetch(`${config.apiBase}/notes/${id}`, { method: "DELETE" });
    await load();
  }

  return (
    <section className="card notes" data-testid="notes">
      <h2>Notes</h2>
      <p className="hint">
        Served by a separate API that trusts the access token on its own — no database of sessions, no call to the auth server.
      </p>
      <form onSubmit={add} className="inline">
        <input name="text" placeholder="Write a note" required maxLength={2000} data-testid="note-text" />
        <button type="submit" data-testid="add-note">
          Add
        </button>
      </form>
      {status && <p className="error">{status}</p>}
      <ul data-testid="note-list">
        {notes.map((note) => (
          <li key={note.id}>
            <span>{note.text}</span>
            <button type="button" className="link" onClick={() => void remove(note.id)}>
              delete
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
