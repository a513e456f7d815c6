import { hash } from "node:crypto";

/**
 * SHA-256 of `input` (UTF-8 text or bytes), base64url: what the database keeps of every secret
 * the server hands out (refresh secrets, link and MFA tokens, recovery codes, provider state).
 * One-shot, without a Hash object: these inputs are a few dozen bytes.
 */
export function sha256Base64url(input: string | Uint8Array): string {
  return hash("sha256", input, "base64url");
}
