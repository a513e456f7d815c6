import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { hash, verify } from "@node-rs/argon2";
import { createConcurrencyLimit } from "./concurrency-limit.js";

/** argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane). */
export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** `Algorithm.Argon2id` of @node-rs/argon2, an ambient const enum that isolated modules cannot import. */
const ARGON2ID = 2;

const PARAMS_TEXT = `m=${ARGON2_PARAMS.memoryCost},t=${ARGON2_PARAMS.timeCost},p=${ARGON2_PARAMS.parallelism}`;

/**
 * argon2id through `@node-rs/argon2`, whose hash and verify run on libuv's thread pool: a burst
 * of logins never blocks the event loop that serves refreshes.
 */
export class PasswordHasher {
  /**
   * At most one hash per core but one runs at a time, so one core is always left to the
   * event loop (on 2 cores: one hash at a time, which is also the throughput maximum).
   */
  private readonly limit = createConcurrencyLimit(Math.max(1, availableParallelism() - 1));
  /** A hash of a random password, verified against when the email is unknown (same work, same time). */
  private readonly dummyHash: Promise<string>;

  constructor() {
    this.dummyHash = this.hash(randomBytes(32).toString("base64url"));
  }

  hash(password: string): Promise<string> {
    return this.limit(() => hash(password, { algorithm: ARGON2ID, ...ARGON2_PARAMS }));
  }

  /** Verifies; a malformed stored hash counts as a mismatch, never as an error. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    // An account made by a provider has no password (an empty hash): the same work, then no.
    if (passwordHash === "") return this.verifyDummy(password);
    try {
      return await this.limit(() => verify(passwordHash, password));
    } catch {
      return false;
    }
  }

  /** Spends the same work as `verify` for an unknown account, and always fails. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.dummyHash, password);
    return false;
  }

  /** True when a stored hash was made with other parameters and should be re-hashed at login. */
  needsRehash(passwordHash: string): boolean {
    return !passwordHash.startsWith("$argon2id$") || !passwordHash.includes(`$${PARAMS_TEXT}$`);
  }
}
