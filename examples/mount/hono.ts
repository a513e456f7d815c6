import { createAuthServer } from "@hush/server";
import { Hono } from "hono";

export async function mountInHono(options: Parameters<typeof createAuthServer>[0]) {
  const auth = await createAuthServer(options);
  const app = new Hono<{ Bindings: { incoming?: { socket?: { remoteAddress?: string } } } }>();
  const forward = (c: { req: { raw: Request }; env: { incoming?: { socket?: { remoteAddress?: string } } } }) =>
    auth.fetch(c.req.raw, { remoteAddress: c.env.incoming?.socket?.remoteAddress });
  app.all("/auth/*", forward);
  app.get("/.well-known/jwks.json", forward);
  app.get("/health", forward);
  return { app, auth };
}
