import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AuthServer, createAuthServer, type Listening, listen } from "@hush/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNotesService } from "./notes-service.js";
import { startProfileService } from "./profile-service.js";

const AUDIENCE = "example-apis";

describe("two services accept the same access token with no database", () => {
  let folder: string;
  let auth: AuthServer;
  let authHttp: Listening;
  let notes: Awaited<ReturnType<typeof startNotesService>>;
  let profile: Awaited<ReturnType<typeof startProfileService>>;
  let issuer: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "hush-two-services-"));
    // The issuer needs the port first: bind, then create the server behind a placeholder.
    let server: AuthServer | undefined;
    authHttp = await listen(
      { fetch: (r, c) => (server ? server.fetch(r, c) : Promise.resolve(new Response(null, { status: 503 }))) },
      0,
      "127.0.0.1",
    );
    issuer = authHttp.url;
    server = await createAuthServer({
      secret: "d".repeat(64),
      issuer,
      audience: AUDIENCE,
      databaseUrl: `sqlite:${join(folder, "auth.db")}`,
      rateLimits: false,
      keyActivationDelaySeconds: 0,
      logLevel: "warn",
    });
    auth = server;
    notes = await startNotesService({ issuer, audience: AUDIENCE, pollSeconds: 1 });
    profile = await startProfileService({ issuer, audience: AUDIENCE, pollSeconds: 1 });
    await Promise.all([notes.verify.ready, profile.verify.ready]);
  });
  afterAll(async () => {
    await notes.close();
    await profile.close();
    await authHttp.close();
    await auth.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const signup = async (email: string) => {
    const response = await fetch(`${issuer}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hush-csrf": "1" },
      body: JSON.stringify({ email, password: "violet-otter-keeps-42-secrets" }),
    });
    expect(response.status).toBe(201);
    const body = await response.json();
    return {
      token: body.accessToken as string,
      userId: body.user.id as string,
      cookie: response.headers.getSetCookie()[0]?.split(";")[0] as string,
    };
  };
  const call = (url: string, token: string, init: RequestInit = {}) =>
    fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers } });

  it("serves one user on both services with one token", async () => {
    const { token, userId } = await signup("both@example.com");
    expect((await call(`${notes.url}/notes`, token, { method: "POST", body: JSON.stringify({ text: "hello" }) })).status).toBe(201);
    const fromNotes = await (await call(`${notes.url}/notes`, token)).json();
    const fromProfile = await (await call(`${profile.url}/profile`, token)).json();
    expect(fromNotes).toEqual({ service: "notes", user: userId, notes: ["hello"] });
    expect(fromProfile.user).toBe(userId);
    expect((await call(`${profile.url}/admin`, token)).status).toBe(403);
    expect((await fetch(`${notes.url}/notes`)).status).toBe(401);
  });

  it("drops a logged-out session's token on both services within seconds, by the revocation feed", async () => {
    const { token, cookie } = await signup("leaving@example.com");
    expect((await call(`${notes.url}/notes`, token)).status).toBe(200);
    const out = await fetch(`${issuer}/auth/logout`, { method: "POST", headers: { cookie, "x-hush-csrf": "1" } });
    expect(out.status).toBe(204);
    const started = Date.now();
    let statuses: number[] = [];
    while (Date.now() - started < 8_000) {
      statuses = [(await call(`${notes.url}/notes`, token)).status, (await call(`${profile.url}/profile`, token)).status];
      if (statuses.every((s) => s === 401)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(statuses).toEqual([401, 401]);
  });

  it("accepts tokens of a newly rotated key without a restart", async () => {
    const key = await auth.admin.rotateKeys();
    const { token } = await signup("rotated@example.com");
    const kid = JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString()).kid;
    expect(kid).toBe(key.kid);
    expect((await call(`${notes.url}/notes`, token)).status).toBe(200);
    expect((await call(`${profile.url}/profile`, token)).status).toBe(200);
  });
});

describe("a stateless refresh token presented as an access token", () => {
  it("is refused by a verifier", async () => {
    const folder = mkdtempSync(join(tmpdir(), "hush-stateless-"));
    let server: AuthServer | undefined;
    const http = await listen(
      { fetch: (r, c) => (server ? server.fetch(r, c) : Promise.resolve(new Response(null, { status: 503 }))) },
      0,
      "127.0.0.1",
    );
    server = await createAuthServer({
      secret: "e".repeat(64),
      issuer: http.url,
      audience: AUDIENCE,
      databaseUrl: `sqlite:${join(folder, "a.db")}`,
      refreshMode: "stateless",
      logLevel: "warn",
    });
    const service = await startNotesService({ issuer: http.url, audience: AUDIENCE, pollSeconds: 60 });
    try {
      const response = await fetch(`${http.url}/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hush-csrf": "1" },
        body: JSON.stringify({ email: "s@example.com", password: "violet-otter-keeps-42-secrets" }),
      });
      const refreshToken = response.headers.getSetCookie()[0]?.split(";")[0]?.split("=")[1] as string;
      expect(refreshToken.split(".")).toHaveLength(3);
      const refused = await fetch(`${service.url}/notes`, { headers: { authorization: `Bearer ${refreshToken}` } });
      expect(refused.status).toBe(401);
      await expect(service.verify(refreshToken)).rejects.toMatchObject({ code: "unsupported_algorithm" });
    } finally {
      await service.close();
      await http.close();
      await server.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
