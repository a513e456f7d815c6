// What the Node entry (`create-verifier.ts`, node:crypto, synchronous fast path) and the edge
// entry (`edge.ts`, WebCrypto, asynchronous) share: options and their checks, the key sources,
// the revocation list, the verified-token cache, and every check of a token but the signature.
// No `node:` import and no Node global here or below: `test/edge.test.ts` bundles it to prove it.
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, isSigningAlgorithm, SIGNING_ALGORITHMS } from "@hush/protocol";
import { type Base64urlDecoder, type ParsedToken, parseCompact } from "./compact.js";
import { type Algorithm, type BoundKey, type PublicJwk, secretBytes, selectJwks } from "./jwk.js";
import { type KeySource, RemoteJwks, StaticKeys } from "./key-source.js";
import { DEFAULT_MAX_LIST_BYTES, RevocationList, type RevocationOptions, type RevocationStatus } from "./revocation-list.js";
import { TokenError } from "./token-error.js";
import { VerifiedCache } from "./verified-cache.js";

/** Options of `createVerifier()`. Exactly one of `jwksUrl`, `keys` and `secret`. */
export interface VerifierOptions {
  /** The auth server's `iss`, matched exactly. */
  issuer: string;
  /** This service's audience; a token must name at least one of them in `aud`. */
  audience: string | readonly string[];
  /** The issuer's JWKS, e.g. `https://auth.example.com/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** A fixed JWK Set (`{keys: [...]}`) or array of public JWKs. */
  keys?: { keys: unknown[] } | unknown[];
  /** HS256 shared secret(s): bytes or base64url text (`hush keys secret`), ≥ 32 bytes. */
  secret?: string | Uint8Array | ReadonlyArray<{ kid: string; secret: string | Uint8Array }>;
  /** Algorithms accepted. Default: `EdDSA`, `ES256`, `RS256` with keys; `HS256` with a secret. */
  algorithms?: readonly Algorithm[];
  /** Clock tolerance for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  leewaySeconds?: number;
  /**
   * Poll the issuer's revocation feed and refuse tokens of revoked sessions: `pollSeconds`,
   * and optionally `url`, `maxListBytes` (default 32 MiB), `maxStaleSeconds` (default the
   * larger of 60 and 3 × `pollSeconds`) and `whenStale` (`"accept"`, the default, or `"reject"`).
   */
  revocations?: RevocationOptions;
  /** Verified tokens kept, by token string. Default 10,000; 0 turns the cache off. */
  cacheSize?: number;
  /** Timeout of each JWKS or feed request, in milliseconds. Default 5,000. */
  fetchTimeoutMs?: number;
  /** Re-fetch the JWKS at least this often, in seconds. Default 600. */
  jwksMaxAgeSeconds?: number;
  /** At most one JWKS fetch for an unknown `kid` per this many seconds. Default 10. */
  jwksCooldownSeconds?: number;
  /** Warnings (an unreachable, refused or stale feed); default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Milliseconds since the epoch; tests inject a clock. */
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * Verifies one access token: resolves to its claims or rejects with a `TokenError`. What every
 * verifier is, on every runtime; Node's adds `verifyNow`.
 */
export interface TokenVerifier {
  (token: string): Promise<Readonly<AccessTokenClaims>>;
  /** Resolves once the first JWKS fetch and feed poll have finished (successfully or not). */
  readonly ready: Promise<void>;
  /** Stops polling the revocation feed. */
  close(): void;
  /** Polls the revocation feed now. */
  pollRevocations(): Promise<void>;
  /**
   * The revocation list's state, read live — `staleSeconds`, `stale`, `size`, `iat` and
   * counters — for a health check or a metrics gauge; undefined without `revocations`.
   */
  readonly revocations: RevocationStatus | undefined;
}

/** A runtime's crypto: key import and signature check, each synchronous or not. `K` is its key type. */
export interface CryptoBackend<K> {
  decode: Base64urlDecoder;
  /** Imports selected public keys; a key the runtime cannot import is left out, never fatal. */
  importJwks(selected: readonly PublicJwk[]): BoundKey<K>[] | Promise<BoundKey<K>[]>;
  importSecret(bytes: Uint8Array<ArrayBuffer>, kid: string | undefined): BoundKey<K> | Promise<BoundKey<K>>;
  verifySignature(key: BoundKey<K>, signingInput: string, signature: Uint8Array): boolean | Promise<boolean>;
}

/** The shared verifier: an entry adds the signature check and decides when I/O starts. */
export interface VerifierCore<K> {
  readonly now: () => number;
  readonly keys: KeySource<K>;
  /** Set with `jwksUrl`. */
  readonly remote: RemoteJwks<K> | undefined;
  readonly revocations: RevocationList<K> | undefined;
  /** Throws `missing` for no token; a cached token's claims (time and revocation re-checked), or undefined. */
  cached(token: unknown, nowSeconds: number): Readonly<AccessTokenClaims> | undefined;
  /** Strict parsing and every header check: before any key is looked up. */
  parse(token: string): ParsedToken;
  /** The key's algorithm must be the token's: before the signature is checked. */
  checkKey(parsed: ParsedToken, key: BoundKey<K>): void;
  /** After the signature verified: the claims, checked, frozen and cached. */
  accept(token: string, parsed: ParsedToken, key: BoundKey<K>, nowSeconds: number): Readonly<AccessTokenClaims>;
}

const ASYMMETRIC: readonly Algorithm[] = ["EdDSA", "ES256", "RS256"];

const REQUIRED_STRINGS = ["sub", "jti", "client_id"] as const;

function fail(name: string, requirement: string): never {
  throw new TypeError(`options.${name} ${requirement}`);
}

/** `at+jwt`, case-insensitively, with or without the `application/` prefix (RFC 9068 §4). */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  const lower = typ.toLowerCase();
  return lower === ACCESS_TOKEN_TYPE || lower === `application/${ACCESS_TOKEN_TYPE}`;
}

