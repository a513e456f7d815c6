import type { Command } from "./command.js";
import { openServicesFromEnv } from "./open-services.js";

export const keysCommand: Command = {
  summary: "list or rotate the token signing keys",
  help: `Usage: hush keys list
       hush keys rotate
       hush keys secret

list    every signing key: kid, algorithm, status (next, current, retired, expired), activation
rotate  creates the next key of HUSH_SIGNING_ALG. It is published in the JWKS at once and starts
        signing after HUSH_KEY_ACTIVATION_DELAY (default 60s); the current key then retires but
        stays published until every token it signed has expired, so nobody is logged out.
secret  (HUSH_SIGNING_ALG=HS256 only) prints each live HS256 key as KID<TAB>BASE64URL, for the
        \`secret: [{ kid, secret }]\` option of @hush/verify. Treat the output as a password.`,
  async run(args, io) {
    const action = args[0];
    if (action !== "list" && action !== "rotate" && action !== "secret") {
      io.err(`hush keys: expected "list", "rotate" or "secret"${action ? `, got "${action}"` : ""}. See hush keys --help`);
      return 2;
    }
    const services = await openServicesFromEnv(io);
    try {
      // Only a database without any key gets one (nothing signs yet); existing keys stay as they are.
      await services.keys.ensureFirstKey();
      if (action === "rotate") {
        const key = await services.admin.rotateKeys();
        io.out(`rotated: new key ${key.kid} (${key.alg}) signs from ${new Date(key.activatesAt).toISOString()}`);
      }
      const now = services.options.now();
      if (action === "secret") {
        const secrets = services.keys.list(now).filter((k) => k.alg === "HS256" && k.status !== "expired");
        if (secrets.length === 0) {
          io.err("hush keys secret: there is no HS256 key (HUSH_SIGNING_ALG is not HS256); verifiers use the JWKS instead");
          return 1;
        }
        for (const key of secrets) io.out(`${key.kid}\t${key.privateKey.export().toString("base64url")}`);
        return 0;
      }
      for (const key of services.keys.list(now)) {
        io.out(
          `${key.kid}\t${key.alg}\t${key.status}\tactivates ${new Date(key.activatesAt).toISOString()}${key.retiredAt ? `\tretired ${new Date(key.retiredAt).toISOString()}` : ""}`,
        );
      }
      return 0;
    } finally {
      await services.close();
    }
  },
};
