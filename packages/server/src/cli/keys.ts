import type { Command } from "./command.js";
import { openServerFromEnv } from "./open-server.js";

export const keysCommand: Command = {
  summary: "list or rotate the token signing keys",
  help: `Usage: hush keys list
       hush keys rotate

list    every signing key: kid, algorithm, status (next, current, retired, expired), activation
rotate  creates the next key of HUSH_SIGNING_ALG. It is published in the JWKS at once and starts
        signing after HUSH_KEY_ACTIVATION_DELAY (default 60s); the current key then retires but
        stays published until every token it signed has expired, so nobody is logged out.`,
  async run(args, io) {
    const action = args[0];
    if (action !== "list" && action !== "rotate") {
      io.err(`hush keys: expected "list" or "rotate"${action ? `, got "${action}"` : ""}. See hush keys --help`);
      return 2;
    }
    const server = await openServerFromEnv(io);
    try {
      if (action === "rotate") {
        const key = await server.admin.rotateKeys();
        io.out(`rotated: new key ${key.kid} (${key.alg}) signs from ${new Date(key.activatesAt).toISOString()}`);
      }
      const now = server.options.now();
      for (const key of server.keys.list(now)) {
        io.out(
          `${key.kid}\t${key.alg}\t${key.status}\tactivates ${new Date(key.activatesAt).toISOString()}${key.retiredAt ? `\tretired ${new Date(key.retiredAt).toISOString()}` : ""}`,
        );
      }
      return 0;
    } finally {
      await server.close();
    }
  },
};
