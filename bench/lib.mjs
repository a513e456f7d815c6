// Shared helpers of `npm run bench`: start a process and wait for its URL, free ports,
// percentiles, and writing one section of docs/benchmarks.md.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("..", import.meta.url).pathname;

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a process and resolves once `url` answers HTTP (any status). */
export async function startProcess(command, args, { env = {}, cwd = ROOT, url }) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command} exited early:\n${output}`);
    try {
      await fetch(url);
      return { child, output: () => output, stop: () => stopProcess(child) };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`${command} did not answer at ${url}:\n${output}`);
}

/**
 * Starts `hush serve` on a free port with its own SQLite file in a scratch folder, rate limits
 * off; resolves to its URL, PID and a `stop()` that also removes the folder.
 */
export async function startHushServe(extraEnv = {}) {
  const folder = mkdtempSync(join(tmpdir(), "hush-bench-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess(process.execPath, [join(ROOT, "packages/server/bin/hush.js"), "serve"], {
    url: `${url}/health`,
    env: {
      PORT: String(port),
      HUSH_SECRET: "ab".repeat(32),
      HUSH_DATABASE_URL: `sqlite:${join(folder, "bench.db")}`,
      HUSH_RATE_LIMITS: "off",
      HUSH_LOG_LEVEL: "warn",
      ...extraEnv,
    },
  });
  const stop = async () => {
    await proc.stop();
    rmSync(folder, { recursive: true, force: true });
  };
  return { url, pid: proc.child.pid, stop };
}

export function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Runs a Node script and parses the one JSON line it prints. */
export function runJsonScript(script, args, cwd = ROOT) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Replaces (or appends) the section between `<!-- bench:NAME -->` markers in docs/benchmarks.md. */
export function writeDocSection(name, markdown) {
  const file = `${ROOT}docs/benchmarks.md`;
  let doc;
  try {
    doc = readFileSync(file, "utf8");
  } catch {
    doc =
      "# Benchmarks\n\nWritten by `npm run bench`. Every figure is a ratio against a baseline measured in the same run on the same machine.\n";
  }
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? `${doc.slice(0, i)}${block}${doc.slice(j + end.length)}` : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
}
