import type { Command } from "./command.js";
import { openServicesFromEnv } from "./open-services.js";

export const migrateCommand: Command = {
  summary: "create or update the database schema",
  help: `Usage: hush migrate

Brings the database named by HUSH_DATABASE_URL up to the current schema. The server also does
this on every start; run it on its own before rolling out a new version to several instances.
On a new database it also creates the first signing key (of HUSH_SIGNING_ALG); it never touches
the keys of a database that has some.`,
  async run(_args, io) {
    const services = await openServicesFromEnv(io);
    try {
      // A new database gets its first signing key here; an existing one keeps its keys as they are.
      if (await services.keys.ensureFirstKey()) io.out(`hush: created the first signing key (${services.options.signingAlgorithm})`);
    } finally {
      await services.close();
    }
    io.out("hush: database is up to date");
    return 0;
  },
};
