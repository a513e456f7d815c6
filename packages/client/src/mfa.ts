import type { PublicUser } from "@hush/protocol";
import type { AuthClient } from "./auth-client.js";
import { AuthError, isAuthError } from "./auth-error.js";
import { internals } from "./client-internals.js";
import { entryRequest } from "./entry-request.js";
import { fieldOf, stringFieldOf } from "./json-guards.js";
import { type CeremonyOptions, createPasskey, getPasskey, isCreationOptions, isRequestOptions } from "./passkey-ceremony.js";

export type { PasskeyErrorCode } from "./passkey-ceremony.js";

// `@hush/client/mfa`: passkeys, two-factor authentication with an authenticator app (TOTP) and
// recovery codes, and re-authentication, kept out of the core entry point. The WebAuthn calls go
// through `@simplewebauthn/browser`, loaded only when a passkey function runs.

/** A passkey of the signed-in user, as the auth server lists it (times are ISO 8601). */
export interface Passkey {
  /** The credential id (base64url): what `removePasskey` takes. */
  id: string;
  /** The name the user gave it ("Laptop"), or the server's default. */
  name: string;
  createdAt: string;
  /** The last sign-in or re-authentication with it, or null when never used. */
  lastUsedAt: string | null;
  /** Whether the authenticator backs it up (a passkey synced across devices). */
  backedUp: boolean;
}

/** A pending authenticator-app enrolment: show `secret` (and a QR code of `otpauthUrl`), then `enableTotp` with a code. */
export interface TotpSetup {
  /** The shared secret, base32: for typing into an authenticator app. */
  secret: string;
  /** The `otpauth://totp/…` URL the app scans (as a QR code). */
  otpauthUrl: string;
}

/** The signed-in user's second factors, for a security page. */
export interface MfaStatus {
  /** An authenticator app (TOTP) is enabled. */
  totp: boolean;
  /** Unused recovery codes left (0 without TOTP). */
  recoveryCodesLeft: number;
}

/** What a `403 mfa_required` answer carries: the token to finish the sign-in with, and the ways to prove the second factor. */
export interface MfaChallenge {
  /** Single-use, five minutes, dead after five wrong codes (`invalid_mfa_token` then: sign in again). */
  mfaToken: string;
  /** `"totp"`, `"recovery_code"` … as the server offers them. */
  methods: string[];
}

/** A second factor's proof: a code of the authenticator app, or one of the recovery codes. */
export type MfaProof = { code: string } | { recoveryCode: string };

/** What proves a recent sign-in: the password, a code of the authenticator app, a recovery code, or a passkey (the browser prompts). */
/** What re-authentication may use; a password together with a code is two factors (`amr` holds `mfa`). */
export type ReauthProof = { password: string } | MfaProof | ({ password: string } & MfaProof) | { passkey: true };

/**
 * The passkey and two-factor calls of one client: see `mfaActions`. Every rejection is an
 * `AuthError` — of the server (`invalid_code`, `invalid_mfa_token`, `invalid_passkey`,
 * `reauthentication_required`, `mfa_required` …) or, for the browser's side of a passkey, a
 * `PasskeyErrorCode` (`passkey_cancelled` …) — or a network `TypeError`.
 */
