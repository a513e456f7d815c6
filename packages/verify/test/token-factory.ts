import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { type Algorithm, isTokenError } from "../src/index.js";

export const ISSUER = "https://auth.example.test";
export const AUDIENCE = "notes-api";

/** A signing key of one algorithm, with its public JWK (or secret) for the verifier. */
export interface TestKey {
  alg: Algorithm;
  kid: string;
  privateKey: KeyObject | Buffer;
  publicKey?: KeyObject;
  jwk?: Record<string, unknown>;
  secret?: Buffer;
}

export function makeKey(alg: Algorithm, kid = `${alg}-key-1`): TestKey {
  if (alg === "HS256") {
    const secret = randomBytes(32);
    return { alg, kid, privateKey: secret, secret };
  }
  const pair =
    alg === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : alg === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    alg,
    kid,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    jwk: { ...pair.publicKey.export({ format: "jwk" }), kid, alg, use: "sig" },
  };
}

export const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url");

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Raw signature over `input` with the key's algorithm (ES256 in low-s form, as Hush signs). */
export function rawSign(key: TestKey, input: string): Buffer {
  const data = Buffer.from(input);
  const alg = key.alg;
  if (alg === "HS256")
    return createHmac("sha256", key.privateKey as Buffer)
      .update(data)
      .digest();
  if (alg === "EdDSA") return sign(null, data, key.privateKey as KeyObject);
  if (alg === "ES256") {
    const sig = sign("sha256", data, { key: key.privateKey as KeyObject, dsaEncoding: "ieee-p1363" });
    const s = BigInt(`0x${sig.subarray(32).toString("hex")}`);
    if (s <= P256_N >> 1n) return sig;
    return Buffer.concat([sig.subarray(0, 32), Buffer.from((P256_N - s).toString(16).padStart(64, "0"), "hex")]);
  }
  return sign("sha256", data, key.privateKey as KeyObject);
}

/** Flips an ES256 signature to its other valid spelling, (r, n − s). */
export function malleate(signature: Buffer): Buffer {
  const s = BigInt(`0x${signature.subarray(32).toString("hex")}`);
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_N - s).toString(16).padStart(64, "0"), "hex")]);
}

export function claimsAt(nowSeconds: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: "user-1",
    aud: AUDIENCE,
    iat: nowSeconds,
    exp: nowSeconds + 600,
    jti: randomBytes(8).toString("hex"),
    sid: "session-aaaaaaaaaaaaaaaa",
    client_id: "hush-web",
    ...overrides,
  };
}

/** Builds a compact JWS; any part may be overridden to forge. */
export function token(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const h = { alg: key.alg, kid: key.kid, typ: "at+jwt", ...header };
  const input = `${b64(JSON.stringify(h))}.${b64(JSON.stringify(payload))}`;
  return `${input}.${b64(rawSign(key, input))}`;
}

/** What a verification came to: `accepted`, or the `TokenError` code it was refused with. */
export const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "accepted",
    (e) => (isTokenError(e) ? e.code : String(e)),
  );
