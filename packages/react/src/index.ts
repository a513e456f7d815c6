export type { EmailActions } from "@hush/client/email";
export type { UseAuth } from "./auth-provider.js";
export { AuthProvider, useAuth, useAuthFetch, useEmailActions } from "./auth-provider.js";
