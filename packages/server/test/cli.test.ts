import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = new URL("../bin/hush.js", import.meta.url).pathname;
const SECRET = "c".repeat(64);

/** Runs the real `hush` binary (the built dist) with a clean environment plus `env`. */
function hush(args: string[], env: Record<string, string> = {}, cwd = process.cwd()) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HUSH_LOG_LEVEL: "warn", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the hush binary", () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "hush-cli-"));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("prints usage and each command's --help", () => {
    const usage = hush(["--help"]);
    expect(usage.code).toBe(0);
    for (const command of ["serve", "migrate", "keys"]) {
      expect(usage.stdout).toContain(command);
      const help = hush([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: hush /);
    }
    expect(hush(["frobnicate"]).code).toBe(2);
  });

  it.each([
    ["HUSH_ACCESS_TTL", "10x"],
    ["HUSH_REFRESH_TTL", "forever"],
    ["HUSH_REFRESH_MODE", "sometimes"],
    ["HUSH_SIGNING_ALG", "none"],
    ["HUSH_SECRET", "tooshort"],
    ["HUSH_ISSUER", "ftp://example.com"],
    ["HUSH_ALLOWED_ORIGINS", "not a url"],
    ["HUSH_COOKIE_SAMESITE", "Sometimes"],
    ["HUSH_RATE_LIMITS", "maybe"],
    ["PORT", "99999"],
    ["HUSH_DATABASE_URL", "mysql://x"],
  ])("stops start-up with one line naming %s and exit code 1", (variable, value) => {
    const run = hush(["serve"], { HUSH_SECRET: SECRET, HUSH_DATABASE_URL: `sqlite:${join(folder, "bad.db")}`, [variable]: value });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  });

  it("refuses to start in production without HUSH_SECRET", () => {
    const run = hush(["serve"], { NODE_ENV: "production", HUSH_DATABASE_URL: `sqlite:${join(folder, "prod.db")}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/HUSH_SECRET: required when NODE_ENV=production/);
  });

  it("generates a secret once into the data folder in development, readable only by its owner", () => {
    const dataDir = join(folder, "devdata");
    const first = hush(["migrate"], { HUSH_DATABASE_URL: `sqlite:${join(dataDir, "hush.db")}` });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/generated one into/);
    const file = join(dataDir, "hush.secret");
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    const second = hush(["migrate"], { HUSH_DATABASE_URL: `sqlite:${join(dataDir, "hush.db")}` });
    expect(second.stderr).not.toMatch(/generated/);
  });

  it("migrates, lists and rotates keys on one database", () => {
    const env = { HUSH_SECRET: SECRET, HUSH_DATABASE_URL: `sqlite:${join(folder, "keys.db")}` };
    expect(hush(["migrate"], env).code).toBe(0);
    const list = hush(["keys", "list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split("\n")).toHaveLength(1);
    expect(list.stdout).toMatch(/\tEdDSA\tcurrent\t/);
    const rotate = hush(["keys", "rotate"], env);
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/\tnext\t/);
    expect(rotate.stdout).toMatch(/\tcurrent\t/);
    expect(hush(["keys", "explode"], env).code).toBe(2);
  });
});

describe("hush serve", () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill("SIGTERM"));

  it("serves the API over HTTP with the environment's configuration and stops on SIGTERM", async () => {
    const folder = mkdtempSync(join(tmpdir(), "hush-serve-"));
    child = spawn(process.execPath, [BIN, "serve"], {
      env: {
        PATH: process.env.PATH ?? "",
        PORT: "0",
        HUSH_SECRET: SECRET,
        HUSH_DATABASE_URL: `sqlite:${join(folder, "serve.db")}`,
        HUSH_ACCESS_TTL: "45s",
      },
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child?.stdout?.on("data", (chunk) => {
        out += String(chunk);
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child?.once("exit", (code) => reject(new Error(`exited with ${code}`)));
    });
    const signup = await fetch(`${url}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hush-csrf": "1" },
      body: JSON.stringify({ email: "serve@example.com", password: "violet-otter-keeps-42-secrets" }),
    });
    expect(signup.status).toBe(201);
    expect((await signup.json()).expiresIn).toBe(45);
    const exited = new Promise<number | null>((resolve) => child?.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    child = undefined;
    rmSync(folder, { recursive: true, force: true });
  });
});
