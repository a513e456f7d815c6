import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { b64, rawSign, type TestKey } from "./token-factory.js";

/** A stand-in issuer on 127.0.0.1: serves a JWKS and a signed revocation feed that tests control. */
export interface LocalIssuer {
  url: string;
  jwksUrl: string;
  keys: TestKey[];
  revoked: Array<{ sid: string; until: number }>;
  /** Requests seen, by path. */
  hits: Record<string, number>;
  /** While true, every request fails with 500. */
  down: boolean;
  /** Claims added to (or replacing those of) every revocation list served, e.g. `since` or an older `iat`. */
  listClaims: Record<string, unknown>;
  /** The query string of every feed request, in order (`""` for none). */
  feedQueries: string[];
  close(): Promise<void>;
}

export async function startLocalIssuer(keys: TestKey[], now: () => number): Promise<LocalIssuer> {
  const state = {
    keys,
    revoked: [] as Array<{ sid: string; until: number }>,
    hits: {} as Record<string, number>,
    down: false,
    listClaims: {} as Record<string, unknown>,
    feedQueries: [] as string[],
  };
  const server: Server = createServer((req, res) => {
    // A server that knows only full lists ignores `?since=`, as this one does.
    const path = (req.url ?? "/").split("?")[0] as string;
    state.hits[path] = (state.hits[path] ?? 0) + 1;
    if (state.down) {
      res.writeHead(500).end();
      return;
    }
    if (path === "/.well-known/jwks.json") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ keys: state.keys.filter((k) => k.jwk).map((k) => k.jwk) }));
      return;
    }
    if (path === "/auth/revocations") {
      state.feedQueries.push((req.url ?? "").slice(path.length));
      const key = state.keys[0] as TestKey;
      const iat = Math.floor(now() / 1000);
      const header = { alg: key.alg, kid: key.kid, typ: "rl+jwt" };
      const payload = { iss: issuer.url, iat, exp: iat + 60, revoked: state.revoked, ...state.listClaims };
      const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
      res.writeHead(200, { "content-type": "application/jwt" }).end(`${input}.${b64(rawSign(key, input))}`);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer: LocalIssuer = {
    url,
    jwksUrl: `${url}/.well-known/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(value) {
      state.keys = value;
    },
    get revoked() {
      return state.revoked;
    },
    set revoked(value) {
      state.revoked = value;
    },
    get hits() {
      return state.hits;
    },
    get down() {
      return state.down;
    },
    set down(value) {
      state.down = value;
    },
    get listClaims() {
      return state.listClaims;
    },
    set listClaims(value) {
      state.listClaims = value;
    },
    get feedQueries() {
      return state.feedQueries;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return issuer;
}
