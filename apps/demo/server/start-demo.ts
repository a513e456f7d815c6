import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { type AuthServer, configFromEnv, createAuthServer, listen } from "@hush/server";
import { Hono } from "hono";
import { type RunningDemoIdp, startDemoIdp } from "./demo-idp.js";
import { readOutbox } from "./dev-mailbox.js";
import { createNotesApi } from "./notes-api.js";

export interface DemoOptions {
  host?: string;
  authPort?: number;
  apiPort?: number;
  webPort?: number;
  /**
   * Port of the demo OpenID provider ("Sign in with Demo IdP"), on 127.0.0.1; 4002 by default, a
   * free one when `authPort` is 0. It does not start when `HUSH_OAUTH_PROVIDERS` in `env` leaves "demo" out.
   */
  idpPort?: number;
  /** Folder of the SQLite database, the generated secret and the mail outbox (`outbox/`). */
  dataDir?: string;
  /** Access-token lifetime; short, so that refreshes can be watched. Default 60. */
  accessTokenTtlSeconds?: number;
  env?: Record<string, string | undefined>;
}

export interface RunningDemo {
  webUrl: string;
  authUrl: string;
  apiUrl: string;
  /** The demo OpenID provider's issuer, or null when it does not run. */
  idpUrl: string | null;
  /** The development mailbox page (mail written to the outbox folder), or null with SMTP or in production. */
  mailboxUrl: string | null;
  auth: AuthServer;
  close(): Promise<void>;
}

// The built web app: dist/web beside dist/server when compiled, or from the sources (tests).
const HERE = new URL(".", import.meta.url).pathname;
const WEB_ROOT = join(HERE, HERE.endsWith("/dist/server/") ? "../web/" : "../dist/web/");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
};

/** Serves a Hono app on the loopback address, named by `host` in its URL. */
function listenHono(app: Hono, port: number, host: string): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) =>
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      }),
    );
  });
}

