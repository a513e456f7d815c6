import { describe, expect, it } from "vitest";
import { formatRefreshToken, hashRefreshSecret, newSessionId, parseRefreshToken, RefreshChain } from "./refresh-token.js";

const SECRET = new Uint8Array(32).fill(7);
const chain = new RefreshChain(SECRET);

describe("opaque refresh tokens", () => {
  it("round-trip as <sessionId>.<secret> with 256 bits of secret", () => {
    const sessionId = newSessionId();
    const secret = chain.first(sessionId);
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
    const secret = chain.first("s");
    expect(hashRefreshSecret(secret)).toBe(hashRefreshSecret(secret));
    expect(hashRefreshSecret(secret)).not.toContain(Buffer.from(secret).toString("base64url"));
  });
});

describe("RefreshChain", () => {
  it("derives the same successor for the same token and a different one per session and master secret", () => {
    const secret = chain.first("session-a");
    const a = chain.successor("session-a", secret);
    expect(Buffer.from(chain.successor("session-a", secret)).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(chain.successor("session-b", secret)).equals(Buffer.from(a))).toBe(false);
    expect(Buffer.from(new RefreshChain(new Uint8Array(32).fill(8)).successor("session-a", secret)).equals(Buffer.from(a))).toBe(false);
  });

  it("tags every secret it issues, for its own session only, and no forged one", () => {
    const first = chain.first("s");
    expect(chain.isGenuine("s", first)).toBe(true);
    expect(chain.isGenuine("s", chain.successor("s", first))).toBe(true);
    expect(chain.isGenuine("t", first)).toBe(false);
    expect(chain.isGenuine("s", new Uint8Array(32).fill(1))).toBe(false);
    expect(new RefreshChain(new Uint8Array(32).fill(8)).isGenuine("s", first)).toBe(false);
  });

  it("walks forward to a later link within the step bound, and only then", () => {
    const links = [chain.first("s")];
    for (let i = 0; i < 5; i++) links.push(chain.successor("s", links.at(-1) as Uint8Array));
    const target = hashRefreshSecret(links[4] as Uint8Array);
    const found = chain.walkTo("s", links[0] as Uint8Array, target, 4);
    expect(found?.steps).toBe(4);
    expect(Buffer.from(found?.link ?? []).equals(Buffer.from(links[4] as Uint8Array))).toBe(true);
    expect(chain.walkTo("s", links[0] as Uint8Array, target, 3)).toBeUndefined();
    expect(chain.walkTo("s", chain.first("s"), target, 50)).toBeUndefined();
  });
});
