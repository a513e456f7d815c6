import { ConfigError } from "../config/options.js";
import type { CliIo, Command } from "./command.js";
import { wantsHelp } from "./command.js";
import { keysCommand } from "./keys.js";
import { mailCommand } from "./mail.js";
import { migrateCommand } from "./migrate.js";
import { serveCommand } from "./serve.js";
import { sessionsCommand } from "./sessions.js";
import { usersCommand } from "./users.js";

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  migrate: migrateCommand,
  keys: keysCommand,
  users: usersCommand,
  sessions: sessionsCommand,
  mail: mailCommand,
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`);
  return `Usage: hush <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun "hush <command> --help" for a command's options.`;
}

/** Runs the `hush` CLI; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`hush: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (wantsHelp(args)) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    // A bad setting is one line naming the variable, never a stack trace.
    if (error instanceof ConfigError) io.err(`hush: configuration error: ${error.message}`);
    else io.err(`hush: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function defaultIo(): CliIo {
  return {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}
