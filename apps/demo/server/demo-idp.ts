import { generateKeyPairSync, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Adapter, type AdapterPayload, type Configuration, type JWK, Provider } from "oidc-provider";

// The demo's own OpenID provider, so that "Sign in with …" works on a fresh machine with no
// account anywhere: a certified implementation (oidc-provider) in this process, with a few demo
// users, a real login page and a real consent page. Authorization code flow only, PKCE (S256)
// required, ID tokens signed RS256 (an ES256 key is published too). Nothing is persisted: its
// signing keys, sessions and grants live in memory until it stops. Never run it in production.

/** A client (relying party) registered at the demo provider: the Hush auth server, say. */
export interface DemoIdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  /** How the client authenticates at the token endpoint; openid-client's default, `client_secret_post`, unless told. */
  token_endpoint_auth_method?: "client_secret_post" | "client_secret_basic";
  client_name?: string;
}

/** A user of the demo provider; its ID tokens carry `sub`, `email`, `email_verified` and `name`. */
export interface DemoIdpUser {
  /** The `sub` claim: stable, so identities linked to it survive a restart of the demo. */
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
  password: string;
}

/** The demo users, shown with their passwords on the login page. */
export const DEMO_IDP_USERS: readonly DemoIdpUser[] = [
  { sub: "demo-alice", email: "alice@example.com", emailVerified: true, name: "Alice Example", password: "alice-in-wonderland" },
  { sub: "demo-bob", email: "bob@example.com", emailVerified: true, name: "Bob Example", password: "bob-the-builder" },
  { sub: "demo-carol", email: "carol@example.com", emailVerified: true, name: "Carol Example", password: "carol-sings-carols" },
  { sub: "demo-eve", email: "eve@example.com", emailVerified: false, name: "Eve (unverified)", password: "eve-listens-in" },
];

export interface DemoIdpOptions {
  /** `0` (the default) picks a free port. */
  port?: number;
  /** The host named in the issuer; the server listens on the loopback address either way. */
  host?: string;
  clients: DemoIdpClient[];
  users?: readonly DemoIdpUser[];
}

export interface RunningDemoIdp {
  /** `http://127.0.0.1:<port>`: what a relying party discovers (`/.well-known/openid-configuration`). */
  issuer: string;
  users: readonly DemoIdpUser[];
  close(): Promise<void>;
}

