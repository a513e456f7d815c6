import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const HUSH_BIN = new URL("../bin/hush.js", import.meta.url).pathname;

/** A `hush serve` process started by a test. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
}

/**
 * Starts the real `hush serve` binary on a free port with a clean environment plus `env`, and
 * resolves once it prints the address it listens on.
 */
export async function spawnServe(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, [HUSH_BIN, "serve"], {
    // Mail (sign-up sends a verification link) goes to a throwaway folder unless a test says otherwise.
    env: { PATH: process.env.PATH ?? "", PORT: "0", HUSH_LOG_LEVEL: "warn", HUSH_MAIL_OUTBOX: join(tmpdir(), "hush-test-outbox"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr?.on("data", (chunk) => {
      out += String(chunk);
    });
    child.once("exit", (code) => reject(new Error(`hush serve exited with ${code}: ${out}`)));
  });
  return { url, child };
}
