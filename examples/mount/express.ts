import { createAuthServer, nodeHandler } from "@hush/server";
import express from "express";

export async function mountInExpress(options: Parameters<typeof createAuthServer>[0]) {
  const auth = await createAuthServer(options);
  const app = express();
  // Before any body parser: the auth server reads its own bodies.
  app.all(["/auth/*path", "/.well-known/jwks.json", "/health"], nodeHandler(auth));
  app.get("/hello", (_req, res) => res.json({ hello: "world" }));
  return { app, auth };
}
