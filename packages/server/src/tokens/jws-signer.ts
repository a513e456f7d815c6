import { createHmac, type KeyObject, sign } from "node:crypto";
import { P256_ORDER } from "@hush/protocol";
import type { SigningAlgorithm } from "../config/options.js";

/**
 * Signs a compact JWS with node:crypto, synchronously. The JOSE encoding is three lines; the
 * signature is node:crypto's. jose (used for every verification) signs through WebCrypto,
 * whose per-call job set-up cost about twice the main-thread time of this path on the refresh
 * hot path (see docs/benchmarks.md). Tokens made here are verified by jose in the tests.
 */
export function signCompactJws(alg: SigningAlgorithm, key: KeyObject, header: object | EncodedHeader, payload: object): string {
  const encodedHeader = header instanceof EncodedHeader ? header.text : base64url(JSON.stringify(header));
  const signingInput = `${encodedHeader}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(signingInput, "utf8");
  let signature: Buffer;
  switch (alg) {
    case "EdDSA":
      signature = sign(null, data, key);
      break;
    case "ES256":
      // JWS wants the raw r‖s form (RFC 7518 §3.4), not DER.
      signature = toLowS(sign("sha256", data, { key, dsaEncoding: "ieee-p1363" }));
      break;
    case "RS256":
      signature = sign("sha256", data, key);
      break;
    case "HS256":
      signature = createHmac("sha256", key).update(data).digest();
      break;
  }
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** A JWS header encoded once (base64url of its JSON), for a key that signs many tokens. */
export class EncodedHeader {
  readonly text: string;

  constructor(header: object) {
    this.text = base64url(JSON.stringify(header));
  }
}

/** The low-s form of an ES256 signature (see `P256_ORDER`). */
function toLowS(signature: Buffer): Buffer {
  const s = BigInt(`0x${signature.subarray(32).toString("hex")}`);
  if (s <= P256_ORDER >> 1n) return signature;
  const low = Buffer.from((P256_ORDER - s).toString(16).padStart(64, "0"), "hex");
  return Buffer.concat([signature.subarray(0, 32), low]);
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
