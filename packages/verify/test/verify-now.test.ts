import { afterEach, describe, expect, it } from "vitest";
import { createVerifier, isTokenError } from "../src/index.js";
import { type LocalIssuer, startLocalIssuer } from "./local-issuer.js";
import { AUDIENCE, claimsAt, ISSUER, makeKey, token } from "./token-factory.js";

const nowMs = 1_800_000_000_000;
const now = () => nowMs;
let issuer: LocalIssuer | undefined;
afterEach(async () => {
  await issuer?.close();
  issuer = undefined;
});

describe("verify.verifyNow", () => {
  it("answers synchronously with configured keys: claims, or a TokenError thrown at once", () => {
    const key = makeKey("EdDSA");
    const verify = createVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: [key.jwk], now });
    const claims = verify.verifyNow(token(key, claimsAt(nowMs / 1000)));
    expect(claims).not.toBeInstanceOf(Promise);
    expect(claims).toMatchObject({ sub: "user-1", aud: AUDIENCE });
    expect(() => verify.verifyNow("x".repeat(8193))).toThrow(expect.objectContaining({ code: "too_large" }));
    expect(() => verify.verifyNow(token(key, claimsAt(nowMs / 1000 - 3600)))).toThrow(expect.objectContaining({ code: "expired" }));
  });

  it("returns a promise only while the JWKS has to be fetched, then answers synchronously", async () => {
    const key = makeKey("ES256", "k1");
    issuer = await startLocalIssuer([key], now);
    const verify = createVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, now });
    const signed = token(key, claimsAt(nowMs / 1000, { iss: issuer.url }));
    const first = verify.verifyNow(signed);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ sub: "user-1" });
    // A new token under the same, freshly fetched key: no fetch, no promise.
    const again = verify.verifyNow(token(key, claimsAt(nowMs / 1000, { iss: issuer.url })));
    expect(again).not.toBeInstanceOf(Promise);
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(1);
  });

  it("rejects through the promise when the fetch is what fails", async () => {
    const key = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([key], now);
    issuer.down = true;
    const verify = createVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, now, onWarning: () => {} });
    const pending = verify.verifyNow(token(key, claimsAt(nowMs / 1000, { iss: issuer.url })));
    expect(pending).toBeInstanceOf(Promise);
    const error = await Promise.resolve(pending).catch((e: unknown) => e);
    expect(isTokenError(error) && error.code).toBe("jwks_unavailable");
  });
});