export interface MfaActions {
  /**
   * Creates a passkey for the signed-in user (the browser prompts) and saves it under `name`.
   * Needs a recent sign-in: `reauthentication_required` otherwise (`reauthenticate`, then retry).
   */
  registerPasskey(name?: string): Promise<Passkey>;
  /**
   * Signs this browser in with a passkey, as `login` does. `conditional`: through the autofill of
   * the page's `<input autocomplete="username webauthn">` instead of a modal prompt — start it at
   * page load, and abort it with `signal` when the user signs in another way. Rejects with
   * `mfa_required` for a passkey without user verification when the account has a second factor.
   */
  loginWithPasskey(options?: { conditional?: boolean; signal?: AbortSignal }): Promise<PublicUser>;
  /** The signed-in user's passkeys, newest first as the server orders them. */
  listPasskeys(): Promise<Passkey[]>;
  /** Removes one of the user's passkeys; needs a recent sign-in (with a second factor when the user has one). */
  removePasskey(id: string): Promise<void>;
  /** Starts an authenticator-app enrolment (pending until `enableTotp`); needs a recent sign-in. */
  setupTotp(): Promise<TotpSetup>;
  /** Enables the pending authenticator app with one of its codes; resolves with ten recovery codes, to show this once. */
  enableTotp(code: string): Promise<string[]>;
  /**
   * Disables the authenticator app with one of its codes (six digits; spaces are ignored) or a
   * recovery code (anything else); the recovery codes go with it.
   */
  disableTotp(code: string): Promise<void>;
  /** Ten new recovery codes, to show this once; the old ones stop working. */
  regenerateRecoveryCodes(): Promise<string[]>;
  /** Whether the user has an authenticator app, and how many recovery codes are left. */
  mfaStatus(): Promise<MfaStatus>;
  /**
   * Finishes a sign-in that answered `mfa_required` (`login`, a passkey, a reset or emailed link):
   * `mfaToken` comes from `mfaChallengeOf(error)`. Signs this browser in as `login` does.
   */
  verifyMfa(mfaToken: string, proof: MfaProof): Promise<PublicUser>;
  /**
   * Proves a recent sign-in for this session (a fresh `auth_time`; the session and its cookie
   * stay): the answer to `reauthentication_required`, or to a step-up a resource server asks for.
   * The new access token's `amr` names only the method just used.
   */
  reauthenticate(proof: ReauthProof): Promise<PublicUser>;
}

const isPasskey = (value: unknown): value is Passkey =>
  ["id", "name", "createdAt"].every((key) => stringFieldOf(value, key) !== undefined) &&
  (fieldOf(value, "lastUsedAt") === null || stringFieldOf(value, "lastUsedAt") !== undefined) &&
  typeof fieldOf(value, "backedUp") === "boolean";

const isPasskeyList = (value: unknown): value is Passkey[] => Array.isArray(value) && value.every(isPasskey);

const isCodeList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((code) => typeof code === "string");

const isTotpSetup = (value: unknown): value is TotpSetup =>
  stringFieldOf(value, "secret") !== undefined && stringFieldOf(value, "otpauthUrl") !== undefined;

const isMfaStatus = (value: unknown): value is MfaStatus =>
  typeof fieldOf(value, "totp") === "boolean" && Number.isInteger(fieldOf(value, "recoveryCodesLeft"));

/** A typed code as the server takes it: six digits (spaces dropped) are an app's code, anything else a recovery code. */
function proofOf(typed: string): MfaProof {
  const digits = typed.replace(/\s/g, "");
  return /^\d{6}$/.test(digits) ? { code: digits } : { recoveryCode: typed.trim() };
}

/** Exactly one proof, whatever else the object holds. */
const oneProof = (proof: MfaProof): MfaProof => ("code" in proof ? { code: proof.code } : { recoveryCode: proof.recoveryCode });

/**
 * The `mfaToken` and `methods` of an `mfa_required` rejection (of `login`, `loginWithPasskey`,
 * `resetPassword`, `verifyEmail`, `signInWithLink` …), or null for any other error.
 *
 * @example
 * try {
 *   await auth.login({ email, password });
 * } catch (error) {
 *   const challenge = mfaChallengeOf(error);
 *   if (!challenge) throw error;
 *   showCodeField(); // then: await mfa.verifyMfa(challenge.mfaToken, { code })
 * }
 */
export function mfaChallengeOf(error: unknown): MfaChallenge | null {
  if (!isAuthError(error) || error.code !== "mfa_required") return null;
  const mfaToken = stringFieldOf(error.details, "mfaToken");
  const methods = fieldOf(error.details, "methods");
  if (mfaToken === undefined) return null;
  return { mfaToken, methods: Array.isArray(methods) ? methods.filter((method) => typeof method === "string") : [] };
}

