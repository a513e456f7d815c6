import { createHushNext } from "@hush/next";
import type { AuthServer } from "@hush/server";

/**
 * One auth server per process, mounted in the app (`app/auth/[...hush]/route.ts`), so pages,
 * API and Hush share one origin and its `__Host-` cookie. Next evaluates this module once per
 * bundle (proxy, route handlers, pages): the server is imported at run time, unbundled (it
 * opens files and a native SQLite driver), and kept on `globalThis`, so every bundle gets the
 * same one.
 */
const slot = globalThis as { hushAuthServer?: Promise<AuthServer> };

function authServer(): Promise<AuthServer> {
  if (!slot.hushAuthServer) {
    slot.hushAuthServer = (async () => {
      const { configFromEnv, createAuthServer } = await import(/* turbopackIgnore: true */ /* webpackIgnore: true */ "@hush/server");
      return createAuthServer(configFromEnv(process.env, (message) => console.warn(`hush: ${message}`)).options);
    })();
    // One that failed to start (a bad setting, a database down) is tried again at the next request.
    slot.hushAuthServer.catch(() => {
      slot.hushAuthServer = undefined;
    });
  }
  return slot.hushAuthServer;
}

const issuer = process.env.HUSH_ISSUER ?? "http://localhost:3000";

export const hush = createHushNext({ auth: authServer, issuer, audience: process.env.HUSH_AUDIENCE?.split(",") ?? "hush" });
