import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerifier } from "@hush/verify";
import { hushExpress } from "@hush/verify/express";
import express from "express";

/** A notes API: every route needs a valid access token; notes are kept per user, in memory. */
export async function startNotesService(options: { issuer: string; audience: string; pollSeconds: number }) {
  const verify = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUrl: new URL("/.well-known/jwks.json", options.issuer).href,
    revocations: { pollSeconds: options.pollSeconds },
    jwksCooldownSeconds: 1,
  });
  const notes = new Map<string, string[]>();
  const app = express();
  app.use(express.json());
  app.use(hushExpress(verify));
  app.get("/notes", (req, res) => void res.json({ service: "notes", user: req.auth?.sub, notes: notes.get(req.auth?.sub ?? "") ?? [] }));
  app.post("/notes", (req, res) => {
    const user = req.auth?.sub ?? "";
    notes.set(user, [...(notes.get(user) ?? []), String(req.body?.text ?? "")]);
    res.status(201).json({ ok: true });
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    verify,
    close: async () => {
      verify.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
