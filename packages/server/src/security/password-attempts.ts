import type { DeviceTrust } from "./device-trust.js";
import type { LimitName, RateLimits } from "./rate-limits.js";

/** One reserved password check. A wrong password keeps the reservation: it was a failure. */
export interface PasswordAttempt {
  /** The password was right: the counter it was reserved on starts again. */
  succeeded(): Promise<void>;
}

/**
 * The per-account (or per-device) failure limit around every password check — login,
 * password change, and any later endpoint that checks a password. The attempt is reserved
 * atomically *before* the slow hash, so concurrent wrong guesses cannot overrun the limit
 * (checking first and counting after the hash let 60 parallel guesses through a limit of 10).
 */
export class PasswordAttempts {
  constructor(
    private readonly limits: RateLimits,
    private readonly devices: DeviceTrust,
  ) {}

  /**
   * Reserves one failure for `email`: on the browser's own counter when it carries a device
   * token issued for this account, else on the account's. Throws `429 rate_limited` when that
   * counter is used up.
   */
  async reserve(email: string, deviceToken: string | undefined): Promise<PasswordAttempt> {
    const deviceId = this.devices.deviceOf(deviceToken, email);
    const [name, key]: [LimitName, string] = deviceId ? ["loginFailuresPerDevice", deviceId] : ["loginFailuresPerAccount", email];
    await this.limits.consume(name, key);
    return { succeeded: () => this.limits.reset(name, key) };
  }
}
