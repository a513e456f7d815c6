import type { KeyObject } from "node:crypto";
import type { AccessTokenClaims } from "@hush/protocol";
import { nodeCrypto, verifySignature } from "./algorithms.js";
import type { ParsedToken } from "./compact.js";
import type { BoundKey } from "./jwk.js";
import { badSignature, createVerifierCore, type TokenVerifier, type VerifierOptions } from "./verifier-core.js";

export type { TokenVerifier, VerifierOptions } from "./verifier-core.js";

/**
 * Verifies one access token: resolves to its claims or rejects with a `TokenError`. Made by
 * `createVerifier()`.
 */
export interface Verifier extends TokenVerifier {
  /**
   * The same check as `verify(token)`, answered at once whenever it can be: returns the frozen
   * claims or throws a `TokenError` synchronously, and returns a promise only while a key has
   * to be fetched. It is synchronous for a token verified before (cache hit; expiry and
   * revocation are still checked), for every token with `keys` or `secret`, and with `jwksUrl`
   * for a `kid` of a JWKS fetched less than `jwksMaxAgeSeconds` (default 600 s) ago. Otherwise
   * one JWKS fetch (at most `fetchTimeoutMs`, default 5,000 ms) comes first: an unknown `kid`
   * at most once per `jwksCooldownSeconds` (default 10 s); a known `kid` of an older set is
   * still served if the fetch fails.
   *
   * For hot paths that must not pay a promise round trip per request — this package's guards
   * use it. Code that can await should call `verify(token)`, which never throws synchronously.
   *
   * @example
   * const result = verify.verifyNow(token); // throws TokenError with .code
   * const claims = result instanceof Promise ? await result : result;
   */
  verifyNow(token: string): Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>>;
}

/**
 * Creates a verifier of Hush access tokens for a resource server: no database, no call to the
 * auth server per request. It follows RFC 8725 and RFC 9068 — algorithms fixed by you and
 * bound per key (never taken from the token), `typ: at+jwt`, strict compact parsing, exact
 * `iss`, `aud`, `exp`/`nbf`/`iat` with a small leeway, tokens over 8 KiB (`MAX_TOKEN_LENGTH`
 * characters) refused unread, key
 * headers (`jwk`, `jku`, `x5u`, `x5c`) ignored, any `crit` refused.
 *
 * On Node, with node:crypto and a synchronous fast path (`verifyNow`). The JWKS is fetched and
 * the revocation feed polled from creation on. `@hush/verify/edge` has the same function on
 * WebCrypto for runtimes without Node's crypto.
 *
 * @example
 * const verify = createVerifier({ issuer: "https://auth.example.com", audience: "notes-api",
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json", revocations: { pollSeconds: 5 } });
 * const claims = await verify(token); // throws TokenError with .code
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const core = createVerifierCore(options, nodeCrypto);
  const { now, keys, revocations } = core;
  const keysReady = core.remote?.prefetch().catch(() => undefined);
  const revocationsReady = revocations?.start();

  /** The whole check: `Verifier.verifyNow`, which documents when it is synchronous. */
  function verifyNow(token: string): Readonly<AccessTokenClaims> | Promise<Readonly<AccessTokenClaims>> {
    const nowSeconds = now() / 1000;
    const hit = core.cached(token, nowSeconds);
    if (hit) return hit;
    const parsed = core.parse(token);
    const found = keys.find(parsed.header.kid as string | undefined);
    if (found instanceof Promise) return found.then((key) => finish(token, parsed, key, nowSeconds));
    return finish(token, parsed, found, nowSeconds);
  }

  function finish(token: string, parsed: ParsedToken, key: BoundKey<KeyObject>, nowSeconds: number): Readonly<AccessTokenClaims> {
    core.checkKey(parsed, key);
    if (!verifySignature(key, parsed.signingInput, parsed.signature)) throw badSignature();
    return core.accept(token, parsed, key, nowSeconds);
  }

  const verify: Verifier = Object.assign(async (token: string) => verifyNow(token), {
    verifyNow,
    ready: Promise.all([keysReady, revocationsReady]).then(() => undefined),
    close: () => revocations?.stop(),
    pollRevocations: async () => revocations?.poll(),
    revocations: revocations?.status,
  });
  return Object.freeze(verify);
}
