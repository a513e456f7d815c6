import { readFileSync } from "node:fs";
import { PASSWORD_MAX_LENGTH } from "../config/options.js";
import { HushError } from "../errors.js";

const COMMON_PASSWORDS_FILE = new URL("../../assets/common-passwords.txt", import.meta.url);

let commonPasswords: string | undefined;

/**
 * The shipped list of the 100,000 most common passwords (8+ characters), lower-cased, loaded
 * once as one string, `\n` around every entry. A `Set` of 100,000 strings cost the server about
 * 20 MB of resident memory for a check made only at sign-up and password change; scanning one
 * string of under a megabyte takes well under a millisecond, beside tens of ms of argon2id.
 */
function loadCommonPasswords(): string {
  commonPasswords ??= `\n${readFileSync(COMMON_PASSWORDS_FILE, "utf8").toLowerCase()}\n`;
  return commonPasswords;
}

/**
 * Normalises a password the way it is hashed: Unicode NFKC, so one password typed on two
 * keyboards is the same password (NIST SP 800-63B §5.1.1.2). Nothing is trimmed or truncated.
 */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/**
 * The password policy: `minLength`–256 characters (counted as code points), any Unicode, not
 * only white space, and none of the common passwords (compared case-insensitively). Throws
 * `weak_password`.
 */
export class PasswordPolicy {
  private readonly common = loadCommonPasswords();

  constructor(private readonly minLength: number) {}

  check(password: string): void {
    const length = [...password].length;
    if (length < this.minLength) {
      throw new HushError("weak_password", `The password must be at least ${this.minLength} characters long.`);
    }
    if (length > PASSWORD_MAX_LENGTH) {
      throw new HushError("weak_password", `The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);
    }
    // Eight spaces (or no-break spaces, which NFKC has already made spaces) are no secret.
    if (/^\s*$/u.test(password)) {
      throw new HushError("weak_password", "The password must not be only spaces.");
    }
    if (this.common.includes(`\n${password.toLowerCase()}\n`)) {
      throw new HushError("weak_password", "This password is too common. Choose a less predictable one.");
    }
  }
}
