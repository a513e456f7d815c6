import { pino } from "pino";
import { configFromEnv } from "../config/env-config.js";
import { openServices, type Services } from "../open-services.js";
import type { CliIo } from "./command.js";

/**
 * Opens the database the environment describes and the services a command needs — not a
 * server: a command never initialises, rotates or retires the signing keys that a server
 * running beside it signs with (only `hush keys rotate` adds a key, published before use).
 * Log lines (security events such as `user_suspended`) go to standard error, so standard
 * output stays the command's own answer.
 */
export async function openServicesFromEnv(io: CliIo): Promise<Services> {
  const { options } = configFromEnv(io.env, (message) => io.err(`warning: ${message}`));
  const logger = pino({ level: options.logLevel ?? "info", base: { service: "hush-cli" } }, pino.destination(2));
  return openServices({ ...options, logger });
}