/**
 * The passkey, two-factor and re-authentication calls of `client`, which must come from
 * `createAuthClient` (of this copy of the package).
 *
 * @example
 * const mfa = mfaActions(client);
 * // On the sign-in page, at load: offer the user's passkeys in the email field's autofill.
 * const typing = new AbortController();
 * mfa.loginWithPasskey({ conditional: true, signal: typing.signal }).then(showApp, ignoreCancelled);
 * passwordForm.onsubmit = () => typing.abort(); // signing in another way
 */
export function mfaActions(client: AuthClient): MfaActions {
  const hooks = internals.get(client);
  if (!hooks) throw new TypeError("mfaActions() needs a client made by createAuthClient() of the same @hush/client");
  const { base, signIn, take } = hooks;

  const call = entryRequest(client, base);

  /** The answer's JSON (its `key` field, when given) once `guard` accepts it; `unavailable` otherwise. */
  async function read<T>(response: Response, guard: (value: unknown) => value is T, key?: string): Promise<T> {
    const body: unknown = await response.json().catch(() => undefined);
    const value = key === undefined ? body : fieldOf(body, key);
    if (!guard(value)) throw new AuthError("unavailable", "The auth server's answer is not what this call expects.", response.status);
    return value;
  }

  /** Fresh request options for a passkey sign-in or re-authentication, with their challenge's id. */
  async function requestOptions() {
    const response = await call("POST", "/passkeys/login/options");
    const body: unknown = await response.json().catch(() => undefined);
    const optionsJSON = fieldOf(body, "options");
    const challengeId = stringFieldOf(body, "challengeId");
    if (!isRequestOptions(optionsJSON) || challengeId === undefined)
      throw new AuthError("unavailable", "The auth server's answer has no passkey options.", response.status);
    return { optionsJSON, carry: challengeId };
  }

  /** A passkey assertion for a fresh challenge: what a passkey sign-in and re-authentication send. */
  async function assertion(init: CeremonyOptions & { conditional?: boolean | undefined }) {
    const { response, carry } = await getPasskey(requestOptions, init);
    return { challengeId: carry, response };
  }

  const codes = async (path: string, body?: object) => read(await call("POST", path, body, true), isCodeList, "recoveryCodes");

  return {
    async registerPasskey(name) {
      const response = await createPasskey(async () =>
        read(await call("POST", "/passkeys/register/options", undefined, true), isCreationOptions, "options"),
      );
      return read(await call("POST", "/passkeys/register", name ? { response, name } : { response }, true), isPasskey, "passkey");
    },
    async loginWithPasskey({ conditional, signal } = {}) {
      return signIn("/passkeys/login", await assertion({ conditional, signal }));
    },
    async listPasskeys() {
      return read(await call("GET", "/passkeys", undefined, true), isPasskeyList, "passkeys");
    },
    async removePasskey(id) {
      await call("DELETE", `/passkeys/${encodeURIComponent(id)}`, undefined, true);
    },
    async setupTotp() {
      return read(await call("POST", "/mfa/totp/setup", undefined, true), isTotpSetup);
    },
    enableTotp: (code) => codes("/mfa/totp/enable", { code }),
    async disableTotp(code) {
      await call("POST", "/mfa/totp/disable", proofOf(code), true);
    },
    regenerateRecoveryCodes: () => codes("/mfa/recovery-codes"),
    async mfaStatus() {
      return read(await call("GET", "/mfa", undefined, true), isMfaStatus);
    },
    verifyMfa: (mfaToken, proof) => signIn("/mfa/verify", { mfaToken, ...oneProof(proof) }),
    async reauthenticate(proof) {
      const body =
        "passkey" in proof
          ? await assertion({})
          : "password" in proof
            ? { password: proof.password, ...("code" in proof || "recoveryCode" in proof ? oneProof(proof) : {}) }
            : oneProof(proof);
      return take(await call("POST", "/reauthenticate", body, true));
    },
  };
}
