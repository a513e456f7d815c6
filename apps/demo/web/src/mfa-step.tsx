import type { PublicUser } from "@hush/client";
import { isAuthError } from "@hush/client";
import type { MfaChallenge } from "@hush/client/mfa";
import { useMfaActions } from "@hush/react";
import { type FormEvent, useState } from "react";
import { errorText } from "./errors.js";

/**
 * The second step of a sign-in that answered `mfa_required` (a password, a reset or emailed
 * link, a passkey without user verification): a code of the authenticator app, or a recovery code.
 */
export function MfaStep({
  challenge,
  onDone,
  onCancel,
}: {
  challenge: MfaChallenge;
  onDone?: (user: PublicUser) => void;
  onCancel: () => void;
}) {
  const mfa = useMfaActions();
  const offersTotp = challenge.methods.includes("totp");
  const offersRecovery = challenge.methods.includes("recovery_code");
  const [recovery, setRecovery] = useState(!offersTotp && offersRecovery);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [dead, setDead] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget).get("code")).trim();
    setBusy(true);
    setError(null);
    try {
      const user = await mfa.verifyMfa(challenge.mfaToken, recovery ? { recoveryCode: value } : { code: value });
      onDone?.(user);
    } catch (e) {
      setError(errorText(e));
      // A used, expired or exhausted token can only be replaced by signing in again.
      if (isAuthError(e) && e.code === "invalid_mfa_token") setDead(true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="mfa-step" data-testid="mfa-step">
      <h3>Two-factor authentication</h3>
      {!dead && (
        <form onSubmit={submit}>
          {recovery ? (
            <label>
              Recovery code
              <input
                key="recovery"
                name="code"
                autoComplete="off"
                autoCapitalize="off"
                spellCheck={false}
                required
                data-testid="mfa-recovery-code"
              />
            </label>
          ) : (
            <label>
              Code from your authenticator app
              <input
                key="totp"
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                data-testid="mfa-code"
              />
            </label>
          )}
          <button type="submit" disabled={busy} data-testid="mfa-submit">
            Verify
          </button>
        </form>
      )}
      {error && (
        <p className="error" role="alert" data-testid="mfa-error">
          {error}
        </p>
      )}
      <div className="links">
        {!dead && offersTotp && offersRecovery && (
          <button type="button" className="link" onClick={() => setRecovery(!recovery)} data-testid="use-recovery-code">
            {recovery ? "Use a code from the app" : "Use a recovery code instead"}
          </button>
        )}
        <button type="button" className="link" onClick={onCancel} data-testid="mfa-cancel">
          Back to sign in
        </button>
      </div>
    </div>
  );
}
