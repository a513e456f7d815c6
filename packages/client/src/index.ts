export type { PublicUser } from "@hush/protocol";
export type { AuthClient, AuthState } from "./auth-client.js";
export type { AuthErrorCode, ClientErrorCode } from "./auth-error.js";
export { AuthError, isAuthError } from "./auth-error.js";
export type { AuthClientOptions } from "./client-options.js";
export { createAuthClient } from "./create-auth-client.js";
export type { AuthEvent, Listener } from "./events.js";
