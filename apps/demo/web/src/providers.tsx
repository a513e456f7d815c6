import type { Identity, SignInProvider } from "@hush/client/providers";
import { useProviderActions } from "@hush/react";
import { useCallback, useEffect, useState } from "react";
import { CANCELLED, errorText, providerErrorText } from "./errors.js";
import { useReauth } from "./reauth.js";

// Sign-in with other providers (OpenID Connect): a button per provider the auth server is
// configured for (`GET /auth/oauth/providers`), and the linked identities on the security panel.
// Each sign-in or link is a full-page navigation to the provider and back.

/** The configured providers, asked once per page load (again after a failure). */
let asked: Promise<SignInProvider[]> | null = null;

/** The configured providers; empty while loading, when the server has none, or cannot be reached. */
function useSignInProviders(): SignInProvider[] {
  const providers = useProviderActions();
  const [list, setList] = useState<SignInProvider[]>([]);
  useEffect(() => {
    let live = true;
    asked ??= providers.listProviders();
    asked.then(
      (found) => live && setList(found),
      () => {
        asked = null;
        if (live) setList([]);
      },
    );
    return () => {
      live = false;
    };
  }, [providers]);
  return list;
}

/** "Sign in with …" buttons for the sign-in form. */
export function ProviderButtons({ disabled }: { disabled: boolean }) {
  const providers = useProviderActions();
  const list = useSignInProviders();
  if (list.length === 0) return null;
  return (
    <div className="providers" data-testid="providers">
      <span className="divider">or</span>
      {list.map(({ name, label }) => (
        <button
          key={name}
          type="button"
          className="secondary"
          disabled={disabled}
          onClick={() => providers.loginWithProvider(name, { returnTo: "/" })}
          data-testid={`provider-${name}`}
        >
          Sign in with {label}
        </button>
      ))}
    </div>
  );
}

/** What a provider sign-in came back with (`/sign-in#error=…`), until dismissed. */
export function ProviderNotice({ code, onDismiss }: { code: string; onDismiss: () => void }) {
  return (
    <div className="banner provider-notice" role="alert" data-testid="provider-error" data-code={code}>
      <span>{providerErrorText(code)}</span>
      <button type="button" className="link" onClick={onDismiss} data-testid="provider-error-dismiss">
        Dismiss
      </button>
    </div>
  );
}

const when = (iso: string) => new Date(iso).toLocaleString();

/** The security panel's section: linked provider accounts, unlink, and "Link …" per provider. */
export function LinkedIdentities() {
  const providers = useProviderActions();
  const withReauth = useReauth();
  const available = useSignInProviders();
  const [identities, setIdentities] = useState<Identity[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setIdentities(await providers.listIdentities());
    } catch (error) {
      setMessage(errorText(error));
    }
  }, [providers]);

  useEffect(() => {
    void load();
  }, [load]);

  async function guarded(operation: () => Promise<void>) {
    setBusy(true);
    setMessage(null);
    try {
      await withReauth(operation);
    } catch (error) {
      if (error !== CANCELLED) setMessage(errorText(error));
    } finally {
      setBusy(false);
    }
  }

  const labelOf = (name: string) => available.find((provider) => provider.name === name)?.label ?? name;

  if (available.length === 0 && identities.length === 0) return null;
  return (
    <div className="identities" data-testid="identities">
      <h2>Sign-in providers</h2>
      <p className="hint">Sign in with another account, without a password here.</p>
      <ul data-testid="identity-list">
        {identities.map((identity) => (
          <li key={identity.id} data-testid="identity" data-provider={identity.provider}>
            <div>
              <strong data-testid="identity-provider">{labelOf(identity.provider)}</strong>
              <small>
                <span data-testid="identity-email">{identity.email ?? ""}</span> · linked {when(identity.createdAt)}
              </small>
            </div>
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() => void guarded(() => providers.unlinkIdentity(identity.id)).then(load)}
              data-testid="unlink-identity"
            >
              Unlink
            </button>
          </li>
        ))}
      </ul>
      {identities.length === 0 && <p className="hint">No provider linked.</p>}
      <div className="link-buttons">
        {available.map(({ name, label }) => (
          <button
            key={name}
            type="button"
            disabled={busy}
            onClick={() => void guarded(() => providers.linkProvider(name))}
            data-testid={`link-provider-${name}`}
          >
            Link {label}
          </button>
        ))}
      </div>
      {message && (
        <p className="error" role="alert" data-testid="identity-message">
          {message}
        </p>
      )}
    </div>
  );
}
