export type { UseAuth } from "./auth-provider.js";
export { AuthProvider, useAuth, useAuthFetch } from "./auth-provider.js";
