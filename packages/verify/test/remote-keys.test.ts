import { afterEach, describe, expect, it } from "vitest";
import { createVerifier } from "../src/index.js";
import { type LocalIssuer, startLocalIssuer } from "./local-issuer.js";
import { AUDIENCE, claimsAt, codeOf, makeKey, token } from "./token-factory.js";

let clockMs = 1_800_000_000_000;
const now = () => clockMs;
let issuer: LocalIssuer | undefined;
afterEach(async () => {
  await issuer?.close();
  issuer = undefined;
});

describe("JWKS from the issuer", () => {
  it("fetches once, caches, and re-fetches on an unknown kid so a rotation needs no restart", async () => {
    const first = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([first], now);
    const verify = createVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, now, jwksCooldownSeconds: 10 });
    await verify.ready;
    const claims = (s: number) => claimsAt(s, { iss: issuer?.url });
    const nowS = clockMs / 1000;
    for (let i = 0; i < 5; i++) expect(await codeOf(verify(token(first, claims(nowS))))).toBe("accepted");
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(1);
    // The issuer rotates: a token signed with the new key triggers one re-fetch.
    const second = makeKey("EdDSA", "k2");
    issuer.keys = [second, first];
    clockMs += 11_000;
    expect(await codeOf(verify(token(second, claims(nowS))))).toBe("accepted");
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(2);
  });

  it("rate-limits re-fetches: a flood of unknown kids costs one fetch per cooldown", async () => {
    const key = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([key], now);
    const verify = createVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, now, jwksCooldownSeconds: 10 });
    await verify.ready;
    const forged = Array.from({ length: 50 }, (_, i) =>
      token(makeKey("EdDSA", `forged-${i}`), claimsAt(clockMs / 1000, { iss: issuer?.url })),
    );
    clockMs += 11_000;
    const codes = await Promise.all(forged.map((t) => codeOf(verify(t))));
    expect(new Set(codes)).toEqual(new Set(["unknown_key"]));
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(2);
    await codeOf(verify(forged[0] as string));
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(2);
    clockMs += 11_000;
    await codeOf(verify(forged[0] as string));
    expect(issuer.hits["/.well-known/jwks.json"]).toBe(3);
  });

  it("drops cached tokens whose key left the JWKS", async () => {
    const old = makeKey("EdDSA", "old");
    issuer = await startLocalIssuer([old], now);
    const verify = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      jwksUrl: issuer.jwksUrl,
      now,
      jwksMaxAgeSeconds: 60,
      jwksCooldownSeconds: 1,
    });
    await verify.ready;
    const t = token(old, claimsAt(clockMs / 1000, { iss: issuer.url }));
    expect(await codeOf(verify(t))).toBe("accepted");
    const fresh = makeKey("EdDSA", "new");
    issuer.keys = [fresh];
    clockMs += 2_000;
    // Any unknown kid (here the new key's) makes the verifier re-read the set.
    expect(await codeOf(verify(token(fresh, claimsAt(clockMs / 1000, { iss: issuer.url }))))).toBe("accepted");
    expect(await codeOf(verify(t))).toBe("unknown_key");
  });

  it("answers jwks_unavailable when the issuer cannot be reached and no key is known", async () => {
    const key = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([key], now);
    issuer.down = true;
    const verify = createVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksUrl: issuer.jwksUrl, now, jwksCooldownSeconds: 0 });
    await verify.ready;
    expect(await codeOf(verify(token(key, claimsAt(clockMs / 1000, { iss: issuer.url }))))).toBe("jwks_unavailable");
    issuer.down = false;
    expect(await codeOf(verify(token(key, claimsAt(clockMs / 1000, { iss: issuer.url }))))).toBe("accepted");
  });
});

describe("revocation feed polling", () => {
  it("refuses tokens of listed sessions, also on cache hits, and keeps the last good list when the feed fails", async () => {
    const key = makeKey("EdDSA", "k1");
    issuer = await startLocalIssuer([key], now);
    const warnings: string[] = [];
    const verify = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      jwksUrl: issuer.jwksUrl,
      now,
      revocations: { pollSeconds: 3600 },
      onWarning: (m) => warnings.push(m),
    });
    await verify.ready;
    const nowS = Math.floor(clockMs / 1000);
    const victim = token(key, claimsAt(nowS, { iss: issuer.url, sid: "revoked-session-aaaaa" }));
    const bystander = token(key, claimsAt(nowS, { iss: issuer.url, sid: "other-session-bbbbbbb" }));
    expect(await codeOf(verify(victim))).toBe("accepted");
    issuer.revoked = [{ sid: "revoked-session-aaaaa", until: nowS + 600 }];
    // Poll now rather than wait an hour: the same method the timer calls.
    await verify.pollRevocations();
    expect(await codeOf(verify(victim))).toBe("revoked");
    expect(await codeOf(verify(bystander))).toBe("accepted");
    issuer.down = true;
    await verify.pollRevocations();
    expect(warnings.some((w) => w.includes("keeping the last good list of 1 sessions"))).toBe(true);
    expect(await codeOf(verify(victim))).toBe("revoked");
    // After `until`, the entry no longer applies even if the list is stale.
    clockMs += 601_000;
    const later = token(key, claimsAt(Math.floor(clockMs / 1000), { iss: issuer.url, sid: "revoked-session-aaaaa" }));
    expect(await codeOf(verify(later))).toBe("accepted");
  });
});