/** Starts the demo OpenID provider on `host:port` with these clients and users. */
export async function startDemoIdp(options: DemoIdpOptions): Promise<RunningDemoIdp> {
  const host = options.host ?? "127.0.0.1";
  const users = options.users ?? DEMO_IDP_USERS;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, configuration(options.clients, users));
  const oidc = provider.callback();
  const interactions = interactionRoutes(provider, users);

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("cache-control", "no-store");
    const handled = interactions(req, res);
    if (handled) {
      handled.catch((error: unknown) => {
        if (!res.headersSent) page(res, 400, "Sign-in failed", `<p>${html(messageOf(error))}</p><p>Start again from the app.</p>`);
        else res.end();
      });
      return;
    }
    void oidc(req, res);
  });

  return {
    issuer,
    users,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function configuration(clients: DemoIdpClient[], users: readonly DemoIdpUser[]): Configuration {
  const key = (type: "rsa" | "ec", kid: string, alg: string): JWK => {
    const { privateKey } =
      type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
    return { ...(privateKey.export({ format: "jwk" }) as JWK), kid, alg, use: "sig" };
  };
  return {
    adapter: memoryAdapter(),
    clients: clients.map((client) => ({
      token_endpoint_auth_method: "client_secret_post",
      ...client,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      id_token_signed_response_alg: "RS256",
    })),
    // The first key signs (RS256); the ES256 key is published in the JWKS too.
    jwks: { keys: [key("rsa", "demo-rs256", "RS256"), key("ec", "demo-es256", "ES256")] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    scopes: ["openid", "email", "profile"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // The claims of the scopes go in the ID token too, as Google's do (a relying party need not call userinfo).
    conformIdTokenClaims: false,
    responseTypes: ["code"],
    pkce: { required: () => true },
    clientBasedCORS: () => false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 1800, Session: 86_400, Grant: 86_400 },
    async findAccount(_ctx, sub) {
      const user = users.find((candidate) => candidate.sub === sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        claims: () => ({ sub: user.sub, email: user.email, email_verified: user.emailVerified, name: user.name }),
      };
    },
    async renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = layout(
        "Sign-in failed",
        Object.entries(out)
          .map(([name, value]) => `<p><strong>${html(name)}</strong>: ${html(String(value))}</p>`)
          .join(""),
      );
    },
  };
}

/**
 * The login and consent pages: `GET /interaction/:uid` shows the step the provider asks for, and
 * the forms post to `/interaction/:uid/login`, `/confirm` and `/abort`. Returns null for any other
 * path (the provider's own routes).
 */
function interactionRoutes(provider: Provider, users: readonly DemoIdpUser[]) {
  return (req: IncomingMessage, res: ServerResponse): Promise<void> | null => {
    const url = new URL(req.url ?? "/", "http://idp.invalid");
    const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(url.pathname);
    if (!match) return null;
    const [, uid, action] = match;
    if ((action === undefined) !== (req.method === "GET") || (req.method !== "GET" && req.method !== "POST")) {
      page(res, 405, "Not allowed", "<p>Not allowed.</p>");
      return Promise.resolve();
    }
    return (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.uid !== uid) throw new Error("This sign-in step is not the current one.");
      const form = action ? await formOf(req) : new URLSearchParams();
      const client = await provider.Client.find(String(details.params.client_id));
      const clientName = client?.clientName ?? String(details.params.client_id);

      if (action === "abort" || (action === "confirm" && form.get("decision") !== "allow")) {
        await provider.interactionFinished(
          req,
          res,
          { error: "access_denied", error_description: "The user cancelled." },
          { mergeWithLastSubmission: false },
        );
        return;
      }

      if (details.prompt.name === "login") {
        if (action === "login") {
          const user = findUser(users, form.get("email") ?? "", form.get("password") ?? "");
          if (user) {
            await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
            return;
          }
          loginPage(res, uid as string, clientName, users, form.get("email") ?? "", "Wrong email or password.");
          return;
        }
        loginPage(res, uid as string, clientName, users, "", null);
        return;
      }

      if (details.prompt.name === "consent") {
        if (action === "confirm") {
          const promptDetails = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
          const accountId = details.session?.accountId;
          if (!accountId) throw new Error("No signed-in user.");
          const grant = details.grantId
            ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
          if (!grant) throw new Error("The grant has expired.");
          if (promptDetails.missingOIDCScope) grant.addOIDCScope(promptDetails.missingOIDCScope.join(" "));
          if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
          const grantId = await grant.save();
          await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
          return;
        }
        const scopes = String(details.params.scope ?? "openid").split(" ");
        const user = users.find((candidate) => candidate.sub === details.session?.accountId);
        consentPage(res, uid as string, clientName, user, scopes);
        return;
      }
      throw new Error(`Unexpected step: ${details.prompt.name}`);
    })();
  };
}

