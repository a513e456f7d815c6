import { useAuth } from "@hush/react";
import { Account, VerifyBanner } from "./account.js";
import { config } from "./config.js";
import { ConfirmEmailPage, ResetPasswordPage, SignInLinkPage, VerifyEmailPage } from "./link-pages.js";
import { Mailbox } from "./mailbox.js";
import { Notes } from "./notes.js";
import { Link, usePath } from "./router.js";
import { Sessions } from "./sessions.js";
import { SignIn } from "./sign-in.js";
import { Timeline } from "./timeline.js";

/** `linkToken`: the token of the emailed link this page was opened with, read at load (main.tsx). */
export function App({ linkToken }: { linkToken: string | null }) {
  const { state, user, logout, logoutAll } = useAuth();
  const path = usePath();
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
        <Page path={path} linkToken={linkToken} />
      </main>
    </div>
  );
}

function Page({ path, linkToken }: { path: string; linkToken: string | null }) {
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
      {state === "anonymous" && <SignIn />}
      {state === "authenticated" && (
        <div className="grid">
          <Notes />
          <Sessions />
          <Account />
        </div>
      )}
      <Timeline />
    </>
  );
}