/**
 * Starts the whole demo: the auth server (embedded SQLite), the notes API and the web app,
 * each on its own port of `localhost`, as three origins of one site would be in production.
 */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const host = options.host ?? "localhost";
  const dataDir = options.dataDir ?? join(process.cwd(), "data");
  mkdirSync(dataDir, { recursive: true });
  const authPort = options.authPort ?? 4000;
  const apiPort = options.apiPort ?? 4001;
  const webPort = options.webPort ?? 5173;

  // The web server must know the other two URLs, and the auth server the web origin: with
  // port 0 (tests), bind the web and API servers first and read their ports.
  const web = new Hono();
  const webHttp = await listenHono(web, webPort, host);
  const webOrigin = webHttp.url;

  let auth: AuthServer | undefined;
  const authHttp = await listen(
    { fetch: (r, c) => (auth ? auth.fetch(r, c) : Promise.resolve(new Response(null, { status: 503 }))) },
    authPort,
    "127.0.0.1",
  );
  const authUrl = `http://${host}:${new URL(authHttp.url).port}`;

  // "Sign in with Demo IdP": an OpenID provider of the demo's own (a different site, 127.0.0.1,
  // as Google would be), with the auth server registered as its client. HUSH_OAUTH_PROVIDERS=google
  // and its two client lines (README) switch to Google instead.
  const providers = (options.env?.HUSH_OAUTH_PROVIDERS ?? "demo").split(",").map((name) => name.trim().toLowerCase());
  let idp: RunningDemoIdp | null = null;
  const oauthEnv: Record<string, string> = {};
  if (providers.includes("demo")) {
    const clientSecret = randomBytes(24).toString("base64url");
    idp = await startDemoIdp({
      port: options.idpPort ?? (options.authPort === 0 ? 0 : 4002),
      clients: [
        {
          client_id: "hush-demo",
          client_secret: clientSecret,
          client_name: "Hush demo",
          redirect_uris: [`${authUrl}/auth/oauth/demo/callback`],
        },
      ],
    });
    Object.assign(oauthEnv, {
      HUSH_OAUTH_PROVIDERS: "demo",
      HUSH_OAUTH_DEMO_ISSUER: idp.issuer,
      HUSH_OAUTH_DEMO_CLIENT_ID: "hush-demo",
      HUSH_OAUTH_DEMO_CLIENT_SECRET: clientSecret,
      // Safe here only because this issuer is the demo's own: it asserts addresses it checked.
      HUSH_OAUTH_DEMO_TRUST_EMAIL: "on",
    });
  }

  const { options: fromEnv } = configFromEnv(
    {
      HUSH_DATABASE_URL: `sqlite:${join(dataDir, "hush.db")}`,
      HUSH_ACCESS_TTL: String(options.accessTokenTtlSeconds ?? 60),
      HUSH_LOG_LEVEL: "warn",
      // No SMTP server needed: each mail lands in this folder as an .eml file, and the web
      // app's "Dev mailbox" page shows it (HUSH_SMTP_URL sends real mail instead).
      HUSH_MAIL_OUTBOX: join(dataDir, "outbox"),
      HUSH_SIGNIN_LINKS: "on",
      ...oauthEnv,
      ...options.env,
      PORT: new URL(authHttp.url).port,
      HUSH_ISSUER: authUrl,
      HUSH_AUDIENCE: "hush,notes-api",
      HUSH_ALLOWED_ORIGINS: webOrigin,
      // Emailed links open the demo's web app: /verify-email, /reset-password, /confirm-email, /sign-in-link.
      HUSH_APP_URL: webOrigin,
    },
    (message) => console.warn(`demo: ${message}`),
  );
  // The button reads "Sign in with Demo IdP" (a provider's label defaults to its name).
  const demoProvider = fromEnv.oauthProviders?.demo;
  if (idp && demoProvider && demoProvider.label === undefined) demoProvider.label = "Demo IdP";
  try {
    auth = await createAuthServer(fromEnv);
  } catch (error) {
    await idp?.close();
    await webHttp.close();
    await authHttp.close();
    throw error;
  }

  const notes = createNotesApi({ issuer: authUrl, audience: "notes-api", webOrigin });
  const apiHttp = await listenHono(notes.app as unknown as Hono, apiPort, host);

  // An API route served from the auth server's own process (docs/api.md, server.protect): with the CSRF header,
  // a request whose access token is missing or expired is served after a refresh from the
  // cookie, and the new token comes back in X-Access-Token for the client to adopt.
  const whoAmI = auth.protect((_request, { user }) => Response.json({ email: user.email }), { assistRefresh: true });
  web.get("/api/me", (c) => whoAmI(c.req.raw));
  // The development mailbox: what the auth server wrote into its outbox folder, for anyone who
  // can reach this web server. Only without SMTP (no real mail to protect) and outside
  // production, since its links sign people in.
  const outboxDir = fromEnv.mail?.outboxDir;
  const devMailbox = outboxDir !== undefined && !fromEnv.mail?.smtpUrl && options.env?.NODE_ENV !== "production";
  if (devMailbox)
    web.get("/dev/mailbox.json", async (c) => c.json({ mails: await readOutbox(outboxDir) }, 200, { "cache-control": "no-store" }));
  const webConfig = { authBase: `${authUrl}/auth`, apiBase: apiHttp.url, signInLinks: fromEnv.signInLinks === true, devMailbox };
  web.get("/config.js", (c) =>
    c.body(`window.HUSH_DEMO = ${JSON.stringify(webConfig)};`, 200, {
      "content-type": "text/javascript",
      "cache-control": "no-store",
    }),
  );
  web.get("*", async (c) => {
    const path = new URL(c.req.url).pathname;
    const file = path === "/" || !path.includes(".") ? "index.html" : path.slice(1);
    if (file.includes("..")) return c.notFound();
    try {
      const body = await readFile(join(WEB_ROOT, file));
      return c.body(body, 200, { "content-type": TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream" });
    } catch {
      return c.notFound();
    }
  });

  return {
    webUrl: webOrigin,
    authUrl,
    apiUrl: apiHttp.url,
    idpUrl: idp?.issuer ?? null,
    mailboxUrl: devMailbox ? `${webOrigin}/dev/mailbox` : null,
    auth,
    async close() {
      notes.verify.close();
      await webHttp.close();
      await apiHttp.close();
      await authHttp.close();
      await auth?.close();
      await idp?.close();
    },
  };
}
