import { isAuthError } from "@hush/client";
import { useMfaActions, useProviderActions } from "@hush/react";
import { createContext, type FormEvent, type ReactNode, useCallback, useContext, useEffect, useState } from "react";
import { CANCELLED, errorText } from "./errors.js";

// Sensitive operations (passkeys, the authenticator app, recovery codes) answer
// `403 reauthentication_required` when the sign-in is older than the server's window, or — for a
// user with a second factor — when it did not use that factor. Resource servers may ask for a
// stronger sign-in too (RFC 9470 step-up). Either way the app asks the user to prove it is them
// (password, authenticator code or passkey), then retries the operation.

/** What the prompt asks: `stepUp` hides the password (a password alone never satisfies a step-up). */
interface Ask {
  stepUp: boolean;
  hint: string | null;
  resolve: () => void;
  reject: (error: Error) => void;
}

type Prompt = (stepUp: boolean, hint: string | null) => Promise<void>;

const PromptContext = createContext<Prompt | null>(null);

/** Renders the re-authentication prompt when an operation below asks for one. */
export function ReauthProvider({ children }: { children: ReactNode }) {
  const [ask, setAsk] = useState<Ask | null>(null);
  const prompt = useCallback<Prompt>(
    (stepUp, hint) =>
      new Promise<void>((resolve, reject) => {
        setAsk({ stepUp, hint, resolve, reject });
      }),
    [],
  );
  return (
    <PromptContext.Provider value={prompt}>
      {children}
      {ask && <ReauthPrompt ask={ask} close={() => setAsk(null)} />}
    </PromptContext.Provider>
  );
}

function usePrompt(): Prompt {
  const prompt = useContext(PromptContext);
  if (!prompt) throw new Error("useReauth and useStepUp need a <ReauthProvider> above them");
  return prompt;
}

/**
 * `withReauth(operation)`: runs it, and when it answers `reauthentication_required`, prompts the
 * user to sign in again and retries it. Rejects with `CANCELLED` when the user closes the prompt.
 */
export function useReauth(): <T>(operation: () => Promise<T>) => Promise<T> {
  const prompt = usePrompt();
  return useCallback(
    async <T,>(operation: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await operation();
        } catch (error) {
          if (!isAuthError(error) || error.code !== "reauthentication_required" || attempt === 3) throw error;
          // The server says what it needs: a recent sign-in, or one with the second factor the
          // user has (then a password is not enough, and the prompt comes back).
          await prompt(false, error.message);
        }
      }
    },
    [prompt],
  );
}

/** `stepUp(hint)`: prompts for a second factor (code or passkey); resolves once the session has one. */
export function useStepUp(): (hint: string) => Promise<void> {
  const prompt = usePrompt();
  return useCallback((hint: string) => prompt(true, hint), [prompt]);
}

/** The prompt: a password, an authenticator code (when the user has the app), or a passkey. */
function ReauthPrompt({ ask, close }: { ask: Ask; close: () => void }) {
  const mfa = useMfaActions();
  const [totp, setTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    mfa.mfaStatus().then(
      (status) => setTotp(status.totp),
      () => setTotp(false),
    );
  }, [mfa]);

  async function prove(proof: Parameters<typeof mfa.reauthenticate>[0]) {
    setBusy(true);
    setError(null);
    try {
      await mfa.reauthenticate(proof);
      close();
      ask.resolve();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  function submit(field: "password" | "code") {
    return (event: FormEvent<HTMLFormElement>) => {
      event.preventDefault();
      const value = String(new FormData(event.currentTarget).get(field));
      void prove(field === "password" ? { password: value } : { code: value.trim() });
    };
  }

  function cancel() {
    close();
    ask.reject(CANCELLED);
  }

  return (
    <div className="backdrop">
      <section className="card reauth" role="dialog" aria-modal="true" aria-labelledby="reauth-title" data-testid="reauth">
        <h2 id="reauth-title">{ask.stepUp ? "Verify it's you, with a second factor" : "Confirm it's you"}</h2>
        <p className="hint" data-testid="reauth-hint">
          {ask.hint ?? "This operation needs a recent sign-in."}
        </p>
        {!ask.stepUp && (
          <form onSubmit={submit("password")}>
            <input
              name="password"
              type="password"
              placeholder="Your password"
              autoComplete="current-password"
              required
              data-testid="reauth-password"
            />
            <button type="submit" disabled={busy} data-testid="reauth-password-submit">
              Confirm with password
            </button>
          </form>
        )}
        {totp && (
          <form onSubmit={submit("code")}>
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              placeholder="Code from your authenticator app"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              data-testid="reauth-code"
            />
            <button type="submit" disabled={busy} data-testid="reauth-code-submit">
              Confirm with code
            </button>
          </form>
        )}
        <div className="actions">
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => void prove({ passkey: true })}
            data-testid="reauth-passkey"
          >
            Use a passkey
          </button>
          {!ask.stepUp && <AgainWithProvider disabled={busy} />}
          <button type="button" className="link" onClick={cancel} data-testid="reauth-cancel">
            Cancel
          </button>
        </div>
        {error && (
          <p className="error" role="alert" data-testid="reauth-error">
            {error}
          </p>
        )}
      </section>
    </div>
  );
}

/**
 * For an account that signs in with a provider (and may have no password): a fresh sign-in with
 * one of its linked providers is a recent sign-in too. It leaves the page; retry the operation after.
 */
function AgainWithProvider({ disabled }: { disabled: boolean }) {
  const providers = useProviderActions();
  const [linked, setLinked] = useState<{ name: string; label: string }[]>([]);
  useEffect(() => {
    Promise.all([providers.listIdentities(), providers.listProviders()]).then(
      ([identities, configured]) => setLinked(configured.filter(({ name }) => identities.some((identity) => identity.provider === name))),
      () => setLinked([]),
    );
  }, [providers]);
  return (
    <>
      {linked.map(({ name, label }) => (
        <button
          key={name}
          type="button"
          className="secondary"
          disabled={disabled}
          onClick={() => providers.loginWithProvider(name, { returnTo: location.pathname })}
          data-testid={`reauth-provider-${name}`}
        >
          Sign in again with {label}
        </button>
      ))}
    </>
  );
}
