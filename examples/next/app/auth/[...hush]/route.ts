import { hush } from "../../../lib/hush";

// The whole auth server, on this app's origin: /auth/login, /auth/refresh, /.well-known is not
// under /auth, so the verifier reads the keys in process (lib/hush.ts).
export const { GET, POST, PUT, PATCH, DELETE, OPTIONS } = hush.handlers;
