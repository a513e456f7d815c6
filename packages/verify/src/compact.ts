import { MAX_TOKEN_LENGTH } from "@hush/protocol";
import { decodeBase64url } from "./base64url.js";
import { TokenError } from "./token-error.js";

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// The last character of an unpadded base64url string may only carry zero bits past the data:
// with 2 leftover characters the last must be one of 4, with 3 one of 16 (RFC 4648 §3.5).
const LAST_OF_2 = /[AQgw]$/;
const LAST_OF_3 = /[AEIMQUYcgkosw048]$/;

/** Decodes base64url whose alphabet and canonical form have been checked: Buffer's on Node, `decodeBase64url` elsewhere. */
export type Base64urlDecoder = (segment: string) => Uint8Array;

/** A compact JWS split and decoded, not yet trusted. */
export interface ParsedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)`: the bytes the signature covers. */
  signingInput: string;
  signature: Uint8Array;
}

/** Strict base64url: the alphabet only (checked by the caller), no padding, canonical last character. */
function decodeSegment(segment: string, decode: Base64urlDecoder): Uint8Array {
  const rest = segment.length % 4;
  if (rest === 1 || (rest === 2 && !LAST_OF_2.test(segment)) || (rest === 3 && !LAST_OF_3.test(segment))) {
    throw new TokenError("malformed", "a token segment is not canonical base64url");
  }
  return decode(segment);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeJsonObject(segment: string, what: string, decode: Base64urlDecoder): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(decodeSegment(segment, decode)));
  } catch (error) {
    if (error instanceof TokenError) throw error;
    throw new TokenError("malformed", `the token ${what} is not UTF-8 JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TokenError("malformed", `the token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Splits a JWS in compact serialization (RFC 7515 §7.1) with no leniency: exactly three
 * segments of the base64url alphabet, canonical encodings, UTF-8 JSON objects. Size is
 * checked first, so an oversized token costs nothing. `maxLength` is `MAX_TOKEN_LENGTH` for
 * access tokens; only the revocation feed, with its own documented limit, passes another.
 */
export function parseCompact(token: string, decode: Base64urlDecoder = decodeBase64url, maxLength: number = MAX_TOKEN_LENGTH): ParsedToken {
  if (token.length > maxLength) throw new TokenError("too_large", `tokens over ${maxLength} characters are refused`);
  if (!COMPACT.test(token)) throw new TokenError("malformed", "not a JWS in compact serialization");
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  const header = decodeJsonObject(token.slice(0, first), "header", decode);
  const payload = decodeJsonObject(token.slice(first + 1, second), "payload", decode);
  return {
    header,
    payload,
    signingInput: token.slice(0, second),
    signature: decodeSegment(token.slice(second + 1), decode),
  };
}
