// The baseline of the scale benchmark: a bare node:http handler that answers sign-up and
// refresh with a fixed body and cookie, doing no work at all.
import { createServer } from "node:http";

const body = JSON.stringify({
  accessToken: "x".repeat(400),
  tokenType: "Bearer",
  expiresIn: 600,
  user: { id: "u", email: "e", createdAt: "t" },
});
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(req.url === "/auth/signup" ? 201 : 200, {
      "content-type": "application/json",
      "cache-control": "no-store",
      "set-cookie": `__Host-hush_rt=${"a".repeat(22)}.${"b".repeat(43)}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Strict`,
    });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
