import { randomUUID } from "node:crypto";
import { createVerifier } from "@hush/verify";
import { type HushVariables, hushHono } from "@hush/verify/hono";
import { Hono } from "hono";
import { cors } from "hono/cors";

interface Note {
  id: string;
  text: string;
  createdAt: string;
}

/**
 * The demo's resource API: notes per user, kept in memory. It has no database of users or
 * sessions and never calls the auth server per request: it trusts the access token, checked by
 * @hush/verify against the auth server's JWKS, and drops revoked sessions from the feed.
 */
export function createNotesApi(options: { issuer: string; audience: string; webOrigin: string }) {
  const verify = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUrl: new URL("/.well-known/jwks.json", options.issuer).href,
    revocations: { pollSeconds: 2 },
  });
  const notes = new Map<string, Note[]>();
  const app = new Hono<{ Variables: HushVariables }>();
  app.use(
    "*",
    cors({
      origin: options.webOrigin,
      allowHeaders: ["Authorization", "Content-Type"],
      allowMethods: ["GET", "POST", "DELETE"],
      // The client reads the challenge to tell an expired token from an application's own 401.
      exposeHeaders: ["WWW-Authenticate"],
    }),
  );
  // An application's own 401, unrelated to the token: the client must hand it back untouched.
  app.get("/notes/locked", (c) =>
    c.json({ error: "locked", message: "This notebook is locked." }, 401, { "www-authenticate": 'Bearer realm="notes"' }),
  );
  // A step-up route (RFC 9470): a token from a password sign-in is refused with
  // `401 insufficient_user_authentication`; after a re-authentication with a second factor (an
  // authenticator-app code or a passkey) the token's `amr` has "mfa" and the notes show.
  app.get("/secret-notes", hushHono(verify, { amr: ["mfa"] }), (c) =>
    c.json({
      notes: [
        { id: "secret", text: "The vault code is 0427. (Only shown to a sign-in with two factors.)", createdAt: new Date(0).toISOString() },
      ],
      amr: c.var.auth.amr ?? [],
    }),
  );
  app.use("/notes/*", hushHono(verify));
  app.use("/notes", hushHono(verify));
  app.get("/notes", (c) => c.json({ notes: notes.get(c.var.auth.sub) ?? [] }));
  app.post("/notes", async (c) => {
    const body: unknown = await c.req.json().catch(() => null);
    const text =
      typeof body === "object" && body !== null && typeof (body as { text?: unknown }).text === "string"
        ? (body as { text: string }).text.trim()
        : "";
    if (!text || text.length > 2000)
      return c.json({ error: "invalid_request", message: "A note needs 1 to 2000 characters of text." }, 400);
    const note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    notes.set(c.var.auth.sub, [note, ...(notes.get(c.var.auth.sub) ?? [])]);
    return c.json({ note }, 201);
  });
  app.delete("/notes/:id", (c) => {
    const mine = notes.get(c.var.auth.sub) ?? [];
    notes.set(
      c.var.auth.sub,
      mine.filter((n) => n.id !== c.req.param("id")),
    );
    return c.body(null, 204);
  });
  return { app, verify };
}
