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
import { authenticateNow, checkGuardOptions, createVerifier, type GuardOptions, type Verifier } from "../src/index.js";
import { hushNode } from "../src/node.js";
import { type LocalIssuer, startLocalIssuer } from "./local-issuer.js";
import { AUDIENCE, claimsAt, ISSUER, makeKey, token } from "./token-factory.js";

// RFC 9470 step-up through every framework guard, over real HTTP, with keys from a local issuer's JWKS.

const key = makeKey("EdDSA");
const nowS = () => Math.floor(Date.now() / 1000);
let issuer: LocalIssuer;
let verify: Verifier;

/** Each route and the options of its guard. */
const ROUTES: Record<string, GuardOptions> = {
  "/mfa": { amr: ["mfa"] },
  "/recent": { maxAgeSeconds: 300 },
  "/acr": { acrValues: ["phrh", "phr"] },
  "/admin-mfa": { scopes: ["notes:admin"], amr: ["mfa"] },
  "/all": { amr: ["mfa", "hwk"], acrValues: ["phr"], maxAgeSeconds: 300 },
};

const LEVEL = 'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required"';
const RECENT = 'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required"';

type Started = { url: string; close: () => Promise<void> };

function listenNode(server: Server): Promise<Started> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

const GUARDS: Record<string, () => Promise<Started>> = {
  express: async () => {
    const app = express();
    for (const [path, options] of Object.entries(ROUTES))
      app.get(path, hushExpress(verify, options), (req, res) => void res.json({ sub: req.auth?.sub }));
    return listenNode(createServer(app));
  },
  fastify: async () => {
    const app = Fastify();
    for (const [path, options] of Object.entries(ROUTES)) {
      await app.register(async (api) => {
        await api.register(hushFastify, { verify, ...options });
        api.get(path, async (request) => ({ sub: request.auth?.sub }));
      });
    }
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    return { url, close: () => app.close() };
  },
  hono: async () => {
    const app = new Hono<{ Variables: HushVariables }>();
    for (const [path, options] of Object.entries(ROUTES)) app.get(path, hushHono(verify, options), (c) => c.json({ sub: c.var.auth.sub }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((r) => server.once("listening", r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((done) => server.close(() => done())),
    };
  },
  node: async () => {
    const handlers = Object.fromEntries(
      Object.entries(ROUTES).map(([path, options]) => [
        path,
        hushNode(verify, (req, res) => void res.end(JSON.stringify({ sub: req.auth.sub })), options),
      ]),
    );
    return listenNode(
      createServer((req, res) => {
        const handler = handlers[req.url ?? ""];
        if (handler) handler(req, res);
        else res.writeHead(404).end();
      }),
    );
  },
};

beforeAll(async () => {
  issuer = await startLocalIssuer([key], Date.now);
  verify = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: issuer.jwksUrl });
  await verify.ready;
});
afterAll(() => issuer.close());

for (const [name, start] of Object.entries(GUARDS)) {
  describe(`step-up through @hush/verify/${name}`, () => {
    let server: Started;
    beforeAll(async () => {
      server = await start();
    });
    afterAll(() => server.close());

    const get = (path: string, claims: Record<string, unknown> | string) =>
      fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${typeof claims === "string" ? claims : token(key, claimsAt(nowS(), claims))}` },
      });

    it("refuses a password-only token on a route that needs mfa, with the RFC 9470 challenge and the amr asked for", async () => {
      const response = await get("/mfa", { amr: ["pwd"], auth_time: nowS() });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(LEVEL);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = await response.json();
      expect(body).toMatchObject({ error: "insufficient_user_authentication", amr: ["mfa"] });
      expect(body.message).toContain("mfa");
    });

    it("lets a token through when its amr lists every method asked for", async () => {
      const response = await get("/mfa", { amr: ["pwd", "otp", "mfa"], auth_time: nowS() });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sub: "user-1" });
    });

    it("refuses a token without an amr claim, or with one that is not an array", async () => {
      for (const claims of [{}, { amr: "mfa" }, { amr: null }]) {
        const response = await get("/mfa", claims);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe(LEVEL);
      }
    });

    it("refuses a sign-in older than maxAgeSeconds with max_age, and a token without auth_time", async () => {
      for (const claims of [{ auth_time: nowS() - 600 }, {}, { auth_time: "0" }]) {
        const response = await get("/recent", claims);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe(`${RECENT}, max_age=300`);
        expect((await response.json()).amr).toBeUndefined();
      }
      expect((await get("/recent", { auth_time: nowS() - 60 })).status).toBe(200);
    });

    it("refuses an acr that is not one of acrValues with acr_values, in the route's order", async () => {
      for (const claims of [{ acr: "pwd" }, {}, { acr: ["phr"] }]) {
        const response = await get("/acr", claims);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe(`${LEVEL}, acr_values="phrh phr"`);
      }
      expect((await get("/acr", { acr: "phr" })).status).toBe(200);
    });

    it("names every requirement of the route in the challenge, whichever failed", async () => {
      const stale = await get("/all", { amr: ["hwk", "mfa", "user"], acr: "phr", auth_time: nowS() - 600 });
      expect(stale.status).toBe(401);
      expect(stale.headers.get("www-authenticate")).toBe(`${RECENT}, acr_values="phr", max_age=300`);
      expect((await stale.json()).amr).toEqual(["mfa", "hwk"]);
      const weak = await get("/all", { amr: ["pwd"], acr: "phr", auth_time: nowS() });
      expect(weak.headers.get("www-authenticate")).toBe(`${LEVEL}, acr_values="phr", max_age=300`);
      expect((await get("/all", { amr: ["hwk", "mfa", "user"], acr: "phr", auth_time: nowS() })).status).toBe(200);
    });

    it("answers a bad token with 401 invalid_token first, then a missing scope with 403, then step-up", async () => {
      const expired = token(key, claimsAt(nowS() - 3600, { amr: ["pwd"] }));
      const bad = await get("/admin-mfa", expired);
      expect(bad.status).toBe(401);
      expect(bad.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect((await bad.json()).error).toBe("invalid_token");
      const noScope = await get("/admin-mfa", { amr: ["pwd"], scope: "notes:read" });
      expect(noScope.status).toBe(403);
      expect((await noScope.json()).error).toBe("insufficient_scope");
      const weak = await get("/admin-mfa", { amr: ["pwd"], scope: "notes:admin" });
      expect(weak.status).toBe(401);
      expect((await weak.json()).error).toBe("insufficient_user_authentication");
      expect((await get("/admin-mfa", { amr: ["mfa"], scope: "notes:admin" })).status).toBe(200);
    });
  });
}

describe("step-up options", () => {
  it("are checked when a guard is made, naming the bad one", () => {
    expect(() => hushExpress(verify, { amr: ["m fa"] })).toThrow(/options\.amr/);
    expect(() => hushHono(verify, { acrValues: ['a"b'] })).toThrow(/options\.acrValues/);
    expect(() => hushNode(verify, () => undefined, { maxAgeSeconds: -1 })).toThrow(/options\.maxAgeSeconds/);
    expect(() => checkGuardOptions({ maxAgeSeconds: 1.5 })).toThrow(/options\.maxAgeSeconds/);
    expect(() => checkGuardOptions({ amr: "mfa" as unknown as string[] })).toThrow(/options\.amr/);
    expect(() => checkGuardOptions({ amr: ["mfa"], acrValues: ["urn:acr:2"], maxAgeSeconds: 0 })).not.toThrow();
  });

  it("keep a cached token's amr from being edited by one request for the next", async () => {
    const jwt = token(key, claimsAt(nowS(), { amr: ["pwd"] }));
    const first = await authenticateNow(verify, `Bearer ${jwt}`, { amr: ["mfa"] });
    expect(first.ok).toBe(false);
    const claims = await verify(jwt);
    expect(() => (claims.amr as string[]).push("mfa")).toThrow(TypeError);
    expect((await authenticateNow(verify, `Bearer ${jwt}`, { amr: ["mfa"] })).ok).toBe(false);
  });
});
