import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { simpleParser } from "mailparser";
import { pino } from "pino";
import { POSTGRES_URL, type TestDatabase } from "../../../test-support/databases.js";
import { createDatabase } from "../../../test-support/postgres.js";
import { type AuthServer, type AuthServerOptions, createAuthServer, listen, type SecurityEvent } from "../src/index.js";
import { type AuthServerInternals, internalsOf, registerInternals } from "../src/internals.js";

/** A clock the test moves by hand. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

export function createClock(start = Date.now()): TestClock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** A fixed test secret (32 bytes, hex), so a restarted server can open the same keys. */
export const TEST_SECRET = "a3f1c2e4b5d6a7980112233445566778899aabbccddeeff00112233445566778";

export interface TestServer {
  /** `http://127.0.0.1:PORT` — also the issuer and the allowed origin. */
  url: string;
  origin: string;
  /** The server, with its internals (storage, keys, options, routes) beside the public API. */
  server: AuthServer & AuthServerInternals;
  clock: TestClock;
  /** Every security event, in order. */
  events: SecurityEvent[];
  /** Every raw log line the server wrote. */
  logs: string[];
  /** The SQLite file (sqlite runs only). */
  databaseFile: string;
  /** The database URL, for a restart on the same data. */
  databaseUrl: string;
  database: TestDatabase;
  /** fetch against the server, with JSON + the CSRF header + the server's own Origin by default. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Stops the HTTP server and closes the database; `keepData` leaves the file for a restart. */
  close(options?: { keepData?: boolean }): Promise<void>;
  /** Removes the data kept by `close({ keepData: true })`. */
  removeData(): void;
}

export type TestServerOptions = Partial<AuthServerOptions> & {
  database?: TestDatabase;
  databaseFile?: string;
  clock?: TestClock;
  /** Listen on this port (default: any free one), when something must know the URL first. */
  port?: number;
};

/**
 * Starts a real auth server over real HTTP on 127.0.0.1 and a free port, on a real SQLite
 * file in a temporary folder, with an injectable clock and captured logs and events.
 */
export async function createTestServer(overrides: TestServerOptions = {}): Promise<TestServer> {
  const database = overrides.database ?? "sqlite";
  const folder = overrides.databaseFile || overrides.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), "hush-test-"));
  const databaseFile = overrides.databaseFile ?? join(folder ?? tmpdir(), "hush.db");
  let databaseUrl = overrides.databaseUrl ?? `sqlite:${databaseFile}`;
  if (database === "postgres" && !overrides.databaseUrl) {
    if (!POSTGRES_URL) throw new Error("no PostgreSQL for this run");
    databaseUrl = await createDatabase(POSTGRES_URL);
  }
  const clock = overrides.clock ?? createClock();
  const events: SecurityEvent[] = [];
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  // The issuer needs the port before the server exists: bind a placeholder handler first.
  let server: AuthServer | undefined;
  const host: Pick<AuthServer, "fetch"> = {
    fetch: (request, connection) => (server ? server.fetch(request, connection) : Promise.resolve(new Response(null, { status: 503 }))),
  };
  const listening = await listen(host, overrides.port ?? 0, "127.0.0.1");
  const { clock: _clock, databaseFile: _file, database: _database, port: _port, ...options } = overrides;
  const removeFolder = () => folder && rmSync(folder, { recursive: true, force: true });
  try {
    server = await createAuthServer({
      secret: TEST_SECRET,
      issuer: listening.url,
      databaseUrl,
      logger: pino({ level: "debug" }, sink),
      now: clock.now,
      // Mail goes to the test's own folder unless a test brings an SMTP server.
      mail: { outboxDir: join(folder ?? tmpdir(), "outbox") },
      ...options,
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    });
  } catch (error) {
    // A server that fails to start leaves nothing behind.
    await listening.close();
    removeFolder();
    throw error;
  }
  // The placeholder takes the server's internals, so node:http also takes its direct routes
  // (the refresh) exactly as `hush serve` does.
  registerInternals(host, internalsOf(server));
  const url = listening.url;
  return {
    url,
    origin: url,
    server: { ...server, ...internalsOf(server) },
    clock,
    events,
    logs,
    databaseFile,
    databaseUrl,
    database,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("x-hush-csrf")) headers.set("x-hush-csrf", "1");
      if (!headers.has("origin")) headers.set("origin", url);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      }
      return fetch(`${url}${path}`, { ...init, headers, body });
    },
    removeData: removeFolder,
    async close({ keepData = false } = {}) {
      await listening.close();
      await server?.close();
      if (!keepData) removeFolder();
    },
  };
}

/** The refresh cookie of a response as `name=value` for a `Cookie` header, and its attributes. */
export function refreshCookieOf(response: Response): { pair: string; value: string; attributes: string; raw: string } | undefined {
  for (const raw of response.headers.getSetCookie()) {
    const [pair = "", ...rest] = raw.split(";");
    if (/^(__Host-)?hush_rt=/.test(pair)) {
      return { pair, value: pair.slice(pair.indexOf("=") + 1), attributes: rest.map((a) => a.trim()).join("; "), raw };
    }
  }
  return undefined;
}

let counter = 0;
/** A fresh email for each call. */
export function uniqueEmail(): string {
  counter += 1;
  return `user${counter}-${Date.now()}@example.com`;
}

export const GOOD_PASSWORD = "violet-otter-keeps-42-secrets";

/** Signs a new user up and returns the parts a test needs. */
export async function signUp(t: TestServer, email = uniqueEmail(), password = GOOD_PASSWORD) {
  const response = await t.request("/auth/signup", { method: "POST", json: { email, password } });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { accessToken: string; user: { id: string; email: string } };
  const cookie = refreshCookieOf(response);
  if (!cookie) throw new Error("signup set no refresh cookie");
  return { email, password, accessToken: body.accessToken, user: body.user, cookie: cookie.pair };
}

/** POST /auth/login with an email and password (and any extra headers, such as a cookie). */
export function loginWith(t: TestServer, email: string, password: string, headers: Record<string, string> = {}) {
  return t.request("/auth/login", { method: "POST", headers, json: { email, password } });
}

/** POST /auth/refresh with a cookie; returns the response and the rotated cookie, if any. */
export async function refreshWith(t: TestServer, cookie: string, headers: Record<string, string> = {}) {
  const response = await t.request("/auth/refresh", { method: "POST", headers: { cookie, ...headers } });
  return { response, cookie: refreshCookieOf(response) };
}

/** The text and HTML of the security notices to `address` in a test server's outbox folder, once there are `count`. */
export async function securityNoticesTo(t: TestServer, address: string, count: number): Promise<string[]> {
  const folder = join(dirname(t.databaseFile), "outbox");
  for (let i = 0; i < 100; i++) {
    const files = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith(".eml")) : [];
    const mails = await Promise.all(files.map(async (file) => simpleParser(readFileSync(join(folder, file)))));
    const texts = mails
      .filter((mail) => JSON.stringify(mail.to ?? "").includes(address) && mail.subject?.startsWith("Security notice"))
      .map((mail) => `${mail.text ?? ""}${mail.html || ""}`);
    if (texts.length >= count) return texts;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${count} mails to ${address} in the outbox`);
}
