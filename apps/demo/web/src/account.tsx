import { isAuthError } from "@hush/client";
import { useAuth } from "@hush/react";
import { type FormEvent, useState } from "react";
import { config } from "./config.js";

/** Password change: other devices are signed out; this one goes on with a re-issued cookie. */
export function Account() {
  const { client } = useAuth();
  const [message, setMessage] = useState<string | null>(null);

  async function change(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const response = await client.fetch(`${config.authBase}/password`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ currentPassword: data.get("current"), newPassword: data.get("next") }),
    });
    if (response.ok) {
      form.reset();
      // The response re-issued this session's cookie; a refresh picks up the new token.
      await client.refresh();
      setMessage("Password changed. Every other device has been signed out.");
    } else {
      const body = await response.json().catch(() => ({}));
      setMessage(isAuthError(body) ? body.message : `${body.message ?? "Failed"} (${body.error ?? response.status})`);
    }
  }

  return (
    <section className="card account" data-testid="account">
      <h2>Change password</h2>
      <form onSubmit={change}>
        <input name="current" type="password" placeholder="Current password" autoComplete="current-password" required />
        <input name="next" type="password" placeholder="New password" autoComplete="new-password" required minLength={8} />
        <button type="submit">Change</button>
      </form>
      {message && <p className="hint">{message}</p>}
    </section>
  );
}
