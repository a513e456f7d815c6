// One HTTP server for the guard benchmark: `node verify-servers.mjs KIND bare|guarded JWK`.
// Prints its URL on the first line of stdout. The handler answers a small JSON body.
import { createServer } from "node:http";
import { join } from "node:path";
import { ROOT } from "./lib.mjs";

const [kind, mode, jwkJson] = process.argv.slice(2);
const guarded = mode === "guarded";
const { createVerifier } = await import(join(ROOT, "packages/verify/dist/index.js"));
const verify = createVerifier({ issuer: "https://auth.bench.test", audience: "bench-api", keys: [JSON.parse(jwkJson)] });
const body = JSON.stringify({ ok: true });
let url;

if (kind === "node") {
  const { hushNode } = await import(join(ROOT, "packages/verify/dist/node.js"));
  const handler = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body);
  const server = createServer(guarded ? hushNode(verify, handler) : handler);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${server.address().port}`;
} else if (kind === "express") {
  const express = (await import("express")).default;
  const { hushExpress } = await import(join(ROOT, "packages/verify/dist/express.js"));
  const app = express();
  if (guarded) app.use(hushExpress(verify));
  app.get("/", (_req, res) => res.type("application/json").send(body));
  const server = createServer(app);
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${server.address().port}`;
} else if (kind === "fastify") {
  const Fastify = (await import("fastify")).default;
  const { hushFastify } = await import(join(ROOT, "packages/verify/dist/fastify.js"));
  const app = Fastify();
  if (guarded) await app.register(hushFastify, { verify });
  app.get("/", async (_req, reply) => reply.type("application/json").send(body));
  url = await app.listen({ port: 0, host: "127.0.0.1" });
} else if (kind === "hono") {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const { hushHono } = await import(join(ROOT, "packages/verify/dist/hono.js"));
  const app = new Hono();
  if (guarded) app.use("*", hushHono(verify));
  app.get("/", (c) => c.body(body, 200, { "content-type": "application/json" }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((r) => server.once("listening", r));
  url = `http://127.0.0.1:${server.address().port}`;
}
process.stdout.write(`${url}\n`);
