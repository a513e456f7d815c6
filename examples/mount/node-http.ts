import { createServer } from "node:http";
import { createAuthServer, nodeHandler } from "@hush/server";

export async function mountInNodeHttp(options: Parameters<typeof createAuthServer>[0]) {
  const auth = await createAuthServer(options);
  const handle = nodeHandler(auth);
  const server = createServer((request, response) => {
    if (request.url?.startsWith("/auth/") || request.url === "/.well-known/jwks.json" || request.url === "/health") {
      return void handle(request, response);
    }
    response.writeHead(404).end();
  });
  return { server, auth };
}
