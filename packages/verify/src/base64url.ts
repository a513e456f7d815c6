// Runtime-neutral base64url decoding (no Buffer): the edge entry's decoder. Node's entry passes
// Buffer's faster native one to the same parser instead.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

const value = (text: string, i: number): number => VALUES[text.charCodeAt(i)] ?? -1;

/**
 * Decodes unpadded base64url (RFC 4648 §5). Throws on a character outside the alphabet or a
 * length no encoding has (4n + 1); the canonical last character is the caller's check.
 */
export function decodeBase64url(text: string): Uint8Array<ArrayBuffer> {
  const rest = text.length % 4;
  if (rest === 1) throw new Error("not base64url (length)");
  const full = text.length - rest;
  const out = new Uint8Array((full / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let j = 0;
  for (let i = 0; i < full; i += 4) {
    const v = (value(text, i) << 18) | (value(text, i + 1) << 12) | (value(text, i + 2) << 6) | value(text, i + 3);
    if (v < 0) throw new Error("not base64url (alphabet)");
    out[j++] = v >> 16;
    out[j++] = (v >> 8) & 255;
    out[j++] = v & 255;
  }
  if (rest > 0) {
    const v = (value(text, full) << 18) | (value(text, full + 1) << 12) | (rest === 3 ? value(text, full + 2) << 6 : 0);
    if (v < 0 || (rest === 3 && value(text, full + 2) < 0)) throw new Error("not base64url (alphabet)");
    out[j++] = v >> 16;
    if (rest === 3) out[j] = (v >> 8) & 255;
  }
  return out;
}
