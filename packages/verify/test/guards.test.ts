import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hushExpress } from "../src/express.js";
import { hushFastify } from "../src/fastify.js";
import { type HushVariables, hushHono } from "../src/hono.js";
import { createVerifier } from "../src/index.js";
import { hushNode } from "../src/node.js";
import { AUDIENCE, claimsAt, ISSUER, makeKey, token } from "./token-factory.js";

const key = makeKey("EdDSA");
const verify = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [key.jwk] });
const nowS = () => Math.floor(Date.now() / 1000);

type Start = () => Promise<{ url: string; close: () => Promise<void> }>;

function listenNode(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

// Each framework serves GET /me (any valid token) and GET /admin (needs scope "notes:admin").
const GUARDS: Record<string, Start> = {
  express: async () => {
    const app = express();
    app.get("/me", hushExpress(verify), (req, res) => void res.json({ sub: req.auth?.sub }));
    app.get("/admin", hushExpress(verify, { scopes: ["notes:admin"] }), (req, res) => void res.json({ sub: req.auth?.sub }));
    return listenNode(createServer(app));
  },
  fastify: async () => {
    const app = Fastify();
    await app.register(async (api) => {
      await api.register(hushFastify, { verify });
      api.get("/me", async (request) => ({ sub: request.auth?.sub }));
    });
    await app.register(async (api) => {
      await api.register(hushFastify, { verify, scopes: ["notes:admin"] });
      api.get("/admin", async (request) => ({ sub: request.auth?.sub }));
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    return { url, close: () => app.close() };
  },
  hono: async () => {
    const app = new Hono<{ Variables: HushVariables }>();
    app.get("/me", hushHono(verify), (c) => c.json({ sub: c.var.auth.sub }));
    app.get("/admin", hushHono(verify, { scopes: ["notes:admin"] }), (c) => c.json({ sub: c.var.auth.sub }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((r) => server.once("listening", r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((done) => server.close(() => done())),
    };
  },
  node: async () => {
    const me = hushNode(verify, (req, res) => void res.end(JSON.stringify({ sub: req.auth.sub })));
    const admin = hushNode(verify, (req, res) => void res.end(JSON.stringify({ sub: req.auth.sub })), { scopes: ["notes:admin"] });
    return listenNode(createServer((req, res) => (req.url === "/admin" ? admin(req, res) : me(req, res))));
  },
};

for (const [name, start] of Object.entries(GUARDS)) {
  describe(`@hush/verify/${name}`, () => {
    let server: Awaited<ReturnType<Start>>;
    beforeAll(async () => {
      server = await start();
    });
    afterAll(() => server.close());

    it("lets a valid token through and hands the claims to the route", async () => {
      const response = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token(key, claimsAt(nowS()))}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sub: "user-1" });
    });

    it("answers a missing token with 401 and a bare Bearer challenge", async () => {
      const response = await fetch(`${server.url}/me`);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect((await response.json()).error).toBe("invalid_token");
    });

    it("answers a bad token with 401 error=invalid_token", async () => {
      for (const authorization of ["Bearer nope.nope.nope", "Basic dXNlcjpwYXNz", `Bearer ${token(key, claimsAt(nowS() - 3600))}`]) {
        const response = await fetch(`${server.url}/me`, { headers: { authorization } });
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      }
    });

    it("answers a token without the route's scope with 403 insufficient_scope", async () => {
      const response = await fetch(`${server.url}/admin`, {
        headers: { authorization: `Bearer ${token(key, claimsAt(nowS(), { scope: "notes:read" }))}` },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="notes:admin"');
      expect((await response.json()).error).toBe("insufficient_scope");
      const ok = await fetch(`${server.url}/admin`, {
        headers: { authorization: `Bearer ${token(key, claimsAt(nowS(), { scope: "notes:read notes:admin" }))}` },
      });
      expect(ok.status).toBe(200);
    });
  });
}
