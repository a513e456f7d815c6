import { isAuthError } from "@hush/client";
import { type MfaChallenge, mfaChallengeOf } from "@hush/client/mfa";
import { useAuth, useEmailActions, useMfaActions } from "@hush/react";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { config } from "./config.js";
import { errorText } from "./errors.js";
import { MfaStep } from "./mfa-step.js";
import { ProviderButtons } from "./providers.js";

type Mode = "login" | "signup" | "forgot" | "link";

const TITLES: Record<Mode, string> = {
  login: "Sign in",
  signup: "Create an account",
  forgot: "Forgot your password?",
  link: "Email me a sign-in link",
};
const BUTTONS: Record<Mode, string> = { login: "Sign in", signup: "Sign up", forgot: "Send reset link", link: "Send sign-in link" };

const mailboxHint = config.devMailbox ? " (Demo: read it in the Dev mailbox, top right.)" : "";

/**
 * `pendingChallenge`: a second step to open on (a provider sign-in that came back with `#mfa=`),
 * handed over once: `takePendingChallenge` is called when the form takes it.
 */
export function SignIn({
  pendingChallenge = null,
  takePendingChallenge,
}: {
  pendingChallenge?: MfaChallenge | null;
  takePendingChallenge?: () => void;
} = {}) {
  const { login, signup, client } = useAuth();
  const email = useEmailActions();
  const mfa = useMfaActions();
  const [mode, setMode] = useState<Mode>("login");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Set when a sign-in answered mfa_required: the form gives way to the second step.
  const [challenge, setChallenge] = useState<MfaChallenge | null>(pendingChallenge);
  useEffect(() => {
    if (pendingChallenge) takePendingChallenge?.();
  }, [pendingChallenge, takePendingChallenge]);
  // Passkey autofill: the waiting conditional request, and a counter that starts a new one.
  const autofill = useRef<AbortController | null>(null);
  const [autofillRound, setAutofillRound] = useState(0);
  const autofillRetries = useRef(0);

  /** A failed sign-in: the second step for mfa_required, else the error. */
  function failed(e: unknown) {
    const asked = mfaChallengeOf(e);
    if (asked) setChallenge(asked);
    else setError(errorText(e));
  }

  // While the sign-in form shows, the browser offers the user's passkeys in the email field's
  // autofill (`autocomplete="username webauthn"`); picking one signs in without a password.
  useEffect(() => {
    if (mode !== "login" || challenge) return;
    const controller = new AbortController();
    autofill.current = controller;
    mfa.loginWithPasskey({ conditional: true, signal: controller.signal }).catch((e: unknown) => {
      const asked = mfaChallengeOf(e);
      if (asked) return setChallenge(asked);
      // The rest happens in the background: aborted (the user signed in another way), no autofill
      // in this browser, a server without passkeys … Only a passkey the user picked and the server
      // refused (its challenge expired, say) is news; then the autofill is offered again, a few
      // times at most (an authenticator that answers by itself would loop).
      if (controller.signal.aborted || !isAuthError(e) || e.code !== "invalid_passkey") return;
      setError(errorText(e));
      if (++autofillRetries.current <= 3) setAutofillRound((n) => n + 1);
    });
    return () => controller.abort();
  }, [mode, challenge, autofillRound, mfa]);

  function switchTo(next: Mode) {
    setMode(next);
    setError(null);
    setNotice(null);
  }

  async function passkeySignIn() {
    autofill.current?.abort();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await mfa.loginWithPasskey();
    } catch (e) {
      failed(e);
      setAutofillRound((n) => n + 1);
    } finally {
      setBusy(false);
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const address = String(form.get("email"));
    const credentials = { email: address, password: String(form.get("password")) };
    // Signing in another way: the waiting passkey autofill request ends (a new one starts if this fails).
    autofill.current?.abort();
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
      failed(e);
      setAutofillRound((n) => n + 1);
    } finally {
      setBusy(false);
    }
  }

  if (challenge)
    return (
      <section className="card sign-in" data-testid="sign-in">
        <MfaStep challenge={challenge} onCancel={() => setChallenge(null)} />
      </section>
    );

  const withPassword = mode === "login" || mode === "signup";
  return (
    <section className="card sign-in" data-testid="sign-in">
      <h2>{TITLES[mode]}</h2>
      <form onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autoComplete={mode === "login" ? "username webauthn" : "email"} required data-testid="email" />
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
      {mode === "login" && (
        <button
          type="button"
          className="secondary passkey"
          disabled={busy}
          onClick={() => void passkeySignIn()}
          data-testid="passkey-sign-in"
        >
          Sign in with a passkey
        </button>
      )}
      {withPassword && <ProviderButtons disabled={busy} />}
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
