import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVerifier } from "@hush/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthServer } from "../src/index.js";
import { HUSH_BIN as BIN, spawnServe } from "./spawn-serve.js";

const SECRET = "c".repeat(64);

/** Runs the real `hush` binary (the built dist) with a clean environment plus `env`. */
function hush(args: string[], env: Record<string, string> = {}, input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    input,
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
    for (const command of ["serve", "migrate", "keys", "users", "sessions"]) {
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

  it("refuses to start in production without HUSH_SMTP_URL, in one line", () => {
    const run = hush(["serve"], {
      NODE_ENV: "production",
      HUSH_SECRET: "ab".repeat(32),
      HUSH_DATABASE_URL: `sqlite:${join(folder, "prod.db")}`,
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/HUSH_SMTP_URL: required when NODE_ENV=production/);
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
    expect(hush(["keys", "secret"], env).code).toBe(1);
  });

  it("prints the HS256 secret that lets @hush/verify check the server's HS256 tokens", async () => {
    const env = { HUSH_SECRET: SECRET, HUSH_DATABASE_URL: `sqlite:${join(folder, "hs.db")}`, HUSH_SIGNING_ALG: "HS256" };
    const printed = hush(["keys", "secret"], env);
    expect(printed.code).toBe(0);
    const [kid, secret] = printed.stdout.trim().split("\t") as [string, string];
    const server = await createAuthServer({
      secret: SECRET,
      issuer: "http://127.0.0.1:4000",
      databaseUrl: env.HUSH_DATABASE_URL,
      signingAlgorithm: "HS256",
      logLevel: "silent",
    });
    try {
      const response = await server.fetch(
        new Request("http://127.0.0.1:4000/auth/signup", {
          method: "POST",
          headers: { "content-type": "application/json", "x-hush-csrf": "1" },
          body: JSON.stringify({ email: "hs@example.com", password: "violet-otter-keeps-42-secrets" }),
        }),
      );
      const { accessToken } = await response.json();
      const verify = createVerifier({ issuer: "http://127.0.0.1:4000", audience: "hush", secret: [{ kid, secret }] });
      expect((await verify(accessToken)).sub).toBeTruthy();
      const wrong = createVerifier({ issuer: "http://127.0.0.1:4000", audience: "hush", secret: [{ kid, secret: "x".repeat(43) }] });
      await expect(wrong(accessToken)).rejects.toMatchObject({ code: "bad_signature" });
    } finally {
      await server.close();
    }
  });
});

describe("hush users and hush sessions against a running server's database", () => {
  let child: ChildProcess | undefined;
  let folder: string;
  let url: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "hush-admin-"));
    env = { HUSH_SECRET: SECRET, HUSH_DATABASE_URL: `sqlite:${join(folder, "admin.db")}`, HUSH_RATE_LIMITS: "off" };
    ({ child, url } = await spawnServe(env));
  });
  afterAll(() => {
    child?.kill("SIGTERM");
    rmSync(folder, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, cookie?: string) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hush-csrf": "1", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
  const cookieOf = (response: Response) => response.headers.getSetCookie()[0]?.split(";")[0] ?? "";

  it("creates a user from a password on standard input, who can then sign in", async () => {
    const created = hush(["users", "create", "Ops@Example.com"], { ...env, HUSH_LOG_LEVEL: "info" }, "an-operator-chosen-pass-1\n");
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created ops@example\.com \(/);
    expect(created.stderr).toContain('"type":"signup"');
    const login = await post("/auth/login", { email: "ops@example.com", password: "an-operator-chosen-pass-1" });
    expect(login.status).toBe(200);
    const list = hush(["users", "list"], env);
    expect(list.stdout).toMatch(/\tops@example\.com\tactive\t/);
  });

  it.each([
    [["users", "create", "ops@example.com"], "pass-for-a-duplicate-1\n", /email_taken|already exists/],
    [["users", "create", "not-an-email"], "pass-for-a-bad-email-1\n", /not an email/],
    [["users", "create", "weak@example.com"], "password\n", /too common|at least/],
    [["users", "suspend", "nobody@example.com"], undefined, /no user with email nobody@example\.com/],
    [["sessions", "revoke", "AAAAAAAAAAAAAAAAAAAAAA"], undefined, /no live session/],
  ])("fails clearly with exit code 1: hush %j", (args, input, message) => {
    const run = hush(args as string[], env, input as string | undefined);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message as RegExp);
  });

  it("lists a user's sessions and revokes one: its next refresh is refused", async () => {
    const signup = await post("/auth/signup", { email: "dev@example.com", password: "violet-otter-keeps-42-secrets" });
    const cookie = cookieOf(signup);
    const listed = hush(["sessions", "list", "dev@example.com"], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const sid = lines[0]?.split("\t")[0] as string;
    expect(cookie).toContain(`=${sid}.`);
    const revoked = hush(["sessions", "revoke", sid], env);
    expect(revoked.code).toBe(0);
    const refresh = await post("/auth/refresh", undefined, cookie);
    expect(refresh.status).toBe(401);
    expect((await refresh.json()).error).toBe("session_revoked");
  });

  it("suspends, unsuspends and sets passwords", async () => {
    const signup = await post("/auth/signup", { email: "sus@example.com", password: "violet-otter-keeps-42-secrets" });
    const cookie = cookieOf(signup);
    expect(hush(["users", "suspend", "sus@example.com"], env).code).toBe(0);
    expect((await post("/auth/refresh", undefined, cookie)).status).toBe(401);
    expect(hush(["users", "list"], env).stdout).toMatch(/sus@example\.com\tsuspended/);
    expect(hush(["users", "unsuspend", "sus@example.com"], env).code).toBe(0);
    expect((await post("/auth/refresh", undefined, cookie)).status).toBe(401);
    expect(hush(["users", "set-password", "sus@example.com"], env, "a-fresh-operator-pass-2\n").code).toBe(0);
    expect((await post("/auth/login", { email: "sus@example.com", password: "violet-otter-keeps-42-secrets" })).status).toBe(401);
    expect((await post("/auth/login", { email: "sus@example.com", password: "a-fresh-operator-pass-2" })).status).toBe(200);
  });
});

describe("hush serve", () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill("SIGTERM"));

  it("serves the API over HTTP with the environment's configuration and stops on SIGTERM", async () => {
    const folder = mkdtempSync(join(tmpdir(), "hush-serve-"));
    let url: string;
    ({ child, url } = await spawnServe({
      HUSH_SECRET: SECRET,
      HUSH_DATABASE_URL: `sqlite:${join(folder, "serve.db")}`,
      HUSH_ACCESS_TTL: "45s",
    }));
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
