import { configFromEnv } from "../config/env-config.js";
import { createAuthServer } from "../create-auth-server.js";
import { internalsOf } from "../internals.js";
import { listen } from "../node/listen.js";
import type { Command } from "./command.js";

export const serveCommand: Command = {
  summary: "start the auth server",
  help: `Usage: hush serve

Starts the auth server on node:http. Configuration comes from environment variables:
PORT, HOST, HUSH_DATABASE_URL, HUSH_SECRET, HUSH_ISSUER, HUSH_AUDIENCE, HUSH_ACCESS_TTL,
HUSH_REFRESH_TTL, HUSH_REFRESH_IDLE_TTL, HUSH_REFRESH_MODE, HUSH_REUSE_GRACE, HUSH_SIGNING_ALG,
HUSH_ALLOWED_ORIGINS, HUSH_COOKIE_SAMESITE, HUSH_PASSWORD_MIN_LENGTH, HUSH_RATE_LIMITS,
HUSH_LOG_LEVEL (see the README's configuration table). Stops cleanly on SIGINT and SIGTERM.`,
  async run(_args, io) {
    const { listen: where, options } = configFromEnv(io.env, (message) => io.err(`warning: ${message}`));
    const server = await createAuthServer(options);
    const listening = await listen(server, where.port, where.host);
    io.out(`hush: listening on ${listening.url} (issuer ${internalsOf(server).options.issuer})`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await listening.close();
    await server.close();
    return 0;
  },
};
