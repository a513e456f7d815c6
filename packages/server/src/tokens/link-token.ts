import { randomBytes } from "node:crypto";
import type { LinkPurpose, LinkTokenRecord } from "../storage/contract.js";
import { sha256Base64url } from "./digest.js";

/** A link token as mailed: `<id>.<secret>`, 128-bit id and 256-bit secret, base64url. */
const LINK_TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** SHA-256 of a link secret, base64url: all the database keeps. */
export function hashLinkSecret(secret: string): string {
  return sha256Base64url(secret);
}

/** Mints a link token for one purpose and address; the record holds only the secret's hash. */
export function mintLinkToken(
  purpose: LinkPurpose,
  userId: string,
  email: string,
  ttlSeconds: number,
  now: number,
): { token: string; record: LinkTokenRecord } {
  const id = randomBytes(16).toString("base64url");
  const secret = randomBytes(32).toString("base64url");
  return {
    token: `${id}.${secret}`,
    record: {
      id,
      userId,
      purpose,
      email,
      secretHash: hashLinkSecret(secret),
      createdAt: now,
      expiresAt: now + ttlSeconds * 1000,
      usedAt: null,
    },
  };
}

/** The id and secret hash of a well-formed link token; `undefined` for anything else. */
export function parseLinkToken(token: string): { id: string; secretHash: string } | undefined {
  const match = LINK_TOKEN.exec(token);
  if (!match?.[1] || !match[2]) return undefined;
  return { id: match[1], secretHash: hashLinkSecret(match[2]) };
}
