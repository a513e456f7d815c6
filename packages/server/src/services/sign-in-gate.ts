import { randomBytes } from "node:crypto";
import type { ResolvedOptions } from "../config/options.js";
import { HushError } from "../errors.js";
import type { Storage, UserRecord } from "../storage/contract.js";
import { sha256Base64url } from "../tokens/digest.js";
import type { RequestMeta } from "./request-meta.js";
import type { IssuedTokens, TokenIssuer } from "./token-issuer.js";
import type { SecondFactorProof, TwoFactor } from "./two-factor.js";

/** An `mfaToken` lives five minutes and dies after five wrong codes. */
const MFA_TOKEN_TTL_MS = 5 * 60 * 1000;
export const MFA_TOKEN_MAX_FAILURES = 5;
/** What the client may offer at `POST /auth/mfa/verify`. */
const MFA_METHODS = ["totp", "recovery_code"];

/** A change that waits for the second factor: nothing about the account changes before it is proven. */
export type PendingAction = { kind: "reset"; passwordHash: string };

/** What an `mfaToken` remembers of the first factor. */
interface MfaContext {
  amr: string[];
  pending?: PendingAction;
}

const hashToken = sha256Base64url;
const invalidMfaToken = () => new HushError("invalid_mfa_token", "This sign-in step has expired or was already used. Sign in again.");

/** The first factor was right and the account has a second one. */
function mfaRequired(mfaToken: string): HushError {
  return new HushError(
    "mfa_required",
    "Enter a code from your authenticator app, or a recovery code.",
    {},
    { mfaToken, methods: MFA_METHODS },
  );
}

/**
 * The one way in: every flow that has proven who someone is (a password, an emailed link, a
 * passkey, later a provider) ends here. A user with a second factor whose sign-in has not used
 * one gets `403 mfa_required` with a single-use `mfaToken` instead of tokens, and whatever the
 * flow was about to change (a reset's new password) waits in that token until the second factor
 * is proven.
 */
export class SignInGate {
  private applyPending: (user: UserRecord, action: PendingAction) => Promise<UserRecord> = () => {
    throw new Error("no handler for pending sign-in actions");
  };

  constructor(
    private readonly storage: Storage,
    private readonly tokens: TokenIssuer,
    private readonly twoFactor: TwoFactor,
    private readonly options: ResolvedOptions,
  ) {}

  /** Registers what carries out a pending action (the email flows, for a reset). */
  onPending(apply: (user: UserRecord, action: PendingAction) => Promise<UserRecord>): void {
    this.applyPending = apply;
  }

  /**
   * Signs `user` in after a first factor (`amr`), or throws `mfa_required` when they have a
   * second factor and `amr` holds no `mfa`. `pending` is carried out before the session starts.
   */
  async complete(user: UserRecord, amr: readonly string[], meta: RequestMeta, pending?: PendingAction): Promise<IssuedTokens> {
    if (!amr.includes("mfa") && (await this.twoFactor.isEnrolled(user.id))) {
      const mfaToken = randomBytes(32).toString("base64url");
      const context: MfaContext = { amr: [...amr], pending };
      await this.storage.createMfaToken({
        id: hashToken(mfaToken),
        userId: user.id,
        context: JSON.stringify(context),
        expiresAt: this.options.now() + MFA_TOKEN_TTL_MS,
        usedAt: null,
        failures: 0,
      });
      throw mfaRequired(mfaToken);
    }
    const signedIn = pending ? await this.applyPending(user, pending) : user;
    return this.tokens.signIn(signedIn, meta, { amr });
  }

  /**
   * `POST /auth/mfa/verify`: the second factor for an `mfaToken`. A wrong code counts against
   * the token (five, and it dies) and the account's failed-login limit; of concurrent right
   * answers exactly one signs in. Returns the tokens and whether the first factor was a password.
   */
  async verify(mfaToken: string, proof: SecondFactorProof, meta: RequestMeta): Promise<IssuedTokens & { passwordUsed: boolean }> {
    const id = hashToken(mfaToken);
    const now = this.options.now();
    const found = await this.storage.findMfaToken(id, now, MFA_TOKEN_MAX_FAILURES);
    if (!found) throw invalidMfaToken();
    const user = await this.storage.findUserById(found.userId);
    if (!user || user.suspendedAt !== null) throw invalidMfaToken();
    try {
      await this.twoFactor.prove(user, proof, meta);
    } catch (error) {
      if (error instanceof HushError && error.code === "invalid_code") await this.storage.countMfaTokenFailure(id);
      throw error;
    }
    const used = await this.storage.useMfaToken(id, now, MFA_TOKEN_MAX_FAILURES);
    if (!used) throw invalidMfaToken();
    const context = JSON.parse(used.context) as MfaContext;
    const amr = [...new Set([...context.amr, "otp", "mfa"])];
    const signedIn = context.pending ? await this.applyPending(user, context.pending) : user;
    return { ...(await this.tokens.signIn(signedIn, meta, { amr })), passwordUsed: context.amr.includes("pwd") };
  }
}
