import type { AccessTokenClaims } from "@hush/protocol";
import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { Verifier } from "./create-verifier.js";
import { authenticateNow, checkGuardOptions, type GuardOptions, type GuardResult } from "./guard-core.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified access-token claims, set by the `hushFastify` plugin. */
    auth: Readonly<AccessTokenClaims> | null;
  }
}

export interface HushFastifyOptions extends GuardOptions {
  verify: Verifier;
}

/**
 * Fastify plugin: every route of the context it is registered in needs a valid bearer token;
 * its claims are on `request.auth`.
 *
 * @example
 * app.register(async (api) => {
 *   await api.register(hushFastify, { verify });
 *   api.get("/notes", async (request) => ({ user: request.auth?.sub }));
 * });
 */
const plugin: FastifyPluginAsync<HushFastifyOptions> = async (fastify, options) => {
  checkGuardOptions(options);
  if (!fastify.hasRequestDecorator("auth")) fastify.decorateRequest("auth", null);
  fastify.addHook("onRequest", (request, reply, done) => {
    const settle = (result: GuardResult) => {
      if (!result.ok) return void reply.code(result.status).headers(result.headers).send(result.body);
      request.auth = result.claims;
      done();
    };
    try {
      const result = authenticateNow(options.verify, request.headers.authorization, options);
      if (result instanceof Promise) result.then(settle, done);
      else settle(result);
    } catch (error) {
      done(error as Error);
    }
  });
};

export const hushFastify = fp(plugin, { name: "@hush/verify/fastify", fastify: "5.x" });
