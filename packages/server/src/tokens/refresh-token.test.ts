import { describe, expect, it } from "vitest";
import { formatRefreshToken, hashRefreshSecret, newRefreshSecret, newSessionId, parseRefreshToken, RefreshChain } from "./refresh-token.js";

const SECRET = new Uint8Array(32).fill(7);

describe("opaque refresh tokens", () => {
  it("round-trip as <sessionId>.<secret> with 256 bits of secret", () => {
    const sessionId = newSessionId();
    const secret = newRefreshSecret();
    expect(secret.byteLength).toBe(32);
    const parsed = parseRefreshToken(formatRefreshToken(sessionId, secret));
    expect(parsed?.sessionId).toBe(sessionId);
    expect(Buffer.from(parsed?.secret ?? []).equals(Buffer.from(secret))).toBe(true);
  });

  it.each([
    "",
    "abc",
    "a.b",
    `${"A".repeat(22)}.${"B".repeat(42)}`,
    `${"A".repeat(22)}.${"B".repeat(43)}=`,
    `${"A".repeat(22)}.${"B".repeat(43)}.x`,
    `${"A".repeat(21)}+.${"B".repeat(43)}`,
  ])("refuses the malformed token %j", (text) => {
    expect(parseRefreshToken(text)).toBeUndefined();
  });

  it("stores a hash that differs from the secret and is stable", () => {
    const secret = newRefreshSecret();
    expect(hashRefreshSecret(secret)).toBe(hashRefreshSecret(secret));
    expect(hashRefreshSecret(secret)).not.toContain(Buffer.from(secret).toString("base64url"));
  });
});

describe("RefreshChain", () => {
  it("derives the same successor for the same token and a different one per session and master secret", () => {
    const chain = new RefreshChain(SECRET);
    const secret = newRefreshSecret();
    const a = chain.successor("session-a", secret);
    expect(Buffer.from(chain.successor("session-a", secret)).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(chain.successor("session-b", secret)).equals(Buffer.from(a))).toBe(false);
    expect(Buffer.from(new RefreshChain(new Uint8Array(32).fill(8)).successor("session-a", secret)).equals(Buffer.from(a))).toBe(false);
  });

  it("recognises an ancestor within the step bound, and only then", () => {
    const chain = new RefreshChain(SECRET);
    const links = [newRefreshSecret()];
    for (let i = 0; i < 5; i++) links.push(chain.successor("s", links.at(-1) as Uint8Array));
    const retired = hashRefreshSecret(links[4] as Uint8Array);
    expect(chain.isAncestorOf("s", links[0] as Uint8Array, retired, 4)).toBe(true);
    expect(chain.isAncestorOf("s", links[0] as Uint8Array, retired, 3)).toBe(false);
    expect(chain.isAncestorOf("s", newRefreshSecret(), retired, 50)).toBe(false);
  });
});
