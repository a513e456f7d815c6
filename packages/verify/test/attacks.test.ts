import { createHmac, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Algorithm, createVerifier, isTokenError, type TokenErrorCode } from "../src/index.js";
import { AUDIENCE, b64, claimsAt, ISSUER, makeKey, malleate, rawSign, type TestKey, token } from "./token-factory.js";

const NOW = 1_800_000_000;
const clock = { seconds: NOW };

function verifierFor(key: TestKey, extra: Parameters<typeof createVerifier>[0] extends infer O ? Partial<O> : never = {}) {
  const base = { issuer: ISSUER, audience: AUDIENCE, now: () => clock.seconds * 1000 };
  if (key.alg === "HS256") return createVerifier({ ...base, secret: [{ kid: key.kid, secret: key.secret as Buffer }], ...extra });
  return createVerifier({ ...base, keys: { keys: [key.jwk] }, ...extra });
}

async function codeOf(promise: Promise<unknown>): Promise<TokenErrorCode | "accepted" | "not a TokenError"> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    return isTokenError(error) ? error.code : "not a TokenError";
  }
}

/** Re-signs header and payload exactly as given (strings, not objects), with the key's own algorithm. */
function signedRaw(key: TestKey, header: string, payload: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${b64(rawSign(key, input))}`;
}

const ALGS: Algorithm[] = ["EdDSA", "ES256", "RS256", "HS256"];

for (const alg of ALGS) {
  describe(`forged ${alg} tokens`, () => {
    const key = makeKey(alg);
    const verify = verifierFor(key);
    const valid = () => token(key, claimsAt(NOW));

    // Every attack runs twice: on a cold verifier, and after the cache already holds a valid token.
    for (const warm of [false, true]) {
      const label = warm ? " (cache warm)" : "";
      const attack = async (forged: string) => {
        clock.seconds = NOW;
        if (warm) await verify(valid());
        return codeOf(verify(forged));
      };

      it(`accepts a genuine token${label}`, async () => {
        expect(await attack(valid())).toBe("accepted");
      });

      it(`refuses alg none in every casing${label}`, async () => {
        for (const none of ["none", "None", "NONE", "nOnE"]) {
          const input = `${b64(JSON.stringify({ alg: none, typ: "at+jwt", kid: key.kid }))}.${b64(JSON.stringify(claimsAt(NOW)))}`;
          expect(await attack(`${input}.`)).toBe("unsupported_algorithm");
          expect(await attack(`${input}.${valid().split(".")[2]}`)).toBe("unsupported_algorithm");
        }
      });

      if (alg !== "HS256") {
        it(`refuses HS256 signed with the public key's bytes (PEM, DER, JWK JSON)${label}`, async () => {
          const pem = key.publicKey?.export({ format: "pem", type: "spki" }) as string;
          const der = key.publicKey?.export({ format: "der", type: "spki" }) as Buffer;
          for (const secret of [Buffer.from(pem), der, Buffer.from(JSON.stringify(key.jwk))]) {
            const input = `${b64(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: key.kid }))}.${b64(JSON.stringify(claimsAt(NOW)))}`;
            const forged = `${input}.${b64(createHmac("sha256", secret).update(input).digest())}`;
            expect(await attack(forged)).toBe("unsupported_algorithm");
          }
        });

        it(`refuses a token whose alg is not the one its key is bound to${label}`, async () => {
          const other = ALGS.find((a) => a !== alg && a !== "HS256") as Algorithm;
          expect(await attack(token(key, claimsAt(NOW), { alg: other }))).toBe("unsupported_algorithm");
        });
      }

      it(`refuses unknown and injected kid values${label}`, async () => {
        for (const kid of ["nope", "../../../../dev/null", "' OR '1'='1", "x".repeat(2000), ""]) {
          expect(await attack(token(key, claimsAt(NOW), { kid }))).toBe("unknown_key");
        }
        expect(await attack(token(key, claimsAt(NOW), { kid: 42 }))).toBe("malformed");
      });

      it(`ignores keys embedded in the header (jwk, jku, x5u, x5c)${label}`, async () => {
        const attacker = makeKey(alg, key.kid);
        for (const embedded of [
          { jwk: attacker.jwk ?? { kty: "oct", k: b64(attacker.secret as Buffer) } },
          { jku: "https://evil.example/jwks.json" },
          { x5u: "https://evil.example/cert.pem" },
          { x5c: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"] },
        ]) {
          expect(await attack(token(attacker, claimsAt(NOW), embedded))).toBe("bad_signature");
        }
      });

      it(`refuses crit and b64: false${label}`, async () => {
        expect(await attack(token(key, claimsAt(NOW), { crit: ["exp"], exp: 1 }))).toBe("malformed");
        expect(await attack(token(key, claimsAt(NOW), { b64: false, crit: ["b64"] }))).toBe("malformed");
        expect(await attack(token(key, claimsAt(NOW), { b64: false }))).toBe("malformed");
      });

      it(`refuses empty, zero, foreign and flipped signatures${label}`, async () => {
        const [h, p, s] = valid().split(".") as [string, string, string];
        expect(await attack(`${h}.${p}.`)).toBe("bad_signature");
        const sigBytes = Buffer.from(s, "base64url");
        expect(await attack(`${h}.${p}.${b64(Buffer.alloc(sigBytes.length))}`)).toBe("bad_signature");
        const foreign = valid().split(".")[2];
        expect(await attack(`${h}.${p}.${foreign}`)).toBe("bad_signature");
        const flipped = Buffer.from(sigBytes);
        flipped[5] = (flipped[5] ?? 0) ^ 1;
        expect(await attack(`${h}.${p}.${b64(flipped)}`)).toBe("bad_signature");
        const longer = Buffer.concat([sigBytes, Buffer.from([0])]);
        expect(await attack(`${h}.${p}.${b64(longer)}`)).toBe("bad_signature");
        if (alg === "ES256") {
          expect(await attack(`${h}.${p}.${b64(malleate(sigBytes))}`)).toBe("bad_signature");
        }
      });

      it(`refuses extra or missing segments, non-base64url characters and padding${label}`, async () => {
        const t = valid();
        const [h, p, s] = t.split(".") as [string, string, string];
        for (const forged of [
          `${h}.${p}`,
          h,
          `${t}.${s}`,
          `${h}..${s}`,
          `.${p}.${s}`,
          `${h}.${p}.${s}=`,
          `${h}=.${p}.${s}`,
          `${h}.${p}+.${s}`,
          `${h}.${p}/.${s}`,
          ` ${t}`,
          `${t}\n`,
          `${h}.${p}.${s.slice(0, -1)}*`,
        ]) {
          expect(await attack(forged)).toBe("malformed");
        }
        // Non-canonical base64url: the same bytes with non-zero trailing bits.
        const last = s.at(-1) as string;
        if (s.length % 4 !== 0) {
          const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
          const bumped = alphabet[alphabet.indexOf(last) + 1] as string;
          expect(await attack(`${h}.${p}.${s.slice(0, -1)}${bumped}`)).toBe("malformed");
        }
      });

      it(`refuses payloads that are not JSON objects${label}`, async () => {
        const header = JSON.stringify({ alg, kid: key.kid, typ: "at+jwt" });
        for (const payload of ["[1,2]", "42", '"claims"', "null", "{bad json", "\u00ff"]) {
          expect(await attack(signedRaw(key, header, payload))).toBe("malformed");
        }
      });

      it(`refuses claims of the wrong type${label}`, async () => {
        for (const overrides of [
          { exp: String(NOW + 600) },
          { iat: undefined },
          { iat: "now" },
          { nbf: "later" },
          { sub: 42 },
          { sub: undefined },
          { jti: undefined },
          { client_id: undefined },
          { sid: 7 },
          { exp: undefined },
        ]) {
          expect(await attack(token(key, claimsAt(NOW, overrides)))).toBe("invalid_claims");
        }
        expect(await attack(token(key, claimsAt(NOW, { aud: 123 })))).toBe("wrong_audience");
        expect(await attack(token(key, claimsAt(NOW, { aud: [AUDIENCE, 5] })))).toBe("wrong_audience");
      });

      it(`applies the leeway at its edges for exp, nbf and iat${label}`, async () => {
        const leeway = 5;
        expect(await attack(token(key, claimsAt(NOW, { exp: NOW - leeway })))).toBe("expired");
        expect(await attack(token(key, claimsAt(NOW, { exp: NOW - leeway + 1 })))).toBe("accepted");
        expect(await attack(token(key, claimsAt(NOW, { nbf: NOW + leeway + 1 })))).toBe("not_yet_valid");
        expect(await attack(token(key, claimsAt(NOW, { nbf: NOW + leeway })))).toBe("accepted");
        expect(await attack(token(key, claimsAt(NOW, { iat: NOW + leeway + 1 })))).toBe("issued_in_future");
        expect(await attack(token(key, claimsAt(NOW, { iat: NOW + leeway })))).toBe("accepted");
      });

      it(`refuses a wrong iss, aud or typ${label}`, async () => {
        for (const iss of [`${ISSUER}/`, ISSUER.toUpperCase(), `${ISSUER}.evil`, "https://evil.example", undefined]) {
          expect(await attack(token(key, claimsAt(NOW, { iss })))).toBe("wrong_issuer");
        }
        for (const aud of ["other-api", [], ["other-api"], `${AUDIENCE} `]) {
          expect(await attack(token(key, claimsAt(NOW, { aud })))).toBe("wrong_audience");
        }
        for (const typ of ["JWT", "rt+jwt", "rl+jwt", "at+jwt2", undefined]) {
          expect(await attack(token(key, claimsAt(NOW), { typ }))).toBe("wrong_type");
        }
        for (const typ of ["AT+JWT", "application/at+jwt", "Application/At+JWT"]) {
          expect(await attack(token(key, claimsAt(NOW), { typ }))).toBe("accepted");
        }
      });

      it(`refuses oversized tokens before decoding them${label}`, async () => {
        expect(await attack(token(key, claimsAt(NOW, { pad: "x".repeat(9000) })))).toBe("too_large");
        expect(await attack("a".repeat(100_000))).toBe("too_large");
      });
    }

    it("re-checks expiry on every cache hit", async () => {
      clock.seconds = NOW;
      const t = valid();
      expect(await codeOf(verify(t))).toBe("accepted");
      clock.seconds = NOW + 606;
      expect(await codeOf(verify(t))).toBe("expired");
      clock.seconds = NOW;
    });

    it("never lets a random mutation of a valid token verify, nor throw anything but TokenError", async () => {
      clock.seconds = NOW;
      const t = valid();
      await verify(t);
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              kind: fc.constantFrom("replace", "insert", "delete"),
              at: fc.nat({ max: t.length - 1 }),
              char: fc.constantFrom(...alphabet.split("")),
            }),
            { minLength: 1, maxLength: 4 },
          ),
          async (edits) => {
            let mutated = t;
            for (const e of edits) {
              const i = Math.min(e.at, mutated.length);
              if (e.kind === "replace") mutated = mutated.slice(0, i) + e.char + mutated.slice(i + 1);
              else if (e.kind === "insert") mutated = mutated.slice(0, i) + e.char + mutated.slice(i);
              else mutated = mutated.slice(0, i) + mutated.slice(i + 1);
            }
            fc.pre(mutated !== t);
            const code = await codeOf(verify(mutated));
            expect(code).not.toBe("accepted");
            expect(code).not.toBe("not a TokenError");
          },
        ),
        { numRuns: 300 },
      );
    });
  });
}

