import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSmtpServer, type TestSmtpServer } from "../packages/server/test/mail-smtp-server.js";
import { freePort } from "../test-support/free-port.js";

const APP_DIR = new URL("../examples/next/", import.meta.url).pathname;
const NEXT_BIN = new URL("../node_modules/next/dist/bin/next", import.meta.url).pathname;

/** The built Next.js example (`npm run build:next`), served by `next start`. */
export interface NextExample {
  url: string;
  /** Successful refreshes so far, counted by the auth server inside the app (its metrics). */
  refreshes(): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

export const NEXT_BUILT = existsSync(join(APP_DIR, ".next", "BUILD_ID"));

/** Starts `next start` on a free port, with a fresh SQLite database and a loopback SMTP server. */
export async function startNextExample(env: Record<string, string> = {}): Promise<NextExample> {
  if (!NEXT_BUILT) throw new Error("examples/next is not built: run `npm run build:next` (npm test does)");
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "hush-next-"));
  const smtp: TestSmtpServer = await startSmtpServer();
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: APP_DIR,
    env: {
      ...process.env,
      NODE_ENV: "production",
      HUSH_SECRET: randomBytes(32).toString("hex"),
      HUSH_ISSUER: url,
      HUSH_DATABASE_URL: `sqlite:${join(dataDir, "hush.db")}`,
      HUSH_SMTP_URL: smtp.url,
      HUSH_APP_URL: url,
      HUSH_METRICS: "on",
      HUSH_RATE_LIMITS: "off",
      HUSH_LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited:\n${output}`);
    const ready = await fetch(`${url}/login`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`next start did not answer in 30 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    async refreshes() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("hush_refreshes_total "));
      if (!line) throw new Error(`no hush_refreshes_total in the metrics:\n${text}`);
      return Number(line.split(" ")[1]);
    },
    output: () => output,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      await smtp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
