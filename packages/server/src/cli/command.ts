/** Output streams and environment of a CLI command (tests pass their own). */
export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A `hush` sub-command: its help text and what it does; resolves to the exit code. */
export interface Command {
  summary: string;
  help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** True when the arguments ask for help. */
export function wantsHelp(args: string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}
