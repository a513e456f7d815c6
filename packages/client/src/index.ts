export type { PublicUser } from "@hush/protocol";
export type { AuthErrorCode, ClientErrorCode } from "./auth-error.js";
export { AuthError, isAuthError } from "./auth-error.js";
export type { AuthClient, AuthClientOptions, AuthState } from "./create-auth-client.js";
export { createAuthClient } from "./create-auth-client.js";
export type { AuthEvent, Listener } from "./events.js";
