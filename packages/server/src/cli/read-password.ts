import { createInterface } from "node:readline";

/**
 * Reads a password from standard input — the first line when piped
 * (`printf '%s\n' "$PW" | hush users create EMAIL`), or typed at a prompt. Never from an
 * argument, which other users of the machine could read in the process list.
 */
export async function readPassword(prompt: string, err: (line: string) => void): Promise<string> {
  if (process.stdin.isTTY) err(prompt);
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new Error("no password on standard input");
}
