import { createHmac, createPublicKey, createSecretKey, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import { P256_ORDER, type SigningAlgorithm } from "@hush/protocol";

/** An algorithm a verifier may accept: one of `SIGNING_ALGORITHMS` of `@hush/protocol`. */
export type Algorithm = SigningAlgorithm;

/** A verification key, imported once and bound to exactly one algorithm. */
export interface BoundKey {
  kid: string | undefined;
  alg: Algorithm;
  key: KeyObject;
}

// An ES256 signature's `s` must be in the lower half of the group (see `P256_ORDER`).
const P256_HALF_N = P256_ORDER >> 1n;

/**
 * Checks a signature with node:crypto (no crypto of our own), synchronously: measured faster
 * per request than WebCrypto's thread-pool jobs for every algorithm here (docs/benchmarks.md).
 */
export function verifySignature(bound: BoundKey, signingInput: string, signature: Buffer): boolean {
  const data = Buffer.from(signingInput, "latin1");
  switch (bound.alg) {
    case "EdDSA":
      return signature.length === 64 && verify(null, data, bound.key, signature);
    case "ES256": {
      if (signature.length !== 64) return false;
      // ECDSA is malleable: (r, n − s) verifies whenever (r, s) does. Hush signs with low s
      // and accepts only low s, so one token has one spelling and a flipped one is refused.
      const s = BigInt(`0x${signature.subarray(32).toString("hex")}`);
      if (s === 0n || s > P256_HALF_N) return false;
      return verify("sha256", data, { key: bound.key, dsaEncoding: "ieee-p1363" }, signature);
    }
    case "RS256":
      return verify("sha256", data, bound.key, signature);
    case "HS256": {
      if (signature.length !== 32) return false;
      return timingSafeEqual(createHmac("sha256", bound.key).update(data).digest(), signature);
    }
  }
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
 * Imports the usable keys of a JWK Set: public signing keys of an allowed algorithm. Private
 * members, symmetric keys and keys for encryption are skipped, never trusted.
 */
export function importJwks(jwks: unknown, allowed: ReadonlySet<Algorithm>): BoundKey[] {
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new Error("not a JWK Set (no keys array)");
  }
  const keys: BoundKey[] = [];
  for (const entry of (jwks as { keys: unknown[] }).keys) {
    if (typeof entry !== "object" || entry === null) continue;
    const jwk = entry as Record<string, unknown>;
    if ("d" in jwk || jwk.kty === "oct" || (jwk.use !== undefined && jwk.use !== "sig")) continue;
    const alg = algorithmOf(jwk);
    if (!alg || alg === "HS256" || !allowed.has(alg)) continue;
    try {
      const key = createPublicKey({ key: jwk as never, format: "jwk" });
      keys.push({ kid: typeof jwk.kid === "string" ? jwk.kid : undefined, alg, key });
    } catch {
      // A malformed key is skipped; the others still serve.
    }
  }
  return keys;
}

/**
 * Imports an HS256 shared secret: raw bytes, or base64url text as `hush keys secret` prints it.
 * At least 32 bytes (RFC 8725 §3.5); a secret that could be a password is refused.
 */
export function importSecret(secret: string | Uint8Array, kid?: string): BoundKey {
  let bytes: Buffer;
  if (typeof secret === "string") {
    if (!/^[A-Za-z0-9_-]+$/.test(secret))
      throw new Error("options.secret must be base64url text (as `hush keys secret` prints it) or bytes");
    bytes = Buffer.from(secret, "base64url");
  } else {
    bytes = Buffer.from(secret);
  }
  if (bytes.length < 32) throw new Error("options.secret must be at least 32 bytes (256 bits, RFC 8725 §3.5)");
  return { kid, alg: "HS256", key: createSecretKey(bytes) };
}
