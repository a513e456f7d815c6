import { hkdfSync } from "node:crypto";

/**
 * Derives an independent 256-bit key from the master secret with HKDF-SHA256. Every purpose
 * (key encryption, refresh chains, stateless refresh tokens) has its own `info` label, so a key
 * for one purpose is never usable for another.
 */
export function deriveKey(secret: Uint8Array, info: string, salt: Uint8Array | string = ""): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, salt, info, 32));
}
