import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createVerifier } from "@hush/verify";
import { hushNode } from "@hush/verify/node";

/** A profile API on plain node:http: `/profile` for any signed-in user, `/admin` for the `profile:admin` scope. */
export async function startProfileService(options: { issuer: string; audience: string; pollSeconds: number }) {
  const verify = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUrl: new URL("/.well-known/jwks.json", options.issuer).href,
    revocations: { pollSeconds: options.pollSeconds },
    jwksCooldownSeconds: 1,
  });
  const json = (body: unknown) => JSON.stringify(body);
  const profile = hushNode(
    verify,
    (req, res) =>
      void res
        .writeHead(200, { "content-type": "application/json" })
        .end(json({ service: "profile", user: req.auth.sub, session: req.auth.sid })),
  );
  const admin = hushNode(verify, (_req, res) => void res.writeHead(200).end(json({ admin: true })), { scopes: ["profile:admin"] });
  const server = createServer((req, res) => (req.url === "/admin" ? admin(req, res) : profile(req, res)));
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
