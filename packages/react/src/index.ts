export type { EmailActions } from "@hush/client/email";
export type { MfaActions } from "@hush/client/mfa";
export type { ProviderActions } from "@hush/client/providers";
export type { UseAuth } from "./auth-provider.js";
export { AuthProvider, useAuth, useAuthFetch, useEmailActions, useMfaActions, useProviderActions } from "./auth-provider.js";
