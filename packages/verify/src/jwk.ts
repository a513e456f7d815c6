// The runtime-neutral half of key handling: which JWKs may be used and for which one algorithm,
// HS256 secret rules, and the ES256 low-s rule. Node's `algorithms.ts` and the edge entry's
// `webcrypto.ts` import keys and check signatures on top of these.
import { P256_ORDER, type SigningAlgorithm } from "@hush/protocol";
import { decodeBase64url } from "./base64url.js";

/** An algorithm a verifier may accept: one of `SIGNING_ALGORITHMS` of `@hush/protocol`. */
export type Algorithm = SigningAlgorithm;

/** A verification key, imported once and bound to exactly one algorithm. `K` is the runtime's key type. */
export interface BoundKey<K = unknown> {
  kid: string | undefined;
  alg: Algorithm;
  key: K;
}

/** A public JWK selected for use, with the one algorithm it serves; not imported yet. */
export interface PublicJwk {
  kid: string | undefined;
  alg: Exclude<Algorithm, "HS256">;
  jwk: Record<string, unknown>;
}

/** The one algorithm a public JWK can serve, from its own `alg` or else its key type and curve. */
function algorithmOf(jwk: Record<string, unknown>): Algorithm | undefined {
  const implied =
    jwk.kty === "OKP" && jwk.crv === "Ed25519"
      ? "EdDSA"
      : jwk.kty === "EC" && jwk.crv === "P-256"
        ? "ES256"
        : jwk.kty === "RSA"
          ? "RS256"
          : undefined;
  if (jwk.alg === undefined) return implied;
  // A key that names an algorithm its type cannot do is unusable, not reinterpreted.
  return jwk.alg === implied ? implied : undefined;
}

/**
 * The usable keys of a JWK Set: public signing keys of an allowed algorithm. Private members,
 * symmetric keys and keys for encryption are skipped, never trusted. Throws on a value that
 * is not a JWK Set.
 */
export function selectJwks(jwks: unknown, allowed: ReadonlySet<Algorithm>): PublicJwk[] {
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new Error("not a JWK Set (no keys array)");
  }
  const selected: PublicJwk[] = [];
  for (const entry of (jwks as { keys: unknown[] }).keys) {
    if (typeof entry !== "object" || entry === null) continue;
    const jwk = entry as Record<string, unknown>;
    if ("d" in jwk || jwk.kty === "oct" || (jwk.use !== undefined && jwk.use !== "sig")) continue;
    const alg = algorithmOf(jwk);
    if (!alg || alg === "HS256" || !allowed.has(alg)) continue;
    selected.push({ kid: typeof jwk.kid === "string" ? jwk.kid : undefined, alg, jwk });
  }
  return selected;
}

/**
 * The bytes of an HS256 shared secret: raw bytes, or base64url text as `hush keys secret`
 * prints it. At least 32 bytes (RFC 8725 §3.5); a secret that could be a password is refused.
 */
export function secretBytes(secret: string | Uint8Array): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  if (typeof secret === "string") {
    if (!/^[A-Za-z0-9_-]+$/.test(secret) || secret.length % 4 === 1)
      throw new Error("options.secret must be base64url text (as `hush keys secret` prints it) or bytes");
    bytes = decodeBase64url(secret);
  } else {
    bytes = new Uint8Array(secret);
  }
  if (bytes.length < 32) throw new Error("options.secret must be at least 32 bytes (256 bits, RFC 8725 §3.5)");
  return bytes;
}

// An ES256 signature's `s` must be in the lower half of the group (see `P256_ORDER`).
const P256_HALF_N = Uint8Array.from((P256_ORDER >> 1n).toString(16).padStart(64, "0").match(/../g) as string[], (hex) =>
  Number.parseInt(hex, 16),
);

/**
 * ECDSA is malleable: (r, n − s) verifies whenever (r, s) does. Hush signs with low s and
 * accepts only low s, so one token has one spelling and a flipped one is refused. True when the
 * `s` half of a 64-byte P-256 signature is in [1, n/2].
 */
export function isLowS(signature: Uint8Array): boolean {
  let order = 0;
  let nonZero = false;
  for (let i = 0; i < 32; i++) {
    const byte = signature[32 + i] as number;
    if (byte !== 0) nonZero = true;
    if (order === 0) order = byte - (P256_HALF_N[i] as number);
  }
  return nonZero && order <= 0;
}
