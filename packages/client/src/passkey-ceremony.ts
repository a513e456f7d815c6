import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/browser";
import { AuthError, isAuthError } from "./auth-error.js";
import { fieldOf, stringFieldOf } from "./json-guards.js";

// The browser half of a WebAuthn ceremony, through `@simplewebauthn/browser`. The library is
// loaded with a dynamic `import()` on the first passkey call only: an app that imports
// `@hush/client/mfa` and never touches a passkey does not download it, and the core entry point
// never references it at all.

/**
 * The codes a passkey ceremony rejects with when the browser, not the server, ended it (`status` 0;
 * each has a row in the client's README):
 * - `passkey_cancelled` — the prompt ended without a credential: the user dismissed it, it timed
 *   out, or it was aborted (its `signal`, or a newer ceremony). Browsers tell these apart on
 *   purpose as little as they can; an app usually just stays where it is.
 * - `passkey_unsupported` — this browser has no WebAuthn (or no passkey autofill, for a conditional sign-in).
 * - `passkey_failed` — the browser refused the ceremony otherwise (an authenticator that already
 *   holds a passkey for this account, an RP ID that does not match the page's host …); the
 *   browser's error is the `cause`.
 */
export type PasskeyErrorCode = "passkey_cancelled" | "passkey_unsupported" | "passkey_failed";

/** Creation options as the auth server sends them: the fields a ceremony cannot do without. */
export function isCreationOptions(value: unknown): value is PublicKeyCredentialCreationOptionsJSON {
  return (
    stringFieldOf(value, "challenge") !== undefined &&
    stringFieldOf(fieldOf(value, "rp"), "name") !== undefined &&
    stringFieldOf(fieldOf(value, "user"), "id") !== undefined &&
    Array.isArray(fieldOf(value, "pubKeyCredParams"))
  );
}

/** Request options as the auth server sends them: a challenge, at least. */
export function isRequestOptions(value: unknown): value is PublicKeyCredentialRequestOptionsJSON {
  return stringFieldOf(value, "challenge") !== undefined;
}

const fail = (code: PasskeyErrorCode, message: string, cause?: unknown) => Object.assign(new AuthError(code, message, 0), { cause });

/** The `AuthError` of a ceremony the browser ended: see `PasskeyErrorCode`. */
function ceremonyError(error: unknown): AuthError {
  if (isAuthError(error)) return error;
  // `@simplewebauthn/browser` names its `WebAuthnError` after the browser's `DOMException`.
  const name = error instanceof Error ? error.name : "";
  if (name === "AbortError" || name === "NotAllowedError")
    return fail("passkey_cancelled", "The passkey prompt was dismissed, timed out or cancelled.", error);
  return fail("passkey_failed", error instanceof Error ? error.message : "The browser refused the passkey ceremony.", error);
}

/** What a ceremony may be given: a signal that cancels it (and rejects with `passkey_cancelled`). */
export interface CeremonyOptions {
  signal?: AbortSignal | undefined;
}

/** Counts the ceremonies started here: an abort cancels the browser's prompt only while it is still this one's. */
let started = 0;

/**
 * Loads the library, checks that the browser can run the ceremony, fetches its options with
 * `options()` and runs it with `run`, cancelling it when `signal` aborts. Every failure of the
 * browser's side rejects with an `AuthError` of a `PasskeyErrorCode`; those of `options()` pass through.
 */
async function ceremony<O, R>(
  { signal }: CeremonyOptions,
  conditional: boolean,
  options: () => Promise<O>,
  run: (lib: typeof import("@simplewebauthn/browser"), options: O) => Promise<R>,
): Promise<R> {
  const lib = await import("@simplewebauthn/browser");
  const cancelled = () => fail("passkey_cancelled", "The passkey ceremony was aborted.", signal?.reason);
  if (!lib.browserSupportsWebAuthn() || (conditional && !(await lib.browserSupportsWebAuthnAutofill())))
    throw fail("passkey_unsupported", conditional ? "This browser has no passkey autofill." : "This browser does not support passkeys.");
  if (signal?.aborted) throw cancelled();
  const got = await options();
  if (signal?.aborted) throw cancelled();
  const mine = ++started;
  // The library aborts its previous ceremony whenever a new one starts: cancel only our own.
  const abort = () => mine === started && lib.WebAuthnAbortService.cancelCeremony();
  signal?.addEventListener("abort", abort);
  try {
    const result = await run(lib, got);
    // Aborted as the credential arrived: the caller has moved on, so the credential is not used.
    if (signal?.aborted) throw cancelled();
    return result;
  } catch (error) {
    throw ceremonyError(error);
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}

/** Creates a passkey with the creation options that `options()` fetches; resolves with the browser's attestation. */
export function createPasskey(
  options: () => Promise<PublicKeyCredentialCreationOptionsJSON>,
  init: CeremonyOptions = {},
): Promise<RegistrationResponseJSON> {
  return ceremony(init, false, options, (lib, optionsJSON) => lib.startRegistration({ optionsJSON }));
}

/**
 * Asks the browser for an assertion with the request options that `options()` fetches (with a
 * value to carry along, the challenge's id); `conditional`: through the autofill of an
 * `<input autocomplete="username webauthn">`, without a modal prompt.
 */
export function getPasskey<T>(
  options: () => Promise<{ optionsJSON: PublicKeyCredentialRequestOptionsJSON; carry: T }>,
  init: CeremonyOptions & { conditional?: boolean | undefined } = {},
): Promise<{ response: AuthenticationResponseJSON; carry: T }> {
  const conditional = init.conditional === true;
  return ceremony(init, conditional, options, async (lib, { optionsJSON, carry }) => ({
    response: await lib.startAuthentication({ optionsJSON, useBrowserAutofill: conditional }),
    carry,
  }));
}
