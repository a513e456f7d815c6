import type { MfaChallenge } from "@hush/client/mfa";
import type { ProviderResult } from "@hush/client/providers";
import { useAuth } from "@hush/react";
import { useState } from "react";
import { Account, VerifyBanner } from "./account.js";
import { config } from "./config.js";
import { ConfirmEmailPage, ResetPasswordPage, SignInLinkPage, VerifyEmailPage } from "./link-pages.js";
import { Mailbox } from "./mailbox.js";
import { Notes } from "./notes.js";
import { ProviderNotice } from "./providers.js";
import { ReauthProvider } from "./reauth.js";
import { Link, usePath } from "./router.js";
import { SecretNotes } from "./secret-notes.js";
import { Security } from "./security.js";
import { Sessions } from "./sessions.js";
import { SignIn } from "./sign-in.js";
import { Timeline } from "./timeline.js";

/**
 * `linkToken`: the token of the emailed link this page was opened with; `providerResult`: what a
 * provider sign-in came back with. Both read at load (main.tsx).
 */
export function App({ linkToken, providerResult }: { linkToken: string | null; providerResult: ProviderResult | null }) {
  const { state, user, logout, logoutAll } = useAuth();
  const path = usePath();
  const [providerError, setProviderError] = useState(providerResult && "error" in providerResult ? providerResult.error : null);
  // A provider sign-in for an account with a second factor: the sign-in form opens on its second
  // step, once (the token is single-use). The methods are those of every mfa_required.
  const [providerMfa, setProviderMfa] = useState<MfaChallenge | null>(
    providerResult && "mfaToken" in providerResult ? { mfaToken: providerResult.mfaToken, methods: ["totp", "recovery_code"] } : null,
  );
  return (
    <div className="page">
      <header>
        <div className="top">
          <h1>
            <Link to="/">
              Hush <span>demo</span>
            </Link>
          </h1>
          {config.devMailbox && (
            <Link to="/dev/mailbox" testId="dev-mailbox-link">
              Dev mailbox
            </Link>
          )}
        </div>
        <p className="tagline">Access token in memory, refresh token in an HttpOnly cookie, silent refresh you can watch.</p>
        {state === "authenticated" && user && (
          <div className="who" data-testid="who">
            Signed in as <strong>{user.email}</strong>
            {/* An unconfirmed logout still signs out; the timeline shows its error while it is retried. */}
            <button type="button" onClick={() => void logout().catch(() => undefined)} data-testid="logout">
              Sign out
            </button>
            <button type="button" className="secondary" onClick={() => void logoutAll()} data-testid="logout-all">
              Sign out everywhere
            </button>
          </div>
        )}
        {state === "authenticated" && <VerifyBanner />}
      </header>
      <main>
        {providerError && <ProviderNotice code={providerError} onDismiss={() => setProviderError(null)} />}
        <ReauthProvider>
          <Page path={path} linkToken={linkToken} providerMfa={providerMfa} takeProviderMfa={() => setProviderMfa(null)} />
        </ReauthProvider>
      </main>
    </div>
  );
}

function Page({
  path,
  linkToken,
  providerMfa,
  takeProviderMfa,
}: {
  path: string;
  linkToken: string | null;
  providerMfa: MfaChallenge | null;
  takeProviderMfa: () => void;
}) {
  const { state } = useAuth();
  switch (path) {
    case "/verify-email":
      return <VerifyEmailPage token={linkToken} />;
    case "/reset-password":
      return <ResetPasswordPage token={linkToken} />;
    case "/confirm-email":
      return <ConfirmEmailPage token={linkToken} />;
    case "/sign-in-link":
      return <SignInLinkPage token={linkToken} />;
    case "/dev/mailbox":
      if (config.devMailbox) return <Mailbox />;
  }
  return (
    <>
      {/* While the silent refresh on load runs, show neither the form nor the app: no flash. */}
      {state === "loading" && (
        <p className="loading" data-testid="loading">
          Checking your session…
        </p>
      )}
      {state === "anonymous" && <SignIn pendingChallenge={providerMfa} takePendingChallenge={takeProviderMfa} />}
      {state === "authenticated" && (
        <div className="grid">
          <Notes />
          <SecretNotes />
          <Sessions />
          <Security />
          <Account />
        </div>
      )}
      <Timeline />
    </>
  );
}
