// Node's crypto backend: node:crypto, synchronous. The edge entry's is `webcrypto.ts`.
import { createHmac, createPublicKey, createSecretKey, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import type { Base64urlDecoder } from "./compact.js";
import { type BoundKey, isLowS, type PublicJwk } from "./jwk.js";
import type { CryptoBackend } from "./verifier-core.js";

export type { Algorithm } from "./jwk.js";

/**
 * Checks a signature with node:crypto (no crypto of our own), synchronously: measured faster
 * per request than WebCrypto's thread-pool jobs for every algorithm here (docs/benchmarks.md).
 */
export function verifySignature(bound: BoundKey<KeyObject>, signingInput: string, signature: Uint8Array): boolean {
  const data = Buffer.from(signingInput, "latin1");
  switch (bound.alg) {
    case "EdDSA":
      return signature.length === 64 && verify(null, data, bound.key, signature);
    case "ES256":
      // Low s only (see `isLowS`): a flipped signature of a genuine token is refused.
      if (signature.length !== 64 || !isLowS(signature)) return false;
      return verify("sha256", data, { key: bound.key, dsaEncoding: "ieee-p1363" }, signature);
    case "RS256":
      return verify("sha256", data, bound.key, signature);
    case "HS256": {
      if (signature.length !== 32) return false;
      return timingSafeEqual(createHmac("sha256", bound.key).update(data).digest(), signature);
    }
  }
}

/** Imports selected public JWKs; a malformed key is skipped, the others still serve. */
export function importJwks(selected: readonly PublicJwk[]): BoundKey<KeyObject>[] {
  const keys: BoundKey<KeyObject>[] = [];
  for (const { kid, alg, jwk } of selected) {
    try {
      keys.push({ kid, alg, key: createPublicKey({ key: jwk as never, format: "jwk" }) });
    } catch {
      // A malformed key is skipped; the others still serve.
    }
  }
  return keys;
}

/** Buffer's native base64url decoder: the alphabet and canonical form are checked before it runs. */
const decode: Base64urlDecoder = (segment) => Buffer.from(segment, "base64url");

export const nodeCrypto: CryptoBackend<KeyObject> = {
  decode,
  importJwks,
  importSecret: (bytes, kid) => ({ kid, alg: "HS256", key: createSecretKey(bytes) }),
  verifySignature,
};
