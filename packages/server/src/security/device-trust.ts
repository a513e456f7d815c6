import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { deriveKey } from "../keys/derive-key.js";

const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const TAG_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Device tokens (OWASP, "slow down online guessing attacks with device cookies"): a browser
 * that signs in to an account gets `<deviceId>.<HMAC(key, deviceId ‖ email)>`. On its next
 * attempts at that account it is a trusted device with a failure limit of its own, so an
 * attacker who knows only the email can lock out untrusted clients but never the owner's
 * browsers. Nothing is stored: the tag proves the server issued it for that very account.
 */
export class DeviceTrust {
  private readonly key: Uint8Array;

  constructor(masterSecret: Uint8Array) {
    this.key = deriveKey(masterSecret, "hush/device-token/v1");
  }

  /** A new device token for a browser that just proved it knows the account's password. */
  issue(email: string): string {
    const deviceId = randomBytes(16).toString("base64url");
    return `${deviceId}.${this.tag(deviceId, email)}`;
  }

  /** The device id when `token` was issued for `email` by this server; `undefined` otherwise. */
  deviceOf(token: string | undefined, email: string): string | undefined {
    if (!token) return undefined;
    const [deviceId = "", tag = "", extra] = token.split(".");
    if (extra !== undefined || !DEVICE_ID_PATTERN.test(deviceId) || !TAG_PATTERN.test(tag)) return undefined;
    const expected = Buffer.from(this.tag(deviceId, email));
    return timingSafeEqual(expected, Buffer.from(tag)) ? deviceId : undefined;
  }

  private tag(deviceId: string, email: string): string {
    return createHmac("sha256", this.key).update(`${deviceId}\n${email}`).digest("base64url");
  }
}
