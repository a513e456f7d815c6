import { Hono } from "hono";
import type { AuthServerOptions } from "./config/options.js";
import { HushError } from "./errors.js";
import { DeviceCookie } from "./http/device-cookie.js";
import { errorResponse, reportedError, toHushError } from "./http/error-response.js";
import { mountEndpoints } from "./http/mount-endpoints.js";
import { buildOpenApiDocument } from "./http/openapi-document.js";
import { RefreshCookie } from "./http/refresh-cookie.js";
import { registerInternals } from "./internals.js";
import { directRoutes } from "./node/direct-routes.js";
import { openServices } from "./open-services.js";
import { createProtect } from "./routes/assisted-guard.js";
import { authEndpoints } from "./routes/auth-routes.js";
import { emailEndpoints } from "./routes/email-routes.js";
import { mfaEndpoints } from "./routes/mfa-routes.js";
import { providerEndpoints } from "./routes/provider-routes.js";
import { metricsEndpoints, publicEndpoints } from "./routes/public-routes.js";
import { sessionEndpoints } from "./routes/session-routes.js";
import { corsMiddleware } from "./security/cors.js";
import type { HushEnv, ServerContext } from "./server-context.js";
import type { Admin } from "./services/admin.js";
import { Janitor } from "./services/janitor.js";
import { RevocationFeed } from "./services/revocation-feed.js";
import type { Storage } from "./storage/contract.js";

/** What the host (node:http, a framework, a test) tells the server about a connection. */
export interface ConnectionInfo {
  /** The peer's IP address, for rate limits and session metadata. */
  remoteAddress?: string;
}

/** A running auth server: a `Request → Response` handler, the same-process guard, operator actions. */
export interface AuthServer {
  /** Handles one request. Never throws: every failure is a contract error response. */
  fetch(request: Request, connection?: ConnectionInfo): Promise<Response>;
  /**
   * Guards an application route served from the same process (docs/api.md, server.protect): the handler runs
   * only with a valid access token — or, with `assistRefresh`, after a CSRF-checked refresh
   * from the cookie, whose new access token goes back in `X-Access-Token`.
   */
  readonly protect: ReturnType<typeof createProtect>;
  /** Operator actions: create, suspend and unsuspend users, set passwords, list and revoke sessions, rotate keys. */
  readonly admin: Admin;
  /** Stops background work and closes the database. */
  close(): Promise<void>;
}

/**
 * Creates the auth server: opens (and migrates) the database, loads or creates the signing
 * keys, and returns a `Request → Response` handler that mounts in any framework.
 *
 * @example
 * const server = await createAuthServer({ secret: process.env.HUSH_SECRET!, issuer: "https://auth.example.com" });
 * const response = await server.fetch(new Request("https://auth.example.com/health"));
 */
export async function createAuthServer(options: AuthServerOptions & { storage?: Storage }): Promise<AuthServer> {
  const services = await openServices(options);
  const { options: resolved, logger, storage, keys, metrics, events } = services;
  await keys.initialize();
  keys.startReloading(resolved.keyReloadSeconds, (error) => logger.warn({ err: error }, "reloading signing keys failed"));
  const janitor = new Janitor(storage, logger, resolved);
  janitor.start(resolved.pruneIntervalSeconds);
  services.mailer.start();

  const endpoints = [
    ...authEndpoints,
    ...sessionEndpoints,
    ...emailEndpoints,
    ...mfaEndpoints,
    ...providerEndpoints,
    ...publicEndpoints,
    ...(metrics.enabled ? metricsEndpoints : []),
  ];
  const { accessTokens } = services;
  const ctx: ServerContext = {
    options: resolved,
    logger,
    storage,
    keys,
    accessTokens,
    tokens: services.tokens,
    limits: services.limits,
    metrics,
    openApiJson: JSON.stringify(buildOpenApiDocument(resolved.issuer, endpoints)),
    accounts: services.accounts,
    sessions: services.sessions,
    lifecycle: services.lifecycle,
    email: services.email,
    gate: services.gate,
    twoFactor: services.twoFactor,
    passkeys: services.passkeys,
    providers: services.providers,
    feed: new RevocationFeed(storage, keys, resolved),
    cookie: new RefreshCookie(resolved.issuer, resolved.cookieSameSite),
    deviceCookie: new DeviceCookie(resolved.issuer, resolved.cookieSameSite),
    devices: services.devices,
    events,
  };

  const app = new Hono<HushEnv>();
  if (metrics.enabled) {
    app.use("*", async (c, next) => {
      const started = performance.now();
      await next();
      metrics.observeRequest(c.req.routePath, c.req.method, c.res.status, (performance.now() - started) / 1000);
    });
  }
  app.use("*", corsMiddleware(resolved.allowedOrigins));
  mountEndpoints(app, ctx, endpoints);
  app.notFound(() => errorResponse(new HushError("not_found", "No such endpoint.")));
  app.onError((thrown) => errorResponse(reportedError(thrown, logger)));

  const server: AuthServer = {
    async fetch(request, connection = {}) {
      try {
        return await app.fetch(request, { remoteAddress: connection.remoteAddress });
      } catch (thrown) {
        logger.error({ err: thrown }, "request failed outside the router");
        return errorResponse(toHushError(thrown).error);
      }
    },
    protect: createProtect(ctx),
    admin: services.admin,
    async close() {
      await janitor.stop();
      await services.close();
    },
  };
  registerInternals(server, {
    options: resolved,
    storage,
    keys,
    routes: app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, path: r.path })),
    directRoutes: directRoutes(ctx),
  });
  return server;
}
