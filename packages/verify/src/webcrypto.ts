// The edge entry's crypto backend: WebCrypto (`crypto.subtle`) only, asynchronous, on any
// runtime that has it (Vercel Edge, Cloudflare Workers, Deno, Bun, Node). No `node:` import.
import { decodeBase64url } from "./base64url.js";
import { type Algorithm, type BoundKey, isLowS, type PublicJwk } from "./jwk.js";
import type { CryptoBackend } from "./verifier-core.js";

type ImportParams = AlgorithmIdentifier | EcKeyImportParams | RsaHashedImportParams | HmacImportParams;

const IMPORT: Record<Algorithm, ImportParams> = {
  EdDSA: { name: "Ed25519" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  HS256: { name: "HMAC", hash: "SHA-256" },
};

const VERIFY: Record<Algorithm, AlgorithmIdentifier | EcdsaParams> = {
  EdDSA: { name: "Ed25519" },
  ES256: { name: "ECDSA", hash: "SHA-256" },
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  HS256: { name: "HMAC" },
};

/**
 * Only the public members of a key, by key type: WebCrypto checks `alg`, `use`, `key_ops` and
 * `ext` against the import (and they were already judged by `selectJwks`).
 */
function publicMembers(jwk: Record<string, unknown>): JsonWebKey {
  if (jwk.kty === "RSA") return { kty: "RSA", n: jwk.n, e: jwk.e } as JsonWebKey;
  if (jwk.kty === "EC") return { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y } as JsonWebKey;
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JsonWebKey;
}

const ascii = new TextEncoder();

/**
 * Checks a signature with `crypto.subtle`. The same rules as Node's `verifySignature`, checked
 * before WebCrypto is asked: exact lengths, and for ES256 low s only (WebCrypto accepts both).
 */
export async function verifySignature(bound: BoundKey<CryptoKey>, signingInput: string, signature: Uint8Array): Promise<boolean> {
  switch (bound.alg) {
    case "EdDSA":
    case "HS256":
      if (signature.length !== (bound.alg === "EdDSA" ? 64 : 32)) return false;
      break;
    case "ES256":
      if (signature.length !== 64 || !isLowS(signature)) return false;
      break;
    case "RS256":
      break;
  }
  try {
    return await crypto.subtle.verify(VERIFY[bound.alg], bound.key, signature as Uint8Array<ArrayBuffer>, ascii.encode(signingInput));
  } catch {
    // A signature WebCrypto cannot even process (an RSA one of the wrong length) does not verify.
    return false;
  }
}

/**
 * A WebCrypto backend. `onWarning` hears, once per key, of a public key this runtime cannot
 * import (a runtime without Ed25519, say): tokens it signed are then refused as `unknown_key`.
 */
export function webCrypto(onWarning: (message: string) => void): CryptoBackend<CryptoKey> {
  const warned = new Set<string>();
  return {
    decode: decodeBase64url,
    async importJwks(selected: readonly PublicJwk[]) {
      const imported = await Promise.all(
        selected.map(async ({ kid, alg, jwk }): Promise<BoundKey<CryptoKey> | undefined> => {
          try {
            return { kid, alg, key: await crypto.subtle.importKey("jwk", publicMembers(jwk), IMPORT[alg], false, ["verify"]) };
          } catch (error) {
            const name = `${kid ?? "(no kid)"} (${alg})`;
            if (!warned.has(name)) {
              warned.add(name);
              onWarning(`hush verify: WebCrypto could not import the key ${name} and skips it: ${String(error)}`);
            }
            return undefined;
          }
        }),
      );
      return imported.filter((key) => key !== undefined);
    },
    async importSecret(bytes, kid) {
      return { kid, alg: "HS256", key: await crypto.subtle.importKey("raw", bytes, IMPORT.HS256, false, ["verify"]) };
    },
    verifySignature,
  };
}
