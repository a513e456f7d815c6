import { configFromEnv } from "../config/env-config.js";
import { settingsHelp } from "../config/settings.js";
import { createAuthServer } from "../create-auth-server.js";
import { internalsOf } from "../internals.js";
import { listen } from "../node/listen.js";
import type { Command } from "./command.js";

export const serveCommand: Command = {
  summary: "start the auth server",
  help: `Usage: hush serve

Starts the auth server on node:http and stops cleanly on SIGINT and SIGTERM. Configuration comes
from environment variables; a bad value stops start-up with one line naming the variable:

${settingsHelp()}`,
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
