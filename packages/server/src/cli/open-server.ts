import { pino } from "pino";
import { configFromEnv } from "../config/env-config.js";
import { type AuthServer, createAuthServer } from "../create-auth-server.js";
import type { CliIo } from "./command.js";

/**
 * Opens the auth server the environment describes, for commands that act on its database.
 * Its log lines (security events such as `user_suspended`) go to standard error, so standard
 * output stays the command's own answer.
 */
export async function openServerFromEnv(io: CliIo): Promise<AuthServer> {
  const { options } = configFromEnv(io.env, (message) => io.err(`warning: ${message}`));
  const logger = pino({ level: options.logLevel ?? "info", base: { service: "hush-cli" } }, pino.destination(2));
  return createAuthServer({ ...options, logger });
}
