import type { PublicUser } from "@hush/client";
import { type MfaChallenge, mfaChallengeOf } from "@hush/client/mfa";
import { useEmailActions } from "@hush/react";
import { type FormEvent, type ReactNode, useState } from "react";
import { errorText } from "./errors.js";
import { MfaStep } from "./mfa-step.js";
import { Link, navigate } from "./router.js";

// The pages emailed links open. Each got its token from `readLinkToken()` at load (main.tsx),
// which also took it out of the address bar and history. The token goes to the server only when
// the user clicks: mail scanners open links, and some run the page's scripts, which must not use
// the link up.

type Outcome = { ok: true; text: string } | { ok: false; text: string };

/** One link page: a title, what the link does, and the form whose submit spends the token. */
function LinkPage(props: {
  title: string;
  token: string | null;
  intro: ReactNode;
  button: string;
  testId: string;
  fields?: ReactNode;
  act: (token: string, form: FormData) => Promise<string>;
  /** What to say once the second factor of an account that has one is verified (the link itself answered `mfa_required`). */
  afterMfa?: (user: PublicUser) => string;
}) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!props.token) return;
    setBusy(true);
    try {
      setOutcome({ ok: true, text: await props.act(props.token, new FormData(event.currentTarget)) });
    } catch (error) {
      // An account with a second factor: the link is used up, and the sign-in finishes with a code.
      const asked = mfaChallengeOf(error);
      if (asked) setChallenge(asked);
      else setOutcome({ ok: false, text: errorText(error) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card link-page" data-testid="link-page">
      <h2>{props.title}</h2>
      {!props.token && (
        <p className="error" data-testid="no-token">
          This page needs the link from the mail: open it again from there (or from the Dev mailbox).
        </p>
      )}
      {challenge && outcome?.ok !== true && (
        <MfaStep
          challenge={challenge}
          onDone={(user) => setOutcome({ ok: true, text: (props.afterMfa ?? signedIn)(user) })}
          onCancel={() => navigate("/")}
        />
      )}
      {props.token && !challenge && outcome?.ok !== true && (
        <form onSubmit={submit}>
          <p className="hint">{props.intro}</p>
          {props.fields}
          <button type="submit" disabled={busy} data-testid={props.testId}>
            {props.button}
          </button>
        </form>
      )}
      {outcome && (
        <p
          className={outcome.ok ? "success" : "error"}
          role={outcome.ok ? "status" : "alert"}
          data-testid={outcome.ok ? "link-done" : "link-error"}
        >
          {outcome.text}
        </p>
      )}
      <p>
        <Link to="/" testId="continue">
          {outcome?.ok ? "Continue to the app" : "Back to the app"}
        </Link>
      </p>
    </section>
  );
}

const signedIn = (user: PublicUser) => `You are signed in as ${user.email}.`;

export function VerifyEmailPage({ token }: { token: string | null }) {
  const email = useEmailActions();
  return (
    <LinkPage
      title="Verify your email address"
      token={token}
      intro="Confirm that this address is yours. This signs you in on this browser."
      button="Verify"
      testId="verify-email"
      act={async (t) => `Your address is verified. ${signedIn(await email.verifyEmail(t))}`}
      afterMfa={(user) => `Your address is verified. ${signedIn(user)}`}
    />
  );
}

export function ResetPasswordPage({ token }: { token: string | null }) {
  const email = useEmailActions();
  return (
    <LinkPage
      title="Choose a new password"
      token={token}
      intro="Every other device signed in to this account will be signed out."
      button="Set new password"
      testId="reset-password"
      fields={
        <label>
          New password
          <input name="password" type="password" autoComplete="new-password" required minLength={8} data-testid="new-password" />
        </label>
      }
      act={async (t, form) => {
        const user = await email.resetPassword({ token: t, newPassword: String(form.get("password")) });
        return `Password changed; every other session has been signed out. ${signedIn(user)}`;
      }}
      afterMfa={(user) => `Password changed; every other session has been signed out. ${signedIn(user)}`}
    />
  );
}

export function ConfirmEmailPage({ token }: { token: string | null }) {
  const email = useEmailActions();
  return (
    <LinkPage
      title="Confirm your new email address"
      token={token}
      intro="Your account moves to this address once you confirm."
      button="Confirm new address"
      testId="confirm-email"
      act={async (t) => `Your account's address is now ${(await email.confirmEmailChange(t)).email}.`}
    />
  );
}

export function SignInLinkPage({ token }: { token: string | null }) {
  const email = useEmailActions();
  return (
    <LinkPage
      title="Sign in with your link"
      token={token}
      intro="Sign in on this browser, no password needed. The link works once."
      button="Sign in"
      testId="sign-in-with-link"
      act={async (t) => signedIn(await email.signInWithLink(t))}
    />
  );
}
