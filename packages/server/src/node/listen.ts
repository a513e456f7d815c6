import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { AuthServer } from "../create-auth-server.js";
import { maybeInternalsOf } from "../internals.js";

/** A node:http server running an auth server. */
export interface Listening {
  server: Server;
  /** `http://HOST:PORT` as actually bound (a `0` port is resolved). */
  url: string;
  close(): Promise<void>;
}

/**
 * A node:http request listener for an auth server, for mounting it in Express, Fastify
 * (`reply.hijack()`, then `req.raw`/`reply.raw`) or a bare `http.createServer`. The peer's
 * address goes to the server as the client IP (behind a proxy, set `trustProxy`).
 *
 * @example
 * http.createServer(nodeHandler(server)).listen(4000);
 */
export function nodeHandler(auth: Pick<AuthServer, "fetch">): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const viaFetch = getRequestListener((request: Request, env: { incoming?: { socket?: { remoteAddress?: string } } }) =>
    auth.fetch(request, { remoteAddress: env.incoming?.socket?.remoteAddress }),
  );
  return (request, response) => {
    // Looked up per request (one WeakMap read): a host may register the server after listening.
    const route = maybeInternalsOf(auth)?.directRoutes.get(`${request.method} ${request.url}`);
    return route ? route(request, response) : viaFetch(request, response);
  };
}

/** Serves an `AuthServer` (or any `Request → Response` handler taking connection info) on node:http. */
export function listen(auth: Pick<AuthServer, "fetch">, port: number, host: string): Promise<Listening> {
  const server = createServer(nodeHandler(auth));
  // Keep-alive sockets must not outlive a load balancer's idle timeout (commonly 60 s).
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${urlHost}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