/** The error of a signature that does not verify, the same from every entry. */
export function badSignature(): TokenError {
  return new TokenError("bad_signature", "the signature does not verify");
}

/**
 * Checks the options (a `TypeError` naming a bad one), imports configured keys and builds the
 * key source, cache and revocation list. Starts no I/O: the entry decides when.
 */
export function createVerifierCore<K>(options: VerifierOptions, backend: CryptoBackend<K>): VerifierCore<K> {
  if (typeof options.issuer !== "string" || options.issuer === "") fail("issuer", "must be the auth server's issuer URL");
  const audiences = typeof options.audience === "string" ? [options.audience] : [...(options.audience ?? [])];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a === ""))
    fail("audience", "must be one or more non-empty strings");
  const sources = [options.jwksUrl, options.keys, options.secret].filter((s) => s !== undefined).length;
  if (sources !== 1) fail("jwksUrl", "or options.keys or options.secret: exactly one is required");
  const requested: readonly unknown[] = options.algorithms ?? (options.secret !== undefined ? ["HS256"] : ASYMMETRIC);
  const algorithms = new Set<Algorithm>();
  for (const alg of requested) {
    if (!isSigningAlgorithm(alg)) fail("algorithms", `may hold only ${SIGNING_ALGORITHMS.join(", ")} (got ${String(alg)})`);
    algorithms.add(alg);
  }
  if (options.secret !== undefined && !algorithms.has("HS256")) fail("algorithms", "must include HS256 when a secret is given");
  const leeway = options.leewaySeconds ?? 5;
  if (!Number.isFinite(leeway) || leeway < 0 || leeway > 300) fail("leewaySeconds", "must be between 0 and 300");
  const cacheSize = options.cacheSize ?? 10_000;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) fail("cacheSize", "must be a whole number ≥ 0");
  const now = options.now ?? Date.now;
  // Called as `fetch(...)`, never detached: some runtimes refuse a `fetch` called on another `this`.
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.fetchTimeoutMs ?? 5_000;
  const onWarning = options.onWarning ?? ((message: string) => console.warn(message));
  const issuer = options.issuer;
  const decode = backend.decode;

  let keys: KeySource<K>;
  let remote: RemoteJwks<K> | undefined;
  if (options.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.jwksUrl);
    } catch {
      fail("jwksUrl", "must be an absolute URL");
    }
    remote = new RemoteJwks<K>({
      url: url.href,
      load: (jwks) => backend.importJwks(selectJwks(jwks, algorithms)),
      timeoutMs,
      maxAgeMs: (options.jwksMaxAgeSeconds ?? 600) * 1000,
      cooldownMs: (options.jwksCooldownSeconds ?? 10) * 1000,
      fetch: doFetch,
      now,
    });
    keys = remote;
  } else if (options.keys !== undefined) {
    const set = Array.isArray(options.keys) ? { keys: options.keys } : options.keys;
    const selected = selectJwks(set, algorithms);
    const imported = selected.length > 0 ? backend.importJwks(selected) : [];
    if (Array.isArray(imported) && imported.length === 0) fail("keys", "holds no public signing key of an allowed algorithm");
    keys = new StaticKeys<K>(
      imported instanceof Promise
        ? imported.then((bound) => {
            if (bound.length === 0) onWarning("hush verify: options.keys holds no key this runtime could import: every token is refused");
            return bound;
          })
        : imported,
    );
  } else {
    const secrets = options.secret as NonNullable<VerifierOptions["secret"]>;
    const list =
      typeof secrets === "string" || secrets instanceof Uint8Array
        ? [{ kid: undefined, bytes: secretBytes(secrets) }]
        : secrets.map((s) => ({ kid: s.kid, bytes: secretBytes(s.secret) }));
    const bound = list.map(({ kid, bytes }) => backend.importSecret(bytes, kid));
    keys = new StaticKeys<K>(
      bound.some((b) => b instanceof Promise)
        ? Promise.all(bound).catch((error: unknown) => {
            onWarning(`hush verify: this runtime could not import options.secret (${String(error)}): every token is refused`);
            return [];
          })
        : (bound as BoundKey<K>[]),
    );
  }

  const cache = new VerifiedCache(cacheSize);
  keys.onRemoved((kids) => cache.dropKeys(kids));
  let revocations: RevocationList<K> | undefined;
  if (options.revocations !== undefined) {
    const r = options.revocations;
    const pollSeconds = r.pollSeconds;
    if (typeof pollSeconds !== "number" || !Number.isFinite(pollSeconds) || pollSeconds <= 0)
      fail("revocations.pollSeconds", "must be a positive number of seconds");
    let url: string;
    try {
      url = new URL(r.url ?? "/auth/revocations", issuer).href;
    } catch {
      fail("revocations.url", "must be an absolute URL");
    }
    const maxListBytes = r.maxListBytes ?? DEFAULT_MAX_LIST_BYTES;
    if (!Number.isSafeInteger(maxListBytes) || maxListBytes < 1024)
      fail("revocations.maxListBytes", "must be a whole number of bytes ≥ 1024");
    const maxStaleSeconds = r.maxStaleSeconds ?? Math.max(60, 3 * pollSeconds);
    if (typeof maxStaleSeconds !== "number" || !Number.isFinite(maxStaleSeconds) || maxStaleSeconds <= 0)
      fail("revocations.maxStaleSeconds", "must be a positive number of seconds");
    const whenStale = r.whenStale ?? "accept";
    if (whenStale !== "accept" && whenStale !== "reject") fail("revocations.whenStale", 'must be "accept" or "reject"');
    revocations = new RevocationList<K>(url, issuer, keys, {
      pollSeconds,
      maxListBytes,
      maxStaleSeconds,
      whenStale,
      timeoutMs,
      fetch: doFetch,
      now,
      onWarning,
      verifySignature: backend.verifySignature,
      decode,
    });
  }

  /** Checks that change with time, on a fresh token and on every cache hit alike. */
  function checkLive(claims: Readonly<AccessTokenClaims>, nowSeconds: number): void {
    if (claims.exp + leeway <= nowSeconds) throw new TokenError("expired", "the token has expired");
    if (typeof claims.nbf === "number" && claims.nbf - leeway > nowSeconds)
      throw new TokenError("not_yet_valid", "the token is not valid yet");
    if (claims.iat - leeway > nowSeconds) throw new TokenError("issued_in_future", "the token was issued in the future");
    revocations?.check(typeof claims.sid === "string" ? claims.sid : undefined, nowSeconds);
  }

  function checkClaims(payload: Record<string, unknown>): Readonly<AccessTokenClaims> {
    if (payload.iss !== issuer) throw new TokenError("wrong_issuer", "the token's iss is not the configured issuer");
    const aud = payload.aud;
    const audOk =
      typeof aud === "string"
        ? audiences.includes(aud)
        : Array.isArray(aud) && aud.every((a) => typeof a === "string") && aud.some((a) => audiences.includes(a));
    if (!audOk) throw new TokenError("wrong_audience", "the token is not meant for this audience");
    if (typeof payload.exp !== "number" || !Number.isFinite(payload.exp)) throw new TokenError("invalid_claims", "exp must be a number");
    if (typeof payload.iat !== "number" || !Number.isFinite(payload.iat)) throw new TokenError("invalid_claims", "iat must be a number");
    if (payload.nbf !== undefined && (typeof payload.nbf !== "number" || !Number.isFinite(payload.nbf)))
      throw new TokenError("invalid_claims", "nbf must be a number");
    for (const name of REQUIRED_STRINGS) {
      if (typeof payload[name] !== "string" || payload[name] === "")
        throw new TokenError("invalid_claims", `${name} must be a non-empty string`);
    }
    if (payload.sid !== undefined && typeof payload.sid !== "string") throw new TokenError("invalid_claims", "sid must be a string");
    if (Array.isArray(aud)) Object.freeze(aud);
    // Cached claims are shared by every request that presents the token: nothing may edit them.
    if (Array.isArray(payload.amr)) Object.freeze(payload.amr);
    return Object.freeze(payload) as Readonly<AccessTokenClaims>;
  }

  return {
    now,
    keys,
    remote,
    revocations,
    cached(token, nowSeconds) {
      if (typeof token !== "string" || token === "") throw new TokenError("missing", "no token");
      const hit = cache.get(token);
      if (!hit) return undefined;
      checkLive(hit.claims, nowSeconds);
      return hit.claims;
    },
    parse(token) {
      const parsed = parseCompact(token, decode);
      const { header } = parsed;
      if (!isSigningAlgorithm(header.alg) || !algorithms.has(header.alg))
        throw new TokenError("unsupported_algorithm", `alg ${String(header.alg)} is not accepted`);
      if (!isAccessTokenType(header.typ)) throw new TokenError("wrong_type", "typ must be at+jwt");
      // No JWS extension is understood, so any critical one is refused (RFC 7515 §4.1.11),
      // and so is an unencoded payload (RFC 7797).
      if (header.crit !== undefined) throw new TokenError("malformed", "critical header parameters are not supported");
      if (header.b64 !== undefined && header.b64 !== true) throw new TokenError("malformed", "unencoded payloads are not supported");
      if (header.kid !== undefined && typeof header.kid !== "string") throw new TokenError("malformed", "kid must be a string");
      return parsed;
    },
    checkKey(parsed, key) {
      if (key.alg !== parsed.header.alg)
        throw new TokenError("unsupported_algorithm", `the key ${key.kid ?? ""} is bound to ${key.alg}, not ${String(parsed.header.alg)}`);
    },
    accept(token, parsed, key, nowSeconds) {
      const claims = checkClaims(parsed.payload);
      checkLive(claims, nowSeconds);
      cache.set(token, { claims, kid: key.kid });
      return claims;
    },
  };
}
