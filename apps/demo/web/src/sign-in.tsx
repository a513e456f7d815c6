import { useAuth, useEmailActions } from "@hush/react";
import { type FormEvent, useState } from "react";
import { config } from "./config.js";
import { errorText } from "./errors.js";

type Mode = "login" | "signup" | "forgot" | "link";

const TITLES: Record<Mode, string> = {
  login: "Sign in",
  signup: "Create an account",
  forgot: "Forgot your password?",
  link: "Email me a sign-in link",
};
const BUTTONS: Record<Mode, string> = { login: "Sign in", signup: "Sign up", forgot: "Send reset link", link: "Send sign-in link" };

const mailboxHint = config.devMailbox ? " (Demo: read it in the Dev mailbox, top right.)" : "";

export function SignIn() {
  const { login, signup, client } = useAuth();
  const email = useEmailActions();
  const [mode, setMode] = useState<Mode>("login");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function switchTo(next: Mode) {
    setMode(next);
    setError(null);
    setNotice(null);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const address = String(form.get("email"));
    const credentials = { email: address, password: String(form.get("password")) };
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      if (mode === "login") await login(credentials);
      else if (mode === "signup") {
        await signup(credentials);
        // A server that requires verified addresses creates the account without a session.
        if (client.state !== "authenticated")
          setNotice(`Account created. Check your mail: follow the link we sent to ${address}, then sign in.${mailboxHint}`);
      } else if (mode === "forgot") {
        await email.requestPasswordReset(address);
        setNotice(`If an account exists for ${address}, we sent it a link to choose a new password.${mailboxHint}`);
      } else {
        await email.requestSignInLink(address);
        setNotice(`If an account exists for ${address}, we sent it a sign-in link.${mailboxHint}`);
      }
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  const withPassword = mode === "login" || mode === "signup";
  return (
    <section className="card sign-in" data-testid="sign-in">
      <h2>{TITLES[mode]}</h2>
      <form onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required data-testid="email" />
        </label>
        {withPassword && (
          <label>
            Password
            <input
              name="password"
              type="password"
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              required
              minLength={8}
              data-testid="password"
            />
          </label>
        )}
        {error && (
          <p className="error" role="alert" data-testid="auth-error">
            {error}
          </p>
        )}
        {notice && (
          <p className="success" role="status" data-testid="auth-notice">
            {notice}
          </p>
        )}
        <button type="submit" disabled={busy} data-testid="submit">
          {BUTTONS[mode]}
        </button>
      </form>
      <div className="links">
        {mode === "login" && (
          <button type="button" className="link" onClick={() => switchTo("forgot")} data-testid="forgot-password">
            Forgot password?
          </button>
        )}
        {mode === "login" && config.signInLinks && (
          <button type="button" className="link" onClick={() => switchTo("link")} data-testid="sign-in-link-mode">
            Email me a sign-in link
          </button>
        )}
        <button type="button" className="link" onClick={() => switchTo(mode === "login" ? "signup" : "login")} data-testid="switch-mode">
          {mode === "login" ? "No account? Sign up" : mode === "signup" ? "Have an account? Sign in" : "Back to sign in"}
        </button>
      </div>
    </section>
  );
}