function findUser(users: readonly DemoIdpUser[], email: string, password: string): DemoIdpUser | undefined {
  const user = users.find((candidate) => candidate.email.toLowerCase() === email.trim().toLowerCase());
  const given = Buffer.from(password);
  const expected = Buffer.from(user?.password ?? "\0never");
  const same = given.length === expected.length && timingSafeEqual(given, expected);
  return user && same ? user : undefined;
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error("The form is too large.");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

const SCOPE_TEXT: Record<string, string> = {
  openid: "Sign you in (your user id at the Demo IdP)",
  email: "Your email address, and whether it is verified",
  profile: "Your name",
};

function loginPage(
  res: ServerResponse,
  uid: string,
  clientName: string,
  users: readonly DemoIdpUser[],
  email: string,
  error: string | null,
) {
  const rows = users
    .map(
      (user) =>
        `<tr><td><code>${html(user.email)}</code></td><td><code>${html(user.password)}</code></td><td>${user.emailVerified ? "verified" : "<em>not verified</em>"}</td></tr>`,
    )
    .join("");
  page(
    res,
    200,
    "Sign in to the Demo IdP",
    `<p><strong>${html(clientName)}</strong> asks you to sign in.</p>
    ${error ? `<p class="error" role="alert" id="error">${html(error)}</p>` : ""}
    <form method="post" action="/interaction/${uid}/login" autocomplete="off">
      <label>Email <input name="email" id="email" type="email" value="${html(email)}" required autofocus></label>
      <label>Password <input name="password" id="password" type="password" required></label>
      <button type="submit" id="sign-in">Sign in</button>
    </form>
    <form method="post" action="/interaction/${uid}/abort"><button type="submit" id="cancel" class="secondary">Cancel</button></form>
    <h2>Demo users</h2>
    <table><tr><th>Email</th><th>Password</th><th>Address</th></tr>${rows}</table>
    <p class="hint">A stand-in for Google or any OpenID provider, running inside the demo. Its users exist only here.</p>`,
  );
}

function consentPage(res: ServerResponse, uid: string, clientName: string, user: DemoIdpUser | undefined, scopes: string[]) {
  const items = scopes
    .filter((scope) => scope in SCOPE_TEXT)
    .map((scope) => `<li>${html(SCOPE_TEXT[scope] as string)} <small>(${html(scope)})</small></li>`)
    .join("");
  page(
    res,
    200,
    "Allow access?",
    `<p>Signed in as <strong>${html(user?.email ?? "?")}</strong>.</p>
    <p><strong>${html(clientName)}</strong> would like:</p>
    <ul>${items}</ul>
    <form method="post" action="/interaction/${uid}/confirm">
      <button type="submit" name="decision" value="allow" id="allow">Allow</button>
      <button type="submit" name="decision" value="deny" id="deny" class="secondary">Cancel</button>
    </form>`,
  );
}

function page(res: ServerResponse, status: number, title: string, body: string) {
  res.statusCode = status;
  res.setHeader("content-type", "text/html; charset=utf-8");
  // No form-action: the login and consent forms end in redirects to the relying party, which it would block.
  res.setHeader("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  res.end(layout(title, body));
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)} · Demo IdP</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f4f1ea;color:#222;margin:0;padding:2rem}
main{max-width:32rem;margin:auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;box-shadow:0 2px 12px #0002}
.brand{color:#7a4fd0;font-weight:700;letter-spacing:.05em;text-transform:uppercase;font-size:.8rem}
label{display:block;margin:.6rem 0}input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button{font:inherit;padding:.5rem 1rem;margin:.6rem .4rem 0 0;border:0;border-radius:6px;background:#7a4fd0;color:#fff;cursor:pointer}
button.secondary{background:#ddd;color:#222}.error{color:#b00020}.hint{color:#666;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem}td,th{padding:.2rem .5rem;text-align:left;border-bottom:1px solid #eee}
</style></head>
<body><main><div class="brand">Demo IdP</div><h1>${html(title)}</h1>${body}</main></body></html>`;
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function messageOf(error: unknown): string {
  if (error && typeof error === "object" && "error_description" in error && typeof error.error_description === "string")
    return error.error_description;
  return error instanceof Error ? error.message : "Something went wrong.";
}

/** oidc-provider's storage (sessions, interactions, codes, grants) in a Map, with expiry: what a demo needs. */
function memoryAdapter(): (name: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const grants = new Map<string, Set<string>>();
  const get = (key: string) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) store.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.payload : undefined;
  };
  return (name) => {
    const keyOf = (id: string) => `${name}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
        store.set(key, { payload, expiresAt });
        if (name === "Session" && payload.uid) store.set(`uid:${payload.uid}`, { payload: { id }, expiresAt });
        if (payload.grantId) grants.set(payload.grantId, (grants.get(payload.grantId) ?? new Set()).add(key));
      },
      async find(id) {
        return get(keyOf(id));
      },
      async findByUid(uid) {
        const id = get(`uid:${uid}`)?.id;
        return typeof id === "string" ? get(keyOf(id)) : undefined;
      },
      async findByUserCode() {
        return undefined;
      },
      async consume(id) {
        const payload = get(keyOf(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of grants.get(grantId) ?? []) store.delete(key);
        grants.delete(grantId);
      },
    };
  };
}
