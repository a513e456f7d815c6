import { createAuthServer, nodeHandler } from "@hush/server";
import Fastify from "fastify";

export async function mountInFastify(options: Parameters<typeof createAuthServer>[0]) {
  const auth = await createAuthServer(options);
  const app = Fastify();
  const handle = nodeHandler(auth);
  // Fastify must not parse the body: hand the raw request to the auth server.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  for (const url of ["/auth/*", "/.well-known/jwks.json", "/health"]) {
    app.all(url, async (request, reply) => {
      reply.hijack();
      await handle(request.raw, reply.raw);
    });
  }
  return { app, auth };
}
