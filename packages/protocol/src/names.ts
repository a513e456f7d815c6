/** Name of the refresh cookie when the issuer is `https:` or a loopback host (browsers treat both as secure). */
export const REFRESH_COOKIE_HOST_NAME = "__Host-hush_rt";
/** Name of the refresh cookie for any other plain-`http:` issuer, where `__Host-` would be refused. */
export const REFRESH_COOKIE_PLAIN_NAME = "hush_rt";
/**
 * Name of the script-readable hint set and cleared with the refresh cookie (value `1`, no
 * secret): a page without it has no session, and the browser client skips its load-time refresh.
 * The server never reads it.
 */
export const SESSION_HINT_COOKIE_NAME = "hush_session";

/** Request header every cookie endpoint requires (value `1`); it forces a CORS preflight cross-site. */
export const CSRF_HEADER = "x-hush-csrf";
/** Response header that carries a new access token after a server-assisted refresh (docs/api.md, server.protect). */
export const ACCESS_TOKEN_HEADER = "x-access-token";

/** JOSE `typ` of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = "at+jwt";
/** JOSE `typ` of stateless refresh tokens; never accepted where an access token is expected. */
export const REFRESH_TOKEN_TYPE = "rt+jwt";
/** JOSE `typ` of the signed revocation list served at `GET /auth/revocations`. */
export const REVOCATION_LIST_TYPE = "rl+jwt";

/** `client_id` claim of access tokens issued to the browser client. */
export const DEFAULT_CLIENT_ID = "hush-web";

/** Paths of the HTTP API (docs/api.md, HTTP API). */
export const PATHS = {
  signup: "/auth/signup",
  login: "/auth/login",
  refresh: "/auth/refresh",
  logout: "/auth/logout",
  logoutAll: "/auth/logout-all",
  me: "/auth/me",
  sessions: "/auth/sessions",
  password: "/auth/password",
  emailVerification: "/auth/email/verification",
  emailVerify: "/auth/email/verify",
  passwordForgot: "/auth/password/forgot",
  passwordReset: "/auth/password/reset",
  emailChange: "/auth/email/change",
  emailChangeConfirm: "/auth/email/change/confirm",
  signInLink: "/auth/signin-link",
  signInLinkVerify: "/auth/signin-link/verify",
  account: "/auth/account",
  passkeys: "/auth/passkeys",
  passkeyRegisterOptions: "/auth/passkeys/register/options",
  passkeyRegister: "/auth/passkeys/register",
  passkeyLoginOptions: "/auth/passkeys/login/options",
  passkeyLogin: "/auth/passkeys/login",
  mfa: "/auth/mfa",
  totpSetup: "/auth/mfa/totp/setup",
  totpEnable: "/auth/mfa/totp/enable",
  totpDisable: "/auth/mfa/totp/disable",
  recoveryCodes: "/auth/mfa/recovery-codes",
  mfaVerify: "/auth/mfa/verify",
  reauthenticate: "/auth/reauthenticate",
  oauth: "/auth/oauth",
  oauthProviders: "/auth/oauth/providers",
  identities: "/auth/identities",
  jwks: "/.well-known/jwks.json",
  revocations: "/auth/revocations",
  health: "/health",
  openapi: "/auth/openapi.json",
  metrics: "/metrics",
} as const;

/**
 * Order of the P-256 group. ECDSA is malleable — (r, n − s) verifies whenever (r, s) does — so
 * Hush signs ES256 in low-s form (s ≤ n / 2) and its verifier accepts only that form: each
 * token has exactly one valid spelling.
 */
export const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
