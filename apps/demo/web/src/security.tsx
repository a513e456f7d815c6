import type { MfaStatus, Passkey, TotpSetup } from "@hush/client/mfa";
import { useMfaActions } from "@hush/react";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { renderSVG } from "uqr";
import { CANCELLED, errorText } from "./errors.js";
import { LinkedIdentities } from "./providers.js";
import { useReauth } from "./reauth.js";

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "never");

/** The security panel: passkeys, two-factor authentication with an authenticator app, and linked sign-in providers. */
export function Security() {
  return (
    <section className="card security" data-testid="security">
      <Passkeys />
      <AuthenticatorApp />
      <LinkedIdentities />
    </section>
  );
}

/** Runs `operation` (with the re-authentication prompt), reporting its failure in `setMessage`; resolves to whether it succeeded. */
function useGuarded(setMessage: (message: string | null) => void) {
  const withReauth = useReauth();
  return useCallback(
    async (operation: () => Promise<unknown>): Promise<boolean> => {
      setMessage(null);
      try {
        await withReauth(operation);
        return true;
      } catch (error) {
        setMessage(error === CANCELLED ? null : errorText(error));
        return false;
      }
    },
    [withReauth, setMessage],
  );
}

function Passkeys() {
  const mfa = useMfaActions();
  const [passkeys, setPasskeys] = useState<Passkey[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const guarded = useGuarded(setMessage);

  const load = useCallback(async () => {
    try {
      setPasskeys(await mfa.listPasskeys());
    } catch (error) {
      setMessage(errorText(error));
    }
  }, [mfa]);

  useEffect(() => {
    void load();
  }, [load]);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get("name")).trim();
    setBusy(true);
    if (await guarded(() => mfa.registerPasskey(name || undefined))) form.reset();
    setBusy(false);
    await load();
  }

  async function remove(id: string) {
    await guarded(() => mfa.removePasskey(id));
    await load();
  }

  return (
    <>
      <h2>Passkeys</h2>
      <p className="hint">Sign in with your fingerprint, face or device PIN instead of a password.</p>
      <ul data-testid="passkey-list">
        {passkeys.map((passkey) => (
          <li key={passkey.id} data-testid="passkey">
            <div>
              <strong data-testid="passkey-name">{passkey.name}</strong>
              <small>
                added {when(passkey.createdAt)} · last used {when(passkey.lastUsedAt)}
                {passkey.backedUp ? " · synced" : ""}
              </small>
            </div>
            <button type="button" className="secondary" onClick={() => void remove(passkey.id)} data-testid="remove-passkey">
              Remove
            </button>
          </li>
        ))}
      </ul>
      {passkeys.length === 0 && <p className="hint">No passkeys yet.</p>}
      <form onSubmit={add} className="inline">
        <input name="name" placeholder="Name, e.g. Laptop" maxLength={64} data-testid="passkey-name-input" />
        <button type="submit" disabled={busy} data-testid="add-passkey">
          Add a passkey
        </button>
      </form>
      {message && (
        <p className="error" role="alert" data-testid="passkey-message">
          {message}
        </p>
      )}
    </>
  );
}

function AuthenticatorApp() {
  const mfa = useMfaActions();
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const guarded = useGuarded(setMessage);

  const load = useCallback(async () => {
    try {
      setStatus(await mfa.mfaStatus());
    } catch (error) {
      setMessage(errorText(error));
    }
  }, [mfa]);

  useEffect(() => {
    void load();
  }, [load]);

  /** The submitted form's `code` field, the form reset. */
  function codeOf(event: FormEvent<HTMLFormElement>): string {
    event.preventDefault();
    const form = event.currentTarget;
    const code = String(new FormData(form).get("code")).trim();
    form.reset();
    return code;
  }

  async function enable(event: FormEvent<HTMLFormElement>) {
    const code = codeOf(event);
    if (await guarded(async () => setCodes(await mfa.enableTotp(code)))) setSetup(null);
    await load();
  }

  async function disable(event: FormEvent<HTMLFormElement>) {
    const code = codeOf(event);
    if (await guarded(() => mfa.disableTotp(code))) setCodes(null);
    await load();
  }

  return (
    <>
      <h2>Authenticator app</h2>
      {codes && (
        <div className="recovery" data-testid="recovery-codes">
          <p className="success">
            Save these recovery codes somewhere safe. Each signs you in once if you lose your phone; they are not shown again.
          </p>
          <ol>
            {codes.map((code) => (
              <li key={code}>
                <code data-testid="recovery-code">{code}</code>
              </li>
            ))}
          </ol>
          <button type="button" className="secondary" onClick={() => setCodes(null)} data-testid="recovery-codes-done">
            I have saved them
          </button>
        </div>
      )}
      {status && !status.totp && !setup && (
        <>
          <p className="hint" data-testid="mfa-status">
            Off. Add a second step to your sign-in: a code from an app such as Google Authenticator or 1Password.
          </p>
          <button type="button" onClick={() => void guarded(async () => setSetup(await mfa.setupTotp()))} data-testid="totp-setup">
            Set up an authenticator app
          </button>
        </>
      )}
      {setup && (
        <div className="totp-setup">
          <p className="hint">Scan this code with your authenticator app, or type the key in. Then enter the code it shows.</p>
          <img
            className="qr"
            alt="QR code of the authenticator key"
            src={`data:image/svg+xml;utf8,${encodeURIComponent(renderSVG(setup.otpauthUrl))}`}
            data-testid="totp-qr"
          />
          <p>
            Key: <code data-testid="totp-secret">{setup.secret}</code>
          </p>
          <p className="hint url" data-testid="totp-url">
            {setup.otpauthUrl}
          </p>
          <form onSubmit={enable} className="inline">
            <input
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              placeholder="6-digit code"
              required
              data-testid="totp-enable-code"
            />
            <button type="submit" data-testid="totp-enable">
              Enable
            </button>
          </form>
          <button type="button" className="link" onClick={() => setSetup(null)}>
            Cancel
          </button>
        </div>
      )}
      {status?.totp && (
        <>
          <p className="success" data-testid="mfa-status">
            On · {status.recoveryCodesLeft} recovery code{status.recoveryCodesLeft === 1 ? "" : "s"} left
          </p>
          <button
            type="button"
            className="secondary"
            onClick={() => void guarded(async () => setCodes(await mfa.regenerateRecoveryCodes())).then(load)}
            data-testid="regenerate-codes"
          >
            New recovery codes
          </button>
          <form onSubmit={disable} className="inline">
            <input name="code" autoComplete="one-time-code" placeholder="Code or recovery code" required data-testid="totp-disable-code" />
            <button type="submit" className="danger" data-testid="totp-disable">
              Turn off
            </button>
          </form>
        </>
      )}
      {message && (
        <p className="error" role="alert" data-testid="totp-message">
          {message}
        </p>
      )}
    </>
  );
}
