import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { serve } from "@hono/node-server";
import { afterEach, describe, expect, it } from "vitest";
import { mountInExpress } from "./express.js";
import { mountInFastify } from "./fastify.js";
import { mountInHono } from "./hono.js";
import { mountInNodeHttp } from "./node-http.js";

const SECRET = "ef".repeat(32);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts one of the examples on a free port; the auth server's issuer is that address. */
async function start(framework: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const options = { secret: SECRET, issuer: url, databaseUrl: "sqlite::memory:", logLevel: "silent", rateLimits: false } as const;
  const closeServer = (server: Server) => new Promise<void>((done) => server.close(() => done()));
  switch (framework) {
    case "express": {
      const { app, auth } = await mountInExpress(options);
      const server = app.listen(port, "127.0.0.1");
      await new Promise((r) => server.once("listening", r));
      return { url, stop: () => closeServer(server).then(() => auth.close()) };
    }
    case "fastify": {
      const { app, auth } = await mountInFastify(options);
      await app.listen({ port, host: "127.0.0.1" });
      return { url, stop: () => app.close().then(() => auth.close()) };
    }
    case "hono": {
      const { app, auth } = await mountInHono(options);
      const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }) as Server;
      await new Promise((r) => server.once("listening", r));
      return { url, stop: () => closeServer(server).then(() => auth.close()) };
    }
    default: {
      const { server, auth } = await mountInNodeHttp(options);
      await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
      return { url, stop: () => closeServer(server).then(() => auth.close()) };
    }
  }
}

let running: { stop(): Promise<void> } | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe("mounting createAuthServer in an application", () => {
  for (const framework of ["express", "fastify", "hono", "node-http"]) {
    it(`works in ${framework}: sign-up, refresh with the rotated cookie, /auth/me, the JWKS`, async () => {
      const app = await start(framework);
      running = app;
      const headers = { "content-type": "application/json", "x-hush-csrf": "1", origin: app.url };
      const signup = await fetch(`${app.url}/auth/signup`, {
        method: "POST",
        headers,
        body: JSON.stringify({ email: `${framework}@example.com`, password: "violet-otter-keeps-42-secrets" }),
      });
      expect(signup.status).toBe(201);
      const cookie = signup.headers.getSetCookie()[0]?.split(";")[0] as string;
      const refresh = await fetch(`${app.url}/auth/refresh`, { method: "POST", headers: { ...headers, cookie } });
      expect(refresh.status).toBe(200);
      const { accessToken } = (await refresh.json()) as { accessToken: string };
      const me = await fetch(`${app.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(((await me.json()) as { user: { email: string } }).user.email).toBe(`${framework}@example.com`);
      expect((await fetch(`${app.url}/.well-known/jwks.json`)).status).toBe(200);
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
    });
  }

  it("shows in the README exactly the code that runs here", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const file of ["express.ts", "fastify.ts", "hono.ts", "node-http.ts"]) {
      expect(readme, file).toContain(readFileSync(new URL(`./${file}`, import.meta.url), "utf8").trim());
    }
  });
});
