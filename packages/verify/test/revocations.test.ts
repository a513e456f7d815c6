import { afterEach, describe, expect, it } from "vitest";
import { createVerifier, type Verifier } from "../src/index.js";
import { type LocalIssuer, startLocalIssuer } from "./local-issuer.js";
import { AUDIENCE, claimsAt, codeOf, makeKey, token } from "./token-factory.js";

let clockMs = 1_800_000_000_000;
const now = () => clockMs;
let issuer: LocalIssuer | undefined;
let verify: Verifier | undefined;
afterEach(async () => {
  verify?.close();
  await issuer?.close();
  issuer = undefined;
  verify = undefined;
});

describe("revocation list (feed client)", () => {
  it("asks for deltas once it holds a list, merges them, and falls back to the full list when one does not apply", async () => {
    const key = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([key], now);
    const nowS = Math.floor(clockMs / 1000);
    issuer.revoked = [{ sid: "first-session-aaaaaaaa", until: nowS + 600 }];
    const warnings: string[] = [];
    verify = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      jwksUrl: issuer.jwksUrl,
      now,
      revocations: { pollSeconds: 3600 },
      onWarning: (m) => warnings.push(m),
    });
    await verify.ready;
    clockMs += 5_000;
    // A delta from the list held: merged, the first entry stays.
    issuer.revoked = [{ sid: "second-session-bbbbbbb", until: nowS + 600 }];
    issuer.listClaims = { since: nowS };
    await verify.pollRevocations();
    expect(verify.revocations).toMatchObject({ size: 2, fullLists: 1, deltas: 1, iat: nowS + 5 });
    for (const sid of ["first-session-aaaaaaaa", "second-session-bbbbbbb"])
      expect(await codeOf(verify(token(key, claimsAt(nowS, { iss: issuer.url, sid }))))).toBe("revoked");
    // A delta that starts after the list held would skip entries: refused, then the full list.
    clockMs += 5_000;
    issuer.listClaims = { since: nowS + 7 };
    await verify.pollRevocations();
    expect(verify.revocations).toMatchObject({ deltas: 1, failures: 1 });
    expect(warnings.join("\n")).toContain("does not apply to the list held");
    issuer.listClaims = {};
    await verify.pollRevocations();
    expect(issuer.feedQueries).toEqual(["", `?since=${nowS}`, `?since=${nowS + 5}`, ""]);
    expect(verify.revocations).toMatchObject({ fullLists: 2, size: 2 });
  });

  it("lets no list un-revoke a session: entries leave only when their until passes", async () => {
    const key = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([key], now);
    const nowS = Math.floor(clockMs / 1000);
    issuer.revoked = [{ sid: "revoked-session-aaaaa", until: nowS + 60 }];
    verify = createVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, now, revocations: { pollSeconds: 3600 } });
    await verify.ready;
    issuer.revoked = [];
    clockMs += 2_000;
    await verify.pollRevocations();
    expect(await codeOf(verify(token(key, claimsAt(clockMs / 1000, { iss: issuer.url, sid: "revoked-session-aaaaa" }))))).toBe("revoked");
    clockMs += 60_000;
    await verify.pollRevocations();
    expect(verify.revocations?.size).toBe(0);
    expect(await codeOf(verify(token(key, claimsAt(clockMs / 1000, { iss: issuer.url, sid: "revoked-session-aaaaa" }))))).toBe("accepted");
  });

  it("validates its options once, naming the option", () => {
    const base = { issuer: "https://auth.example.com", audience: AUDIENCE, keys: [makeKey("EdDSA", "k1").jwk] };
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ pollSeconds: 0 }, "options.revocations.pollSeconds"],
      [{ pollSeconds: 5, maxListBytes: 10 }, "options.revocations.maxListBytes"],
      [{ pollSeconds: 5, maxStaleSeconds: -1 }, "options.revocations.maxStaleSeconds"],
      [{ pollSeconds: 5, whenStale: "ignore" }, "options.revocations.whenStale"],
    ];
    for (const [revocations, name] of bad) expect(() => createVerifier({ ...base, revocations: revocations as never })).toThrow(name);
  });
});
