/**
 * Largest access token anyone accepts, in characters (8 KiB). The auth server and every
 * verifier refuse a longer token before decoding a byte of it, so an oversized header costs
 * nothing. Hush's own tokens are well under 1 KiB; the room is for claims a hook adds.
 */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * The JWS algorithms Hush signs access tokens with; a deployment picks one
 * (`HUSH_SIGNING_ALG`). `none` is not, and never will be, one of them.
 */
export const SIGNING_ALGORITHMS = ["EdDSA", "ES256", "RS256", "HS256"] as const;

/** One of `SIGNING_ALGORITHMS`. */
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** True when `value` is one of `SIGNING_ALGORITHMS`, spelled exactly (JOSE names are case-sensitive). */
export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === "string" && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}
