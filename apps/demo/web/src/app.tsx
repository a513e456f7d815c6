import { useAuth } from "@hush/react";
import { Account } from "./account.js";
import { Notes } from "./notes.js";
import { Sessions } from "./sessions.js";
import { SignIn } from "./sign-in.js";
import { Timeline } from "./timeline.js";

export function App() {
  const { state, user, logout, logoutAll } = useAuth();
  return (
    <div className="page">
      <header>
        <h1>
          Hush <span>demo</span>
        </h1>
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
      </header>
      <main>
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
      </main>
    </div>
  );
}
