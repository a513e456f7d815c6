import { describe, expect, it } from "vitest";
import { createSecretBox } from "./secret-box.js";

describe("createSecretBox", () => {
  const box = createSecretBox(new Uint8Array(32).fill(1));
  const plaintext = new TextEncoder().encode("private key bytes");

  it("opens what it sealed, with a fresh IV each time", () => {
    const sealed = box.seal(plaintext, "kid-1");
    expect(sealed).not.toBe(box.seal(plaintext, "kid-1"));
    expect(new TextDecoder().decode(box.open(sealed, "kid-1"))).toBe("private key bytes");
  });

  it("refuses a blob moved to another key id, a tampered blob, and another master secret", () => {
    const sealed = box.seal(plaintext, "kid-1");
    expect(() => box.open(sealed, "kid-2")).toThrow();
    const tampered = `${sealed.slice(0, -2)}${sealed.at(-2) === "A" ? "B" : "A"}${sealed.at(-1)}`;
    expect(() => box.open(tampered, "kid-1")).toThrow();
    expect(() => createSecretBox(new Uint8Array(32).fill(2)).open(sealed, "kid-1")).toThrow(/HUSH_SECRET differs/);
  });
});
