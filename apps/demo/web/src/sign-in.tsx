import { isAuthError } from "@hush/client";
import { useAuth } from "@hush/react";
import { type FormEvent, useState } from "react";

export function SignIn() {
  const { login, signup } = useAuth();
  const [mode, setMode] = useState<"login" | "signup">("login");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const credentials = { email: String(form.get("email")), password: String(form.get("password")) };
    setBusy(true);
    setError(null);
    try {
      await (mode === "login" ? login(credentials) : signup(credentials));
    } catch (e) {
      setError(isAuthError(e) ? `${e.message} (${e.code})` : "Could not reach the auth server.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card sign-in" data-testid="sign-in">
      <h2>{mode === "login" ? "Sign in" : "Create an account"}</h2>
      <form onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autoComplete="email" required data-testid="email" />
        </label>
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
        {error && (
          <p className="error" role="alert" data-testid="auth-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy} data-testid="submit">
          {mode === "login" ? "Sign in" : "Sign up"}
        </button>
      </form>
      <button type="button" className="link" onClick={() => setMode(mode === "login" ? "signup" : "login")} data-testid="switch-mode">
        {mode === "login" ? "No account? Sign up" : "Have an account? Sign in"}
      </button>
    </section>
  );
}
