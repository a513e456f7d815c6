import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { deriveKey } from "./derive-key.js";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals private key material at rest with AES-256-GCM under a key derived from HUSH_SECRET.
 * The key id is bound in as associated data, so a sealed blob moved to another row won't open.
 */
export interface SecretBox {
  seal(plaintext: Uint8Array, associatedData: string): string;
  open(sealed: string, associatedData: string): Uint8Array;
}

/** Creates a `SecretBox` for a master secret. */
export function createSecretBox(masterSecret: Uint8Array): SecretBox {
  const key = deriveKey(masterSecret, "hush/key-encryption/v1");
  return {
    seal(plaintext, associatedData) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(associatedData, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")}`;
    },
    open(sealed, associatedData) {
      const [version, payload] = sealed.split(".");
      if (version !== VERSION || !payload) throw new Error("sealed key has an unknown format");
      const bytes = Buffer.from(payload, "base64url");
      const iv = bytes.subarray(0, IV_BYTES);
      const tag = bytes.subarray(bytes.length - TAG_BYTES);
      const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(Buffer.from(associatedData, "utf8"));
      decipher.setAuthTag(tag);
      try {
        return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
      } catch {
        throw new Error("a signing key could not be decrypted: HUSH_SECRET differs from the one that sealed it");
      }
    },
  };
}
