import type { Command } from "./command.js";
import { openServerFromEnv } from "./open-server.js";

export const migrateCommand: Command = {
  summary: "create or update the database schema",
  help: `Usage: hush migrate

Brings the database named by HUSH_DATABASE_URL up to the current schema. The server also does
this on every start; run it on its own before rolling out a new version to several instances.`,
  async run(_args, io) {
    const server = await openServerFromEnv(io);
    await server.close();
    io.out("hush: database is up to date");
    return 0;
  },
};