describe("verifier options", () => {
  it("refuses bad options with an error naming the option", () => {
    const key = makeKey("EdDSA");
    expect(() => createVerifier({ issuer: "", audience: "a", keys: [key.jwk] })).toThrow(/options\.issuer/);
    expect(() => createVerifier({ issuer: ISSUER, audience: [], keys: [key.jwk] })).toThrow(/options\.audience/);
    expect(() => createVerifier({ issuer: ISSUER, audience: "a" })).toThrow(/exactly one/);
    expect(() => createVerifier({ issuer: ISSUER, audience: "a", keys: [key.jwk], secret: "x".repeat(43) })).toThrow(/exactly one/);
    expect(() => createVerifier({ issuer: ISSUER, audience: "a", keys: [key.jwk], algorithms: ["none" as Algorithm] })).toThrow(
      /options\.algorithms/,
    );
    expect(() => createVerifier({ issuer: ISSUER, audience: "a", secret: "c2hvcnQ" })).toThrow(/32 bytes/);
    expect(() => createVerifier({ issuer: ISSUER, audience: "a", keys: [key.jwk], leewaySeconds: -1 })).toThrow(/leewaySeconds/);
    expect(() => createVerifier({ issuer: ISSUER, audience: "a", keys: [{ kty: "oct", k: "abc" }] })).toThrow(/options\.keys/);
  });

  it("binds each JWK to one algorithm and skips private or mismatched keys", async () => {
    const ed = makeKey("EdDSA");
    const { privateKey } = generateKeyPairSync("ed25519");
    const privateJwk = { ...privateKey.export({ format: "jwk" }), kid: "priv" };
    const mismatched = { ...ed.jwk, kid: "mismatch", alg: "RS256" };
    const verify = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [ed.jwk, privateJwk, mismatched], now: () => NOW * 1000 });
    expect(await codeOf(verify(token(ed, claimsAt(NOW))))).toBe("accepted");
    expect(await codeOf(verify(token(ed, claimsAt(NOW), { kid: "priv" })))).toBe("unknown_key");
    expect(await codeOf(verify(token(ed, claimsAt(NOW), { kid: "mismatch" })))).toBe("unknown_key");
  });
});
