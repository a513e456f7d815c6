"use client";

import { useAuthFetch } from "@hush/react";
import { useState } from "react";

/**
 * Asks the app's API (`/api/notes`, a route handler) with the bearer token the browser client
 * adopted from the page: no refresh before it, the token came with the render.
 */
export function NotesCount() {
  const authFetch = useAuthFetch();
  const [count, setCount] = useState<string>("");
  async function load() {
    const response = await authFetch("/api/notes");
    setCount(response.ok ? String(((await response.json()) as { notes: string[] }).notes.length) : `error ${response.status}`);
  }
  return (
    <p>
      <button type="button" onClick={() => void load()} data-testid="count-notes">
        Count notes through the API
      </button>{" "}
      <output data-testid="notes-count">{count}</output>
    </p>
  );
}
