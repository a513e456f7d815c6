import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** How the rogue provider bends its ID token (one way per flow). */
export type Bend = "none" | "audience" | "issuer" | "alg-none" | "wrong-key" | "expired" | "nonce" | "error";

/**
 * An OpenID provider that answers a code flow with an ID token bent in one chosen way, to prove
 * that the auth server refuses each. It speaks just enough of the protocol: discovery, JWKS, an
 * authorization endpoint that redirects straight back with a code, and a token endpoint.
 */
export async function startRogueProvider(clientId: string) {
  const key = await generateKeyPair("RS256");
  const other = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(key.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  let bend: Bend = "none";
  const codes = new Map<string, { nonce: string; redirect: string }>();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    const json = (body: unknown, status = 200) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/jwks") return json({ keys: [jwk] });
    if (url.pathname === "/authorize") {
      const code = crypto.randomUUID();
      const redirect = url.searchParams.get("redirect_uri") ?? "";
      codes.set(code, { nonce: url.searchParams.get("nonce") ?? "", redirect });
      const back = new URL(redirect);
      if (bend === "error") back.searchParams.set("error", "server_error");
      else back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === "/token") {
      const form = new URLSearchParams(await bodyOf(req));
      const grant = codes.get(form.get("code") ?? "");
      if (!grant) return json({ error: "invalid_grant" }, 400);
      codes.delete(form.get("code") ?? "");
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        sub: "rogue-user",
        email: "rogue@example.com",
        email_verified: true,
        nonce: bend === "nonce" ? "other-nonce" : grant.nonce,
      };
      let idToken: string;
      if (bend === "alg-none") {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
        idToken = `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, iss: issuer, aud: clientId, iat: now, exp: now + 300 })}.`;
      } else {
        idToken = await new SignJWT(claims)
          .setProtectedHeader({ alg: "RS256", kid: "k1" })
          .setIssuer(bend === "issuer" ? "https://other-issuer.example" : issuer)
          .setAudience(bend === "audience" ? "another-client" : clientId)
          .setIssuedAt(bend === "expired" ? now - 7200 : now)
          .setExpirationTime(bend === "expired" ? now - 3600 : now + 300)
          .sign(bend === "wrong-key" ? other.privateKey : key.privateKey);
      }
      return json({ access_token: "at-rogue", token_type: "Bearer", expires_in: 300, id_token: idToken });
    }
    json({ error: "not_found" }, 404);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    bend(next: Bend) {
      bend = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => resolve(text));
  });
}
