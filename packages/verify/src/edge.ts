// `@hush/verify/edge`: the same `createVerifier` on runtimes that have only WebCrypto (Vercel
// Edge, Cloudflare Workers, Deno, Bun): asynchronous, through `crypto.subtle`, with the JWKS and
// revocation feed fetched with `fetch`. No `node:` import in its import graph
// (test/edge.test.ts bundles it to prove that).
import type { AccessTokenClaims } from "@hush/protocol";
import { badSignature, createVerifierCore, type TokenVerifier, type VerifierOptions } from "./verifier-core.js";
import { verifySignature, webCrypto } from "./webcrypto.js";

export type { AccessTokenClaims } from "@hush/protocol";
export { MAX_TOKEN_LENGTH, SIGNING_ALGORITHMS as ALGORITHMS } from "@hush/protocol";
export type { GuardErrorBody, GuardOptions, GuardResult, GuardVerifier } from "./guard-core.js";
export { authenticate, authenticateNow, bearerChallenge, checkGuardOptions } from "./guard-core.js";
export type { Algorithm } from "./jwk.js";
export type { RevocationOptions, RevocationStatus } from "./revocation-list.js";
export type { TokenErrorCode } from "./token-error.js";
export { isTokenError, TokenError } from "./token-error.js";
export type { VerifierOptions } from "./verifier-core.js";

/**
 * Verifies one access token: resolves to its claims or rejects with a `TokenError`. The Node
 * verifier's API without `verifyNow`: every check here is asynchronous.
 */
export type Verifier = TokenVerifier;

/**
 * Creates a verifier of Hush access tokens on WebCrypto: the options, checks and error codes of
 * `@hush/verify`'s `createVerifier`, asynchronous only.
 *
 * Nothing is fetched at creation (an isolate may not do I/O outside a request, nor keep a
 * timer): the first verification fetches the JWKS (with `jwksUrl`) and, with `revocations`,
 * waits for the first feed poll, each wait bounded by `fetchTimeoutMs` + 1 s. Later polls start from a
 * verification once `pollSeconds` have passed and run in the background; `ready` starts both
 * fetches and resolves when they have settled.
 *
 * @example
 * import { createVerifier } from "@hush/verify/edge";
 * const verify = createVerifier({ issuer: "https://auth.example.com", audience: "notes-api",
 *   jwksUrl: "https://auth.example.com/.well-known/jwks.json" });
 * const claims = await verify(token); // rejects with TokenError with .code
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const onWarning = options.onWarning ?? ((message: string) => console.warn(message));
  const core = createVerifierCore(options, webCrypto(onWarning));
  const { now, keys, revocations } = core;
  let ready: Promise<void> | undefined;

  async function verify(token: string): Promise<Readonly<AccessTokenClaims>> {
    const first = revocations?.pollIfDue();
    if (first) await first;
    const nowSeconds = now() / 1000;
    const hit = core.cached(token, nowSeconds);
    if (hit) return hit;
    const parsed = core.parse(token);
    const key = await keys.find(parsed.header.kid as string | undefined);
    core.checkKey(parsed, key);
    if (!(await verifySignature(key, parsed.signingInput, parsed.signature))) throw badSignature();
    return core.accept(token, parsed, key, nowSeconds);
  }

  Object.defineProperties(verify, {
    ready: {
      get: () => {
        ready ??= Promise.all([core.remote?.prefetch().catch(() => undefined), revocations?.pollIfDue()]).then(() => undefined);
        return ready;
      },
    },
    close: { value: () => revocations?.stop() },
    pollRevocations: { value: async () => revocations?.poll() },
    revocations: { value: revocations?.status },
  });
  return Object.freeze(verify) as unknown as Verifier;
}
