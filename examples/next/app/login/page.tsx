"use client";

import { useAuth } from "@hush/react";
import { type FormEvent, useState } from "react";

/** Sign in or sign up in the browser, then a full navigation, so the next page renders signed in on the server. */
export default function LoginPage() {
  const { login, signup } = useAuth();
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const form = new FormData(event.currentTarget);
    const credentials = { email: String(form.get("email")), password: String(form.get("password")) };
    try {
      await (submitter?.value === "signup" ? signup(credentials) : login(credentials));
      const next = new URLSearchParams(window.location.search).get("next");
      window.location.assign(next?.startsWith("/") && !next.startsWith("//") ? next : "/notes");
    } catch (thrown) {
      setError(thrown instanceof Error ? thrown.message : String(thrown));
    }
  }

  return (
    <form onSubmit={submit}>
      <h1>Sign in</h1>
      <input name="email" type="email" aria-label="Email" required />
      <input name="password" type="password" aria-label="Password" required minLength={8} />
      <button type="submit" value="login">
        Sign in
      </button>
      <button type="submit" value="signup">
        Sign up
      </button>
      {error && <p role="alert">{error}</p>}
    </form>
  );
}
