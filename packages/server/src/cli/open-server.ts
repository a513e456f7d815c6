import { configFromEnv } from "../config/env-config.js";
import { type AuthServer, createAuthServer } from "../create-auth-server.js";
import type { CliIo } from "./command.js";

/** Opens the auth server the environment describes, for commands that act on its database. */
export async function openServerFromEnv(io: CliIo, overrides: { logLevel?: string } = {}): Promise<AuthServer> {
  const { options } = configFromEnv(io.env, (message) => io.err(`warning: ${message}`));
  return createAuthServer({ ...options, logLevel: overrides.logLevel ?? "warn" });
}
