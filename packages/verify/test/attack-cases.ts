// The attack and strictness cases of the verifier, as data: attacks.test.ts runs them on Node,
// edge.test.ts runs the same list inside the edge runtime against `@hush/verify/edge`. Tokens
// are made here, with node:crypto; the runner (`attack-runner.ts`) only verifies.
import { createHmac, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import type { Algorithm } from "../src/index.js";
import { type AttackCase, type AttackStep, NOW, type OptionCase } from "./attack-runner.js";
import { AUDIENCE, b64, claimsAt, ISSUER, makeKey, malleate, rawSign, type TestKey, token } from "./token-factory.js";

export const ALGS: Algorithm[] = ["EdDSA", "ES256", "RS256", "HS256"];

/** Random mutations of the fuzz case: `FC_SEED` replays a run (its seed is in every case name). */
export const FUZZ_SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const FUZZ_RUNS = 300;

/** JSON options of a verifier that trusts `key` (HS256: its secret as base64url text). */
export function optionsFor(key: TestKey): Record<string, unknown> {
  const base = { issuer: ISSUER, audience: AUDIENCE };
  if (key.alg === "HS256") return { ...base, secret: [{ kid: key.kid, secret: b64(key.secret as Buffer) }] };
  return { ...base, keys: { keys: [key.jwk] } };
}

/** Re-signs header and payload exactly as given (strings, not objects), with the key's own algorithm. */
function signedRaw(key: TestKey, header: string, payload: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${b64(rawSign(key, input))}`;
}

function mutations(t: string): string[] {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
  const edits = fc.array(
    fc.record({
      kind: fc.constantFrom("replace", "insert", "delete"),
      at: fc.nat({ max: t.length - 1 }),
      char: fc.constantFrom(...alphabet.split("")),
    }),
    { minLength: 1, maxLength: 4 },
  );
  return fc
    .sample(edits, { numRuns: FUZZ_RUNS, seed: FUZZ_SEED })
    .map((list) => {
      let mutated = t;
      for (const e of list) {
        const i = Math.min(e.at, mutated.length);
        if (e.kind === "replace") mutated = mutated.slice(0, i) + e.char + mutated.slice(i + 1);
        else if (e.kind === "insert") mutated = mutated.slice(0, i) + e.char + mutated.slice(i);
        else mutated = mutated.slice(0, i) + mutated.slice(i + 1);
      }
      return mutated;
    })
    .filter((mutated) => mutated !== t);
}

/** Every forged-token case of one algorithm, cold and with a warm cache, plus expiry on a hit and the fuzz. */
function casesOf(alg: Algorithm): AttackCase[] {
  const key = makeKey(alg);
  const options = optionsFor(key);
  const group = `forged ${alg} tokens`;
  const valid = () => token(key, claimsAt(NOW));
  const cases: AttackCase[] = [];

  // Every attack runs twice: on a cold verifier, and after the cache already holds a valid token.
  for (const warm of [false, true]) {
    const label = warm ? " (cache warm)" : "";
    const add = (name: string, steps: Array<[string, string]>) =>
      cases.push({
        group,
        name: `${name}${label}`,
        options,
        steps: steps.map(([t, expect]): AttackStep => (warm ? { token: t, expect, warmWith: valid() } : { token: t, expect })),
      });

    add("accepts a genuine token", [[valid(), "accepted"]]);

    add(
      "refuses alg none in every casing",
      ["none", "None", "NONE", "nOnE"].flatMap((none): Array<[string, string]> => {
        const input = `${b64(JSON.stringify({ alg: none, typ: "at+jwt", kid: key.kid }))}.${b64(JSON.stringify(claimsAt(NOW)))}`;
        return [
          [`${input}.`, "unsupported_algorithm"],
          [`${input}.${valid().split(".")[2]}`, "unsupported_algorithm"],
        ];
      }),
    );

    if (alg !== "HS256") {
      const pem = key.publicKey?.export({ format: "pem", type: "spki" }) as string;
      const der = key.publicKey?.export({ format: "der", type: "spki" }) as Buffer;
      add(
        "refuses HS256 signed with the public key's bytes (PEM, DER, JWK JSON)",
        [Buffer.from(pem), der, Buffer.from(JSON.stringify(key.jwk))].map((secret): [string, string] => {
          const input = `${b64(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: key.kid }))}.${b64(JSON.stringify(claimsAt(NOW)))}`;
          return [`${input}.${b64(createHmac("sha256", secret).update(input).digest())}`, "unsupported_algorithm"];
        }),
      );
      const other = ALGS.find((a) => a !== alg && a !== "HS256") as Algorithm;
      add("refuses a token whose alg is not the one its key is bound to", [
        [token(key, claimsAt(NOW), { alg: other }), "unsupported_algorithm"],
      ]);
    }

    add("refuses unknown and injected kid values", [
      ...["nope", "../../../../dev/null", "' OR '1'='1", "x".repeat(2000), ""].map((kid): [string, string] => [
        token(key, claimsAt(NOW), { kid }),
        "unknown_key",
      ]),
      [token(key, claimsAt(NOW), { kid: 42 }), "malformed"],
    ]);

    const attacker = makeKey(alg, key.kid);
    add(
      "ignores keys embedded in the header (jwk, jku, x5u, x5c)",
      [
        { jwk: attacker.jwk ?? { kty: "oct", k: b64(attacker.secret as Buffer) } },
        { jku: "https://evil.example/jwks.json" },
        { x5u: "https://evil.example/cert.pem" },
        { x5c: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"] },
      ].map((embedded): [string, string] => [token(attacker, claimsAt(NOW), embedded), "bad_signature"]),
    );

    add("refuses crit and b64: false", [
      [token(key, claimsAt(NOW), { crit: ["exp"], exp: 1 }), "malformed"],
      [token(key, claimsAt(NOW), { b64: false, crit: ["b64"] }), "malformed"],
      [token(key, claimsAt(NOW), { b64: false }), "malformed"],
    ]);

    {
      const [h, p, s] = valid().split(".") as [string, string, string];
      const sigBytes = Buffer.from(s, "base64url");
      const flipped = Buffer.from(sigBytes);
      flipped[5] = (flipped[5] ?? 0) ^ 1;
      const steps: Array<[string, string]> = [
        [`${h}.${p}.`, "bad_signature"],
        [`${h}.${p}.${b64(Buffer.alloc(sigBytes.length))}`, "bad_signature"],
        [`${h}.${p}.${valid().split(".")[2]}`, "bad_signature"],
        [`${h}.${p}.${b64(flipped)}`, "bad_signature"],
        [`${h}.${p}.${b64(Buffer.concat([sigBytes, Buffer.from([0])]))}`, "bad_signature"],
      ];
      // The other spelling of a genuine ES256 signature, (r, n − s): it verifies, and must not.
      if (alg === "ES256") steps.push([`${h}.${p}.${b64(malleate(sigBytes))}`, "bad_signature"]);
      add("refuses empty, zero, foreign and flipped signatures", steps);
    }

    {
      const t = valid();
      const [h, p, s] = t.split(".") as [string, string, string];
      const steps = [
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
      ].map((forged): [string, string] => [forged, "malformed"]);
      // Non-canonical base64url: the same bytes with non-zero trailing bits.
      if (s.length % 4 !== 0) {
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const bumped = alphabet[alphabet.indexOf(s.at(-1) as string) + 1] as string;
        steps.push([`${h}.${p}.${s.slice(0, -1)}${bumped}`, "malformed"]);
      }
      add("refuses extra or missing segments, non-base64url characters and padding", steps);
    }

    {
      const header = JSON.stringify({ alg, kid: key.kid, typ: "at+jwt" });
      add(
        "refuses payloads that are not JSON objects",
        ["[1,2]", "42", '"claims"', "null", "{bad json", "\u00ff"].map((payload): [string, string] => [
          signedRaw(key, header, payload),
          "malformed",
        ]),
      );
    }

    add("refuses claims of the wrong type", [
      ...[
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
      ].map((overrides): [string, string] => [token(key, claimsAt(NOW, overrides)), "invalid_claims"]),
      [token(key, claimsAt(NOW, { aud: 123 })), "wrong_audience"],
      [token(key, claimsAt(NOW, { aud: [AUDIENCE, 5] })), "wrong_audience"],
    ]);

    const leeway = 5;
    add("applies the leeway at its edges for exp, nbf and iat", [
      [token(key, claimsAt(NOW, { exp: NOW - leeway })), "expired"],
      [token(key, claimsAt(NOW, { exp: NOW - leeway + 1 })), "accepted"],
      [token(key, claimsAt(NOW, { nbf: NOW + leeway + 1 })), "not_yet_valid"],
      [token(key, claimsAt(NOW, { nbf: NOW + leeway })), "accepted"],
      [token(key, claimsAt(NOW, { iat: NOW + leeway + 1 })), "issued_in_future"],
      [token(key, claimsAt(NOW, { iat: NOW + leeway })), "accepted"],
    ]);

    add("refuses a wrong iss, aud or typ", [
      ...[`${ISSUER}/`, ISSUER.toUpperCase(), `${ISSUER}.evil`, "https://evil.example", undefined].map((iss): [string, string] => [
        token(key, claimsAt(NOW, { iss })),
        "wrong_issuer",
      ]),
      ...["other-api", [], ["other-api"], `${AUDIENCE} `].map((aud): [string, string] => [
        token(key, claimsAt(NOW, { aud })),
        "wrong_audience",
      ]),
      ...["JWT", "rt+jwt", "rl+jwt", "at+jwt2", undefined].map((typ): [string, string] => [
        token(key, claimsAt(NOW), { typ }),
        "wrong_type",
      ]),
      ...["AT+JWT", "application/at+jwt", "Application/At+JWT"].map((typ): [string, string] => [
        token(key, claimsAt(NOW), { typ }),
        "accepted",
      ]),
    ]);

    add("refuses oversized tokens before decoding them", [
      [token(key, claimsAt(NOW, { pad: "x".repeat(9000) })), "too_large"],
      ["a".repeat(100_000), "too_large"],
    ]);
  }

  const t = valid();
  cases.push({
    group,
    name: "re-checks expiry on every cache hit",
    options,
    steps: [
      { token: t, expect: "accepted" },
      { token: t, expect: "expired", at: NOW + 606 },
    ],
  });

  const genuine = valid();
  cases.push({
    group,
    name: `never lets a random mutation of a valid token verify, nor throw anything but TokenError (seed ${FUZZ_SEED})`,
    options,
    steps: [{ token: genuine, expect: "accepted" }, ...mutations(genuine).map((m) => ({ token: m, expect: "refused" }))],
  });
  return cases;
}

/** The shared cases: every algorithm's forgeries, then how keys are bound to algorithms. */
export function attackCases(): AttackCase[] {
  const cases = ALGS.flatMap(casesOf);
  const ed = makeKey("EdDSA");
  const { privateKey } = generateKeyPairSync("ed25519");
  const privateJwk = { ...privateKey.export({ format: "jwk" }), kid: "priv" };
  const mismatched = { ...ed.jwk, kid: "mismatch", alg: "RS256" };
  cases.push({
    group: "verifier options",
    name: "binds each JWK to one algorithm and skips private or mismatched keys",
    options: { issuer: ISSUER, audience: AUDIENCE, keys: [ed.jwk, privateJwk, mismatched] },
    steps: [
      { token: token(ed, claimsAt(NOW)), expect: "accepted" },
      { token: token(ed, claimsAt(NOW), { kid: "priv" }), expect: "unknown_key" },
      { token: token(ed, claimsAt(NOW), { kid: "mismatch" }), expect: "unknown_key" },
    ],
  });
  return cases;
}

/** Options every `createVerifier` refuses at once, each with a pattern of the message naming the option. */
export function optionCases(): OptionCase[] {
  const jwk = makeKey("EdDSA").jwk;
  return [
    { options: { issuer: "", audience: "a", keys: [jwk] }, error: "options\\.issuer" },
    { options: { issuer: ISSUER, audience: [], keys: [jwk] }, error: "options\\.audience" },
    { options: { issuer: ISSUER, audience: "a" }, error: "exactly one" },
    { options: { issuer: ISSUER, audience: "a", keys: [jwk], secret: "x".repeat(43) }, error: "exactly one" },
    { options: { issuer: ISSUER, audience: "a", keys: [jwk], algorithms: ["none"] }, error: "options\\.algorithms" },
    { options: { issuer: ISSUER, audience: "a", secret: "c2hvcnQ" }, error: "32 bytes" },
    { options: { issuer: ISSUER, audience: "a", keys: [jwk], leewaySeconds: -1 }, error: "leewaySeconds" },
    { options: { issuer: ISSUER, audience: "a", keys: [{ kty: "oct", k: "abc" }] }, error: "options\\.keys" },
    {
      options: { issuer: ISSUER, audience: "a", keys: [jwk], revocations: { pollSeconds: 0 } },
      error: "options\\.revocations\\.pollSeconds",
    },
    {
      options: { issuer: ISSUER, audience: "a", keys: [jwk], revocations: { pollSeconds: 5, whenStale: "ignore" } },
      error: "options\\.revocations\\.whenStale",
    },
  ];
}
