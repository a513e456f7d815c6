import { isAuthError } from "@hush/client";
import { useAuth, useEmailActions } from "@hush/react";
import { type FormEvent, useState } from "react";
import { config } from "./config.js";
import { errorText } from "./errors.js";

const mailboxHint = config.devMailbox ? " (Demo: read it in the Dev mailbox.)" : "";

/** The account panel: password, email address, deletion. */
export function Account() {
  return (
    <section className="card account" data-testid="account">
      <ChangePassword />
      <ChangeEmail />
      <DeleteAccount />
    </section>
  );
}

/** Password change: other devices are signed out; this one goes on with a re-issued cookie. */
function ChangePassword() {
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
    <>
      <h2>Change password</h2>
      <form onSubmit={change}>
        <input name="current" type="password" placeholder="Current password" autoComplete="current-password" required />
        <input name="next" type="password" placeholder="New password" autoComplete="new-password" required minLength={8} />
        <button type="submit">Change</button>
      </form>
      {message && <p className="hint">{message}</p>}
    </>
  );
}

/** Email change: a link goes to the new address; the account moves once it is followed. */
function ChangeEmail() {
  const email = useEmailActions();
  const [message, setMessage] = useState<string | null>(null);

  async function change(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const newEmail = String(data.get("newEmail"));
    try {
      await email.changeEmail({ newEmail, currentPassword: String(data.get("current")) });
      form.reset();
      setMessage(`We sent a link to ${newEmail}: your address changes once you follow it.${mailboxHint}`);
    } catch (error) {
      setMessage(errorText(error));
    }
  }

  return (
    <>
      <h2>Change email</h2>
      <form onSubmit={change}>
        <input name="newEmail" type="email" placeholder="New email address" autoComplete="email" required data-testid="new-email" />
        <input
          name="current"
          type="password"
          placeholder="Current password"
          autoComplete="current-password"
          required
          data-testid="change-email-password"
        />
        <button type="submit" data-testid="change-email">
          Send confirmation link
        </button>
      </form>
      {message && (
        <p className="hint" data-testid="change-email-message">
          {message}
        </p>
      )}
    </>
  );
}

/** Account deletion: asks for the password and a confirmation; every tab is signed out after. */
function DeleteAccount() {
  const email = useEmailActions();
  const [message, setMessage] = useState<string | null>(null);

  async function remove(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    try {
      // On success the client signs every tab out, and this panel goes with the signed-in view.
      await email.deleteAccount({ currentPassword: String(data.get("current")) });
    } catch (error) {
      setMessage(errorText(error));
    }
  }

  return (
    <>
      <h2>Delete account</h2>
      <form onSubmit={remove}>
        <input
          name="current"
          type="password"
          placeholder="Current password"
          autoComplete="current-password"
          required
          data-testid="delete-password"
        />
        <label className="check">
          <input type="checkbox" required data-testid="delete-confirm" /> Delete my account and everything in it, for good
        </label>
        <button type="submit" className="danger" data-testid="delete-account">
          Delete account
        </button>
      </form>
      {message && (
        <p className="error" role="alert" data-testid="delete-error">
          {message}
        </p>
      )}
    </>
  );
}

/** For a signed-in user whose address is not verified yet: a reminder, and a new mail on request. */
export function VerifyBanner() {
  const { user, client } = useAuth();
  const email = useEmailActions();
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (user?.emailVerified !== false) return null;

  async function resend() {
    setBusy(true);
    try {
      await email.requestEmailVerification();
      setMessage(`Sent: check ${user?.email}.${mailboxHint}`);
    } catch (error) {
      // Verified meanwhile (in another browser, say): a refresh brings the news.
      if (isAuthError(error) && error.code === "already_verified") await client.refresh();
      else setMessage(errorText(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="banner" role="status" data-testid="verify-banner">
      <span>
        Your address <strong>{user.email}</strong> is not verified yet: follow the link we mailed you.
      </span>
      <button type="button" className="secondary" disabled={busy} onClick={() => void resend()} data-testid="resend-verification">
        Resend verification mail
      </button>
      {message && <small data-testid="verify-banner-message">{message}</small>}
    </div>
  );
}
